"""The neutral vocabulary is 1.6's; the 1.5 SOAP binding says it in 1.5's terms (chargebox.ocpp.versions,
OCPP15): a 1.6-only value as 1.5's nearest, a 1.6-only field left out, and what 1.5 has no way to say
refused before anything is sent. What it renders is valid against the OFFICIAL 1.5 schemas (skipped
where ../shared/spec/wsdl is absent), and what it reads back is the neutral value."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree
from soap_helpers import official_schema

from chargebox.binding.soap.service import central_system_service, charge_point_service
from chargebox.ocpp.datatypes import MeterValue, SampledValue, TransactionData
from chargebox.ocpp.enums import (
    ChargePointErrorCode,
    ChargePointStatus,
    ConfigurationStatus,
    Measurand,
    Phase,
    Reason,
    UnitOfMeasure,
    UnlockStatus,
)
from chargebox.ocpp.errors import Unsendable
from chargebox.ocpp.messages import (
    ChangeConfigurationConfirmation,
    MeterValuesRequest,
    StatusNotificationRequest,
    StopTransactionRequest,
    UnlockConnectorConfirmation,
)

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
CS = central_system_service()
CP = charge_point_service()


def texts(element: etree._Element, name: str) -> list[str | None]:
    return [e.text for e in element.iter() if etree.QName(e).localname == name]


@pytest.mark.parametrize(("code", "said"), [
    (ChargePointErrorCode.EV_COMMUNICATION_ERROR, "Mode3Error"),
    (ChargePointErrorCode.INTERNAL_ERROR, "OtherError"),
    (ChargePointErrorCode.LOCAL_LIST_CONFLICT, "OtherError"),
    (ChargePointErrorCode.OVER_VOLTAGE, "OtherError"),
    (ChargePointErrorCode.MODE3_ERROR, "Mode3Error"),
    (ChargePointErrorCode.GROUND_FAILURE, "GroundFailure"),
])
def test_a_1_6_error_code_is_said_as_1_5s_nearest(code: ChargePointErrorCode, said: str,
                                                   official_wsdl: Path) -> None:
    request = StatusNotificationRequest(connector_id=1, status=ChargePointStatus.FAULTED, error_code=code)
    element = CS.render(request, "StatusNotification")
    assert texts(element, "errorCode") == [said]
    assert official_schema(official_wsdl, "cs").validate(element)


def test_amperes_and_volts_are_spelt_out_and_the_phase_is_left_out(official_wsdl: Path) -> None:
    values = [SampledValue("16.0", measurand=Measurand.CURRENT_IMPORT, phase=Phase.L1,
                           unit=UnitOfMeasure.AMP),
              SampledValue("230.1", measurand=Measurand.VOLTAGE, phase=Phase.L1_N, unit=UnitOfMeasure.VOLT)]
    request = MeterValuesRequest(connector_id=1, transaction_id=7, values=[MeterValue(T0, values)])
    element = CS.render(request, "MeterValues")
    assert official_schema(official_wsdl, "cs").validate(element)
    units = [e.get("unit") for e in element.iter() if etree.QName(e).localname == "value"]
    assert units == ["Amp", "Volt"]
    assert not [e for e in element.iter() if e.get("phase") is not None]
    read = CS.parse(element)
    assert isinstance(read, MeterValuesRequest)
    assert [v.unit for v in read.values[0].values] == [UnitOfMeasure.AMP, UnitOfMeasure.VOLT]


def test_a_stop_reason_is_left_out(official_wsdl: Path) -> None:
    data = [TransactionData([MeterValue(T0, [SampledValue("1200")])])]
    request = StopTransactionRequest(transaction_id=7, timestamp=T0, meter_stop=1200,
                                     reason=Reason.EV_DISCONNECTED, transaction_data=data)
    element = CS.render(request, "StopTransaction")
    assert official_schema(official_wsdl, "cs").validate(element)
    assert texts(element, "reason") == []
    assert CS.parse(element) == StopTransactionRequest(
        transaction_id=7, timestamp=T0, meter_stop=1200, transaction_data=request.transaction_data)


@pytest.mark.parametrize(("status", "said"), [
    (UnlockStatus.UNLOCKED, "Accepted"), (UnlockStatus.UNLOCK_FAILED, "Rejected"),
    (UnlockStatus.NOT_SUPPORTED, "Rejected"), (UnlockStatus.ACCEPTED, "Accepted"),
])
def test_1_6_unlock_statuses_are_1_5s_accepted_or_rejected(status: UnlockStatus, said: str,
                                                          official_wsdl: Path) -> None:
    element = CP.render(UnlockConnectorConfirmation(status=status), "UnlockConnector")
    assert texts(element, "status") == [said]
    assert official_schema(official_wsdl, "cp").validate(element)


def test_a_change_that_needs_a_reboot_is_accepted_in_1_5() -> None:
    element = CP.render(ChangeConfigurationConfirmation(status=ConfigurationStatus.REBOOT_REQUIRED),
                        "ChangeConfiguration")
    assert texts(element, "status") == ["Accepted"]


@pytest.mark.parametrize("value", [
    SampledValue("50.0", measurand=Measurand.FREQUENCY),
    SampledValue("80", measurand=Measurand.SOC, unit=UnitOfMeasure.PERCENT),
])
def test_what_1_5_has_no_way_to_say_is_unsendable(value: SampledValue) -> None:
    with pytest.raises(Unsendable, match="no value on this wire"):
        CS.render(MeterValuesRequest(connector_id=1, values=[MeterValue(T0, [value])]), "MeterValues")
