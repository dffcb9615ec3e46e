"""Typed events and values that devices produce. Plain data; no OCPP here."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class PilotState(StrEnum):
    """IEC 61851-1 control pilot states, as seen on the pilot line."""

    A = "A"  # +12 V: no vehicle
    B = "B"  # +9 V: vehicle connected, not ready
    C = "C"  # +6 V: vehicle ready, charging
    D = "D"  # +3 V: vehicle ready, ventilation required
    E = "E"  # 0 V: short circuit / no power
    F = "F"  # -12 V: EVSE not available / fault


class FaultKind(StrEnum):
    """Hardware faults a device can report. The engine maps them to protocol error codes."""

    READER = "reader"
    METER = "meter"
    POWER_SWITCH = "power_switch"
    CONNECTOR_LOCK = "connector_lock"
    MODE3 = "mode3"
    HIGH_TEMPERATURE = "high_temperature"
    OVER_CURRENT = "over_current"
    UNDER_VOLTAGE = "under_voltage"
    GROUND = "ground"
    WEAK_SIGNAL = "weak_signal"
    MODEM = "modem"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class CardPresented:
    """A card was put on a reader: one event per presentation, not per frame."""

    uid: bytes
    reader: str = "reader"

    @property
    def id_token(self) -> str:
        """The UID as upper-case hex, byte 0 first (OCPP 1.6 section 3.9)."""
        return self.uid.hex().upper()


@dataclass(frozen=True, slots=True)
class MeterReading:
    """One poll of a kWh meter. Energy in Wh; per-phase values are tuples in phase order.

    ``taken_at`` is the loop time (monotonic seconds) at which the registers were read.
    Measurands the meter does not offer are ``None`` or absent from ``extra``.
    """

    energy_import_wh: float
    taken_at: float
    energy_export_wh: float | None = None
    power_w: float | None = None
    current_a: tuple[float, ...] = ()
    voltage_v: tuple[float, ...] = ()
    frequency_hz: float | None = None
    temperature_c: float | None = None
    extra: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MeterIdentity:
    """What a meter tells about itself, for BootNotification (meterSerialNumber, meterType)."""

    model: str
    serial_number: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceFault:
    """A device reports a fault, or (``active=False``) that it has cleared."""

    kind: FaultKind
    active: bool = True
    detail: str = ""


@dataclass(frozen=True, slots=True)
class SmsReceived:
    """A short message the modem received (3GPP TS 27.005 text mode), read from its storage.

    The text may carry secrets (a Central System's wake-up token...): ``repr`` shows its length and
    the sender's last digits only, so logging an event never leaks it.
    """

    sender: str
    text: str
    index: int  # where the modem stored it; deleted once the consumer has taken it
    sent_at: str = ""  # the service centre time stamp as the modem gives it ("yy/MM/dd,hh:mm:ss+zz")
    storage: str = ""  # the modem's storage that holds it (27.005 3.2.2 <mem>: "SM", "ME"), with index

    def __repr__(self) -> str:
        return f"SmsReceived(sender='…{self.sender[-4:]}', text=<{len(self.text)} characters>, index={self.index})"


@dataclass(frozen=True, slots=True)
class SignalQuality:
    """One signal quality report (AT+CSQ, 3GPP TS 27.007 8.5); ``None`` where the modem does not know.

    ``rssi_dbm`` is the received signal strength (-113 means -113 dBm or less, -51 means -51 dBm or
    more); ``ber`` the channel bit error rate class 0..7. ``taken_at`` is loop time.
    """

    rssi_dbm: int | None
    ber: int | None
    taken_at: float


@dataclass(frozen=True, slots=True)
class ModemIdentity:
    """What the SIM tells about itself, for BootNotification (iccid, imsi; 6.3)."""

    iccid: str | None
    imsi: str | None
