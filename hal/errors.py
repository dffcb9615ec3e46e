"""The HAL's exception root.

Leaves also inherit the matching builtin so callers may catch either (DESIGN.md, style 5).
Library errors are wrapped at the boundary with ``raise ... from err``.
"""


class HalError(Exception):
    """Root of every error the HAL raises."""


class DeviceTimeout(HalError, TimeoutError):
    """A device did not answer in time."""


class DeviceUnavailable(HalError, ConnectionError):
    """A device cannot be reached: port missing, connection refused, adapter unplugged."""


class FrameError(HalError, ValueError):
    """A frame on the wire was garbled (bad checksum, bad length, bad characters)."""


class ImplausibleValue(HalError, ValueError):
    """A device answered, but with a value that cannot be true (a meter running backwards...)."""


class BackendUnavailable(HalError, ImportError):
    """A backend's library is not installed or does not work on this board."""


class ConfigurationError(HalError, ValueError):
    """A backend was given options it cannot work with."""
