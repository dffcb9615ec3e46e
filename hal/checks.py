"""Value checks that more than one backend constructor needs.

Each raises :class:`ConfigurationError` as ``"key: expected ..., got ..."``, the form
``chargebox check-config`` turns into ``file: key: what was expected``.
"""

from __future__ import annotations

import serial

from hal.errors import ConfigurationError


def check_baudrate(baudrate: int, key: str = "baudrate") -> None:
    """A serial port's rate must be one of the standard ones pyserial knows: a rate of 0 or -9600
    fails only when the port is opened, and a garbled one (96000) opens and reads nothing but noise."""
    if baudrate not in serial.SerialBase.BAUDRATES:
        rates = ", ".join(map(str, serial.SerialBase.BAUDRATES))
        raise ConfigurationError(f"{key}: expected a standard baud rate ({rates}), got {baudrate!r}")
