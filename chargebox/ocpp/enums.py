"""OCPP 1.5 enumerations (specification chapter 7), as ``StrEnum`` so they compare with wire strings."""

from enum import StrEnum


class AuthorizationStatus(StrEnum):  # 7.2
    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    CONCURRENT_TX = "ConcurrentTx"


class AvailabilityStatus(StrEnum):  # 7.4
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    SCHEDULED = "Scheduled"


class AvailabilityType(StrEnum):  # 7.5
    INOPERATIVE = "Inoperative"
    OPERATIVE = "Operative"


class CancelReservationStatus(StrEnum):  # 7.6
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class ChargePointErrorCode(StrEnum):  # 7.7
    CONNECTOR_LOCK_FAILURE = "ConnectorLockFailure"
    HIGH_TEMPERATURE = "HighTemperature"
    MODE3_ERROR = "Mode3Error"
    NO_ERROR = "NoError"
    POWER_METER_FAILURE = "PowerMeterFailure"
    POWER_SWITCH_FAILURE = "PowerSwitchFailure"
    READER_FAILURE = "ReaderFailure"
    RESET_FAILURE = "ResetFailure"
    GROUND_FAILURE = "GroundFailure"
    OVER_CURRENT_FAILURE = "OverCurrentFailure"
    UNDER_VOLTAGE = "UnderVoltage"
    WEAK_SIGNAL = "WeakSignal"
    OTHER_ERROR = "OtherError"


class ChargePointStatus(StrEnum):
    """The engine's neutral status: 1.6's (1.6 7.7), which splits 1.5's Occupied (1.5 7.8) into
    Preparing, Charging, SuspendedEV, SuspendedEVSE and Finishing (1.6 4.9); a 1.5 binding maps
    those five down to Occupied."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EVSE = "SuspendedEVSE"
    SUSPENDED_EV = "SuspendedEV"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


class ClearCacheStatus(StrEnum):  # 7.9
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class ConfigurationStatus(StrEnum):  # 7.11
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    NOT_SUPPORTED = "NotSupported"


class DataTransferStatus(StrEnum):  # 7.12
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    UNKNOWN_MESSAGE_ID = "UnknownMessageId"
    UNKNOWN_VENDOR_ID = "UnknownVendorId"


class DiagnosticsStatus(StrEnum):  # 7.13
    UPLOADED = "Uploaded"
    UPLOAD_FAILED = "UploadFailed"


class FirmwareStatus(StrEnum):  # 7.14
    DOWNLOADED = "Downloaded"
    DOWNLOAD_FAILED = "DownloadFailed"
    INSTALLATION_FAILED = "InstallationFailed"
    INSTALLED = "Installed"


class Location(StrEnum):  # 7.19
    INLET = "Inlet"
    OUTLET = "Outlet"
    BODY = "Body"


class Measurand(StrEnum):  # 7.20
    ENERGY_ACTIVE_EXPORT_REGISTER = "Energy.Active.Export.Register"
    ENERGY_ACTIVE_IMPORT_REGISTER = "Energy.Active.Import.Register"
    ENERGY_REACTIVE_EXPORT_REGISTER = "Energy.Reactive.Export.Register"
    ENERGY_REACTIVE_IMPORT_REGISTER = "Energy.Reactive.Import.Register"
    ENERGY_ACTIVE_EXPORT_INTERVAL = "Energy.Active.Export.Interval"
    ENERGY_ACTIVE_IMPORT_INTERVAL = "Energy.Active.Import.Interval"
    ENERGY_REACTIVE_EXPORT_INTERVAL = "Energy.Reactive.Export.Interval"
    ENERGY_REACTIVE_IMPORT_INTERVAL = "Energy.Reactive.Import.Interval"
    POWER_ACTIVE_EXPORT = "Power.Active.Export"
    POWER_ACTIVE_IMPORT = "Power.Active.Import"
    POWER_REACTIVE_EXPORT = "Power.Reactive.Export"
    POWER_REACTIVE_IMPORT = "Power.Reactive.Import"
    CURRENT_EXPORT = "Current.Export"
    CURRENT_IMPORT = "Current.Import"
    VOLTAGE = "Voltage"
    TEMPERATURE = "Temperature"


class ReadingContext(StrEnum):  # 7.28
    INTERRUPTION_BEGIN = "Interruption.Begin"
    INTERRUPTION_END = "Interruption.End"
    SAMPLE_CLOCK = "Sample.Clock"
    SAMPLE_PERIODIC = "Sample.Periodic"
    TRANSACTION_BEGIN = "Transaction.Begin"
    TRANSACTION_END = "Transaction.End"


class RegistrationStatus(StrEnum):  # 7.29
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class RemoteStartStopStatus(StrEnum):  # 7.30
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class ReservationStatus(StrEnum):  # 7.32
    ACCEPTED = "Accepted"
    FAULTED = "Faulted"
    OCCUPIED = "Occupied"
    REJECTED = "Rejected"
    UNAVAILABLE = "Unavailable"


class ResetStatus(StrEnum):  # 7.33
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class ResetType(StrEnum):  # 7.34
    HARD = "Hard"
    SOFT = "Soft"


class UnitOfMeasure(StrEnum):  # 7.37
    WH = "Wh"
    KWH = "kWh"
    VARH = "varh"
    KVARH = "kvarh"
    W = "W"
    KW = "kW"
    VAR = "var"
    KVAR = "kvar"
    AMP = "Amp"
    VOLT = "Volt"
    CELSIUS = "Celsius"


class UnlockStatus(StrEnum):  # 7.38
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class UpdateStatus(StrEnum):  # 7.39
    ACCEPTED = "Accepted"
    FAILED = "Failed"
    HASH_ERROR = "HashError"
    NOT_SUPPORTED = "NotSupported"
    VERSION_MISMATCH = "VersionMismatch"


class UpdateType(StrEnum):  # 7.40
    DIFFERENTIAL = "Differential"
    FULL = "Full"


class ValueFormat(StrEnum):  # 7.41
    RAW = "Raw"
    SIGNED_DATA = "SignedData"
