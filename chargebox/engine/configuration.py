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
from dataclasses import dataclass, replace
from enum import Enum, auto

from chargebox.ocpp.enums import ConfigurationStatus, Measurand
from chargebox.ocpp.errors import Unsendable
from chargebox.ocpp.versions import OCPP15, OCPP16
from chargebox.store.settings import Settings


class Kind(Enum):
    INT = auto()  # a whole number >= minimum
    BOOL = auto()  # "true" / "false" (case-insensitive on input)
    MEASURANDS = auto()  # a comma-separated list of Measurand values (6.9.1 "CSL")
    TEXT = auto()


@dataclass(frozen=True, slots=True)
class Key:
    """``only``: the one OCPP version that has the key ("1.6"), else both; ``name_16``: 1.6's
    spelling where it differs (the names match case-insensitively, so the engine reads either);
    ``write_only``: a secret, never returned by GetConfiguration (AuthorizationKey, security
    whitepaper); ``unit``: of an integer (1.6 9.1); ``longest``: most characters of a TEXT value."""

    name: str
    kind: Kind
    default: str
    readonly: bool = False
    minimum: int = 0
    doc: str = ""
    only: str | None = None
    name_16: str | None = None
    write_only: bool = False
    unit: str = ""
    longest: int = 500
    shortest: int = 0
    #: Readonly to the Central System, but the site config's [ocpp] table may set it: what the box's
    #: hardware and storage allow (issue 19: a local list of 100,000 entries).
    site: bool = False


#: What SupportedFeatureProfiles tells (1.6 3.2, 9.1.29): the box serves every operation of the six.
SUPPORTED_FEATURE_PROFILES = ("Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,"
                              "RemoteTrigger")
#: Most measurands one of the *Data keys lists (their MaxLength keys, 9.1).
MEASURANDS_MAX = 12


def _keys(*keys: Key) -> dict[str, Key]:
    return {key.name.casefold(): key for key in keys}


#: Every supported key. Standard 1.5 keys (6.9.1), the deprecated ones kept for compatibility, and the
#: 1.6 keys whose rules the box follows where 1.5 is silent (1.6 sections 3.5-3.7, 9.1).
KEYS: dict[str, Key] = _keys(
    Key("HeartBeatInterval", Kind.INT, "900", minimum=1, doc="seconds of inactivity before a Heartbeat (4.6)",
        name_16="HeartbeatInterval", unit="seconds"),
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
    Key("ProximityLockRetries", Kind.INT, "0", doc="deprecated (6.9.1); stored only", only="1.5"),
    Key("ProximityContactRetries", Kind.INT, "0", doc="deprecated (6.9.1); stored only", only="1.5"),
    Key("ChargePointId", Kind.TEXT, "", readonly=True, doc="deprecated (6.9.1); the chargeBoxIdentity",
        only="1.5"),
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
    # 1.6 only (1.6 9.1-9.4; the security whitepaper's AuthorizationKey).
    Key("SupportedFeatureProfiles", Kind.TEXT, SUPPORTED_FEATURE_PROFILES, readonly=True, only="1.6",
        doc="the feature profiles the box serves (9.1.29)"),
    Key("GetConfigurationMaxKeys", Kind.INT, "100", readonly=True, only="1.6",
        doc="most keys one GetConfiguration.req may ask for (9.1.11)"),
    Key("AuthorizeRemoteTxRequests", Kind.BOOL, "false", readonly=True, only="1.6",
        doc="a remote start is not authorized first, except for a reserved connector's group (5.11)"),
    Key("StopTransactionOnEVSideDisconnect", Kind.BOOL, "true", readonly=True, only="1.6",
        doc="unplugging at the vehicle stops the transaction (the box cannot suspend it)"),
    Key("UnlockConnectorOnEVSideDisconnect", Kind.BOOL, "true", readonly=True, only="1.6",
        doc="the cable lock opens once the transaction has ended"),
    Key("ConnectorPhaseRotation", Kind.TEXT, "Unknown", only="1.6",
        doc="the phase rotation of each connector, as installed (9.1.9); stored only"),
    Key("MeterValuesSampledDataMaxLength", Kind.INT, str(MEASURANDS_MAX), readonly=True, only="1.6",
        doc="most measurands in MeterValuesSampledData"),
    Key("MeterValuesAlignedDataMaxLength", Kind.INT, str(MEASURANDS_MAX), readonly=True, only="1.6",
        doc="most measurands in MeterValuesAlignedData"),
    Key("StopTxnSampledDataMaxLength", Kind.INT, str(MEASURANDS_MAX), readonly=True, only="1.6",
        doc="most measurands in StopTxnSampledData"),
    Key("StopTxnAlignedDataMaxLength", Kind.INT, str(MEASURANDS_MAX), readonly=True, only="1.6",
        doc="most measurands in StopTxnAlignedData"),
    Key("MaxEnergyOnInvalidId", Kind.INT, "0", only="1.6", unit="Wh",
        doc="Wh a transaction the Central System did not accept may still deliver (errata 3.17); 0: none"),
    Key("WebSocketPingInterval", Kind.INT, "60", only="1.6", unit="seconds",
        doc="seconds between WebSocket pings (OCPP-J); 0 disables; the next connection uses it"),
    Key("AuthorizationKey", Kind.TEXT, "", only="1.6", write_only=True, shortest=16, longest=40,
        doc="the HTTP Basic password (OCPP-J security profiles 1, 2); the box reconnects with it"),
    Key("ChargeProfileMaxStackLevel", Kind.INT, "8", readonly=True, only="1.6",
        doc="highest stackLevel of a charging profile (9.4.1)"),
    Key("ChargingScheduleAllowedChargingRateUnit", Kind.TEXT, "Current,Power", readonly=True, only="1.6",
        doc="the units a charging schedule may use (9.4.2)"),
    Key("ChargingScheduleMaxPeriods", Kind.INT, "24", readonly=True, only="1.6",
        doc="most periods in a charging schedule (9.4.3)"),
    Key("ConnectorSwitch3to1PhaseSupported", Kind.BOOL, "false", readonly=True, only="1.6",
        doc="the box cannot switch from three phases to one during a transaction (9.4.4)"),
    Key("MaxChargingProfilesInstalled", Kind.INT, "16", readonly=True, only="1.6",
        doc="most charging profiles installed at once (9.4.5)"),
)


def keys_of(version: str) -> list[Key]:
    """The keys a box speaking ``version`` has, as that version spells them."""
    return [replace(key, name=key.name_16) if version != "1.5" and key.name_16 else key
            for key in KEYS.values() if key.only in (None, version)]


def _parse_bool(text: str) -> bool | None:
    return {"true": True, "false": False}.get(text.strip().casefold())


def _parse_measurands(text: str) -> list[Measurand] | None:
    names = [part.strip() for part in text.split(",") if part.strip()]
    known = {m.value.casefold(): m for m in Measurand}
    found = [known.get(name.casefold()) for name in names]
    return None if any(m is None for m in found) else [m for m in found if m is not None]


_VERSIONS = {version.name: version for version in (OCPP15, OCPP16)}


def sayable(version: str, measurand: Measurand) -> bool:
    """Whether ``version`` has ``measurand`` (1.5 lacks Frequency, Current.Offered, SoC...: 1.5 7.20)."""
    try:
        _VERSIONS[version].form.say(measurand)
    except Unsendable:
        return False
    return True


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
        if measurands is None or len(measurands) > MEASURANDS_MAX:  # the *MaxLength keys (9.1)
            return None
        return ",".join(m.value for m in measurands)
    return text if key.shortest <= len(text) <= key.longest else None


_PREFIX = "ocpp:"  # a key's row in the settings table is ocpp:<Key>


class Configuration:
    """The current values; ``change`` is ChangeConfiguration, ``entries`` serves GetConfiguration.
    ``version`` is the OCPP version the box speaks ("1.5", "1.6"), a hint from the daemon for what
    the versions answer differently; the engine imports no binding."""

    def __init__(self, settings: Settings, defaults: Mapping[str, str] | None = None, *,
                 version: str = "1.5") -> None:
        self.version = version
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
        """The key called ``name`` that this version has, as it spells it; names match
        case-insensitively (CiString, 7.1)."""
        key = KEYS.get(name.casefold())
        if key is None or key.only not in (None, self.version):
            return None
        return replace(key, name=key.name_16) if self.version != "1.5" and key.name_16 else key

    def text(self, name: str) -> str:
        return self._values[KEYS[name.casefold()].name]

    def integer(self, name: str) -> int:
        return int(self.text(name))

    def flag(self, name: str) -> bool:
        return self.text(name) == "true"

    def measurands(self, name: str) -> list[Measurand]:
        """The measurands of a *Data key that this version can say: the engine never asks a binding
        for what its wire would only set aside (a site default naming one 1.6 added, in 1.5)."""
        return [m for m in _parse_measurands(self.text(name)) or [] if sayable(self.version, m)]

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
        if key.kind is Kind.MEASURANDS and not all(sayable(self.version, m)
                                                   for m in _parse_measurands(value) or []):
            return ConfigurationStatus.REJECTED  # a measurand this version does not have (1.5 7.20)
        stored = KEYS[key.name.casefold()].name  # one row and one watch list for both spellings
        self._values[stored] = value
        self._settings.put(_PREFIX + stored, value)
        for callback in self._watchers.get(stored, []):
            callback()
        return ConfigurationStatus.ACCEPTED

    def entries(self, names: Iterable[str] = ()) -> tuple[list[tuple[Key, str]], list[str]]:
        """GetConfiguration (5.8): the known keys asked for (all when none) and the unknown names.
        A write-only key is in neither: its value never leaves the box (security whitepaper)."""
        wanted = list(names)
        if not wanted:
            return [(key, self.text(key.name)) for key in keys_of(self.version) if not key.write_only], []
        known = [self.key(name) for name in wanted]
        return ([(key, self.text(key.name)) for key in known if key is not None and not key.write_only],
                [name for name, key in zip(wanted, known) if key is None])
