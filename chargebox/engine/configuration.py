"""The box's OCPP configuration keys: typed, validated, persisted, effective at once.

ChangeConfiguration and GetConfiguration (spec 5.3, 5.8, 6.9.1) read and write these; the engine
reads them through :meth:`Configuration.integer`, :meth:`~Configuration.flag` and
:meth:`~Configuration.measurands`, and ``watch`` lets a timer pick up a new value without a restart.
Values are held as their wire text (``string[500]``), so what GetConfiguration reports is exactly
what was set. The site config gives the defaults (``[ocpp]`` table); a value the Central System set
is persisted and wins over the default after a restart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum, auto

from chargebox.ocpp.enums import ConfigurationStatus, Measurand
from chargebox.store.settings import Settings


class Kind(Enum):
    INT = auto()  # a whole number >= minimum
    BOOL = auto()  # "true" / "false" (case-insensitive on input)
    MEASURANDS = auto()  # a comma-separated list of Measurand values (6.9.1 "CSL")
    TEXT = auto()


@dataclass(frozen=True, slots=True)
class Key:
    name: str
    kind: Kind
    default: str
    readonly: bool = False
    minimum: int = 0
    doc: str = ""
    #: Readonly to the Central System, but the site config's [ocpp] table may set it: what the box's
    #: hardware and storage allow (issue 19: a local list of 100,000 entries).
    site: bool = False


def _keys(*keys: Key) -> dict[str, Key]:
    return {key.name.casefold(): key for key in keys}


#: Every supported key. Standard 1.5 keys (6.9.1), the deprecated ones kept for compatibility, and the
#: 1.6 keys whose rules the box follows where 1.5 is silent (1.6 sections 3.5-3.7, 9.1).
KEYS: dict[str, Key] = _keys(
    Key("HeartBeatInterval", Kind.INT, "900", minimum=1, doc="seconds of inactivity before a Heartbeat (4.6)"),
    Key("ConnectionTimeOut", Kind.INT, "60", minimum=1, doc="seconds from authorization until a cable must be plugged"),
    Key("ResetRetries", Kind.INT, "3", doc="times to retry an unsuccessful reset"),
    Key("BlinkRepeat", Kind.INT, "0", doc="times to blink the box's lighting when signalling (no lighting: stored only)"),
    Key("LightIntensity", Kind.INT, "100", doc="percent of maximum lighting intensity (no lighting: stored only)"),
    Key("MeterValueSampleInterval", Kind.INT, "60", doc="seconds between transaction samples, from its start; 0 disables"),
    Key("ClockAlignedDataInterval", Kind.INT, "0", doc="seconds of the clock-aligned intervals from midnight; 0 disables"),
    Key("MeterValuesSampledData", Kind.MEASURANDS, "Energy.Active.Import.Register",
        doc="measurands sent every MeterValueSampleInterval"),
    Key("MeterValuesAlignedData", Kind.MEASURANDS, "Energy.Active.Import.Register",
        doc="measurands sent every ClockAlignedDataInterval"),
    Key("StopTxnSampledData", Kind.MEASURANDS, "", doc="sampled measurands in StopTransaction's transactionData"),
    Key("StopTxnAlignedData", Kind.MEASURANDS, "", doc="clock-aligned measurands in StopTransaction's transactionData"),
    Key("ProximityLockRetries", Kind.INT, "0", doc="deprecated (6.9.1); stored only"),
    Key("ProximityContactRetries", Kind.INT, "0", doc="deprecated (6.9.1); stored only"),
    Key("ChargePointId", Kind.TEXT, "", readonly=True, doc="deprecated (6.9.1); the chargeBoxIdentity"),
    Key("AuthorizationCacheEnabled", Kind.BOOL, "true", doc="remember IdTagInfo from the Central System (1.6 3.5.1)"),
    Key("LocalAuthListEnabled", Kind.BOOL, "true", doc="use the Local Authorization List (1.6 3.5.2)"),
    Key("LocalAuthListMaxLength", Kind.INT, "50000", readonly=True, site=True, doc="most entries the local list takes"),
    Key("SendLocalListMaxLength", Kind.INT, "50000", readonly=True, site=True,
        doc="most entries one SendLocalList takes"),
    Key("LocalAuthorizeOffline", Kind.BOOL, "true", doc="offline, start for a valid tag in the list or cache"),
    Key("LocalPreAuthorize", Kind.BOOL, "false", doc="online, start at once for a valid local tag, no Authorize"),
    Key("AllowOfflineTxForUnknownId", Kind.BOOL, "false", doc="offline, start for a tag known nowhere"),
    Key("StopTransactionOnInvalidId", Kind.BOOL, "true",
        doc="stop a session whose StartTransaction comes back not Accepted (else stop energy only)"),
    Key("TransactionMessageAttempts", Kind.INT, "3", minimum=1, doc="tries of a transaction message that fails"),
    Key("TransactionMessageRetryInterval", Kind.INT, "60", doc="seconds; try n waits n times this (1.6 3.7.1)"),
    Key("AuthorizationCacheMaxLength", Kind.INT, "1000", minimum=1, doc="entries the cache keeps"),
    Key("OfflineRetryInterval", Kind.INT, "30", minimum=1,
        doc="seconds between attempts to reach an unreachable Central System (the box's own key)"),
    Key("NumberOfConnectors", Kind.INT, "1", readonly=True, doc="connectors of this box"),
    Key("ReservationEnabled", Kind.BOOL, "true", doc="accept ReserveNow; when false it is Rejected (7.32)"),
    Key("ReserveConnectorZeroSupported", Kind.BOOL, "true", readonly=True,
        doc="a reservation for connector 0 (any connector) is possible (1.6 9.1)"),
)


def _parse_bool(text: str) -> bool | None:
    return {"true": True, "false": False}.get(text.strip().casefold())


def _parse_measurands(text: str) -> list[Measurand] | None:
    names = [part.strip() for part in text.split(",") if part.strip()]
    known = {m.value.casefold(): m for m in Measurand}
    found = [known.get(name.casefold()) for name in names]
    return None if any(m is None for m in found) else [m for m in found if m is not None]


def normalise(key: Key, text: str) -> str | None:
    """The canonical text for ``text`` as a value of ``key``; None when it is not a valid value."""
    if len(text) > 500:  # ChangeConfiguration.req value is string[500] (6.9)
        return None
    if key.kind is Kind.INT:
        try:
            number = int(text.strip())
        except ValueError:
            return None
        return str(number) if number >= key.minimum else None
    if key.kind is Kind.BOOL:
        flag = _parse_bool(text)
        return None if flag is None else ("true" if flag else "false")
    if key.kind is Kind.MEASURANDS:
        measurands = _parse_measurands(text)
        return None if measurands is None else ",".join(m.value for m in measurands)
    return text


_PREFIX = "ocpp:"  # a key's row in the settings table is ocpp:<Key>


class Configuration:
    """The current values; ``change`` is ChangeConfiguration, ``entries`` serves GetConfiguration."""

    def __init__(self, settings: Settings, defaults: Mapping[str, str] | None = None) -> None:
        self._settings = settings
        self._values = {key.name: key.default for key in KEYS.values()}
        for name, text in (defaults or {}).items():
            key = KEYS[name.casefold()]
            value = normalise(key, text)
            if value is None:
                raise ValueError(f"{name}: {text!r} is not a valid value")
            self._values[key.name] = value
        for name, text in settings.with_prefix(_PREFIX).items():
            stored = KEYS.get(name.casefold())
            if stored is not None and not stored.readonly and normalise(stored, text) is not None:
                self._values[stored.name] = text
        self._watchers: dict[str, list[Callable[[], None]]] = {}

    def key(self, name: str) -> Key | None:
        """The key called ``name``; key names are matched case-insensitively (CiString, 7.1)."""
        return KEYS.get(name.casefold())

    def text(self, name: str) -> str:
        return self._values[KEYS[name.casefold()].name]

    def integer(self, name: str) -> int:
        return int(self.text(name))

    def flag(self, name: str) -> bool:
        return self.text(name) == "true"

    def measurands(self, name: str) -> list[Measurand]:
        return _parse_measurands(self.text(name)) or []

    def set_fixed(self, name: str, value: str) -> None:
        """A readonly key's value, which the box itself knows (NumberOfConnectors, ChargePointId)."""
        self._values[KEYS[name.casefold()].name] = value

    def watch(self, name: str, callback: Callable[[], None]) -> None:
        """Call ``callback`` after every accepted change of ``name``."""
        self._watchers.setdefault(KEYS[name.casefold()].name, []).append(callback)

    def change(self, name: str, text: str) -> ConfigurationStatus:
        """ChangeConfiguration (5.3): Accepted and persisted, Rejected, or NotSupported."""
        key = self.key(name)
        if key is None:
            return ConfigurationStatus.NOT_SUPPORTED
        value = normalise(key, text)
        if key.readonly or value is None:
            return ConfigurationStatus.REJECTED
        self._values[key.name] = value
        self._settings.put(_PREFIX + key.name, value)
        for callback in self._watchers.get(key.name, []):
            callback()
        return ConfigurationStatus.ACCEPTED

    def entries(self, names: Iterable[str] = ()) -> tuple[list[tuple[Key, str]], list[str]]:
        """GetConfiguration (5.8): the known keys asked for (all when none) and the unknown names."""
        wanted = list(names)
        if not wanted:
            return [(key, self._values[key.name]) for key in KEYS.values()], []
        known = [self.key(name) for name in wanted]
        return ([(key, self._values[key.name]) for key in known if key is not None],
                [name for name, key in zip(wanted, known) if key is None])
