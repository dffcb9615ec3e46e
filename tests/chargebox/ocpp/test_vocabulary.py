"""The neutral vocabulary's stored form: 1.6's values, and what earlier releases stored (1.5's spellings)
still reads (DESIGN.md: nothing on disk is in a binding's form; the outbox and journal keep it)."""

from __future__ import annotations

from datetime import datetime, timezone

from chargebox.ocpp import codec
from chargebox.ocpp.datatypes import MeterValue, SampledValue, TransactionData
from chargebox.ocpp.enums import Measurand, UnitOfMeasure
from chargebox.ocpp.messages import MeterValuesRequest, StopTransactionRequest
from chargebox.ocpp.versions import OCPP16

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


def test_a_payload_stored_with_1_5s_units_reads_as_the_neutral_ones() -> None:
    stored = ('{"connectorId":1,"values":[{"timestamp":"2026-03-01T12:00:00+00:00","value":['
              '{"value":"16.00","measurand":"Current.Import","unit":"Amp"},'
              '{"value":"230.0","measurand":"Voltage","unit":"Volt"}]}]}')
    request = codec.from_json(stored, MeterValuesRequest)
    assert [v.unit for v in request.values[0].values] == [UnitOfMeasure.AMP, UnitOfMeasure.VOLT]
    # Stored again, it says 1.6's values: the neutral form.
    assert '"unit":"A"' in codec.to_json(request) and '"unit":"V"' in codec.to_json(request)
    assert codec.from_json(codec.to_json(request), MeterValuesRequest) == request


def test_1_6_says_a_stop_transactions_meter_values_ungrouped() -> None:
    value = MeterValue(T0, [SampledValue("10", measurand=Measurand.ENERGY_ACTIVE_IMPORT_REGISTER)])
    stop = StopTransactionRequest(transaction_id=1, timestamp=T0, meter_stop=10,
                                  transaction_data=[TransactionData([value, value])])
    wire = codec.to_wire(stop, OCPP16.form)
    assert wire["transactionData"] == [{"timestamp": T0, "sampledValue": [
        {"value": "10", "measurand": "Energy.Active.Import.Register"}]}] * 2
    assert codec.from_wire(wire, StopTransactionRequest, OCPP16.form) == stop
    # The plain (stored) form keeps 1.5's groups, as databases of earlier releases hold them.
    assert codec.to_wire(stop)["transactionData"] == [{"values": [codec.to_wire(value)] * 2}]
