"""Authorization and offline operation on a virtual clock: the local list, the cache, the offline
rules of OCPP 1.6 3.5, groups, deauthorization, the outbox's retry rules and power loss."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timezone

import pytest
from hal.events import CardPresented, PilotState

from chargebox.ocpp.datatypes import AuthorisationData, IdTagInfo
from chargebox.ocpp.enums import AuthorizationStatus, RemoteStartStopStatus, UpdateStatus, UpdateType
from chargebox.ocpp.errors import Unsendable
from chargebox.ocpp.messages import (
    Confirmation,
    DataTransferRequest,
    MeterValuesRequest,
    RemoteStartTransactionRequest,
    Request,
    SendLocalListRequest,
    StartTransactionRequest,
    StopTransactionRequest,
)
from tests.chargebox.engine.fakes import Box, FakeCentralSystem
from tests.chargebox.engine.test_chargepoint import CARD, plug_and_start

pytestmark = pytest.mark.looptime(end=30 * 86400)

ACCEPTED = IdTagInfo(AuthorizationStatus.ACCEPTED)
OTHER = CardPresented(bytes.fromhex("11223344"))


async def send_list(box: Box, *entries: AuthorisationData, version: int = 1) -> None:
    conf = await box.cp.handle(SendLocalListRequest(update_type=UpdateType.FULL, list_version=version,
                                                    local_authorisation_list=list(entries)))
    assert conf.status is UpdateStatus.ACCEPTED  # type: ignore[attr-defined]


async def offline_box(cs: FakeCentralSystem, **ocpp: str) -> Box:
    """A box that booted, then lost its Central System."""
    box = Box(cs, **ocpp)
    box.start()
    await cs.wait("StatusNotification")
    cs.reachable = False
    box.cp.uplink.online = False
    return box


async def test_offline_a_card_from_the_local_list_charges_and_the_session_is_sent_later() -> None:
    cs = FakeCentralSystem()
    box = await offline_box(cs)
    await send_list(box, AuthorisationData("0a0b0c0d", ACCEPTED))  # idTags are case-insensitive
    await plug_and_start(box)
    await asyncio.sleep(4 * 3600)  # many hours of outage; samples queue up
    await box.cp.cards.present(CARD)
    await box.relays[0].wait(False)
    # The connector's statuses wait in the outbox too (the status lane), coalesced into one.
    queued = [q.request.action() for q in box.cp.outbox.all()]
    assert queued.count("StatusNotification") == 1
    cs.reachable = True
    (stop,) = await cs.wait("StopTransaction")
    await box.stop()
    samples = len(queued) - 3  # the start, a sample a minute, the stop, the status
    assert samples >= 4 * 60 - 1
    sent = [a for a in cs.actions() if a in ("StartTransaction", "MeterValues", "StopTransaction")]
    assert sent == ["StartTransaction"] + ["MeterValues"] * samples + ["StopTransaction"]  # in order
    assert isinstance(stop, StopTransactionRequest) and stop.transaction_id == 78  # the id given after the outage
    assert "Authorize" not in cs.actions()


async def test_offline_a_card_from_the_cache_charges() -> None:
    cs = FakeCentralSystem()
    box = Box(cs)
    cp = box.start()
    await cs.wait("StatusNotification")
    await cp.cards.present(OTHER)  # online: authorized, and remembered
    await asyncio.sleep(61)  # the authorization lapses without a cable
    cs.reachable = False
    cp.uplink.online = False
    await plug_and_start(box, card=OTHER)
    await box.stop()
    assert cs.actions().count("Authorize") == 1 and box.relays[0].closed is False  # shutdown opens it


@pytest.mark.parametrize("allow", [True, False])
async def test_offline_an_unknown_card_charges_only_when_allowed(allow: bool) -> None:
    cs = FakeCentralSystem()
    box = await offline_box(cs, AllowOfflineTxForUnknownId=str(allow).lower())
    await box.pilots[0].put(PilotState.B)
    await box.cp.cards.present(CARD)
    await box.pilots[0].put(PilotState.C)
    await asyncio.sleep(5)
    await box.stop()
    assert (True in box.relays[0].history) is allow
    assert (box.cp.journal.recent(1) != []) is allow


EXPIRED = datetime(2025, 12, 31, tzinfo=timezone.utc)


@pytest.mark.parametrize(("keys", "info"), [
    # A known card that is not valid never charges, even where unknown ones may (1.6 3.5.4).
    ({"AllowOfflineTxForUnknownId": "true"}, IdTagInfo(AuthorizationStatus.BLOCKED)),
    # An entry past its expiryDate counts as Expired.
    ({}, IdTagInfo(AuthorizationStatus.ACCEPTED, EXPIRED)),
    # With LocalAuthorizeOffline off, nothing local charges.
    ({"LocalAuthorizeOffline": "false"}, ACCEPTED),
], ids=["blocked", "expired", "local-authorize-offline-off"])
async def test_offline_a_listed_card_is_refused_when_the_rules_say_so(keys: dict[str, str], info: IdTagInfo) -> None:
    cs = FakeCentralSystem()
    box = await offline_box(cs, **keys)
    await send_list(box, AuthorisationData("0A0B0C0D", info))
    await box.pilots[0].put(PilotState.B)
    await box.cp.cards.present(CARD)
    await asyncio.sleep(5)
    await box.stop()
    assert box.cp.journal.recent(1) == []


@pytest.mark.parametrize("pre_authorize", [True, False])
async def test_local_pre_authorize_starts_a_listed_card_without_asking(pre_authorize: bool) -> None:
    cs = FakeCentralSystem()
    box = Box(cs, LocalPreAuthorize=str(pre_authorize).lower())
    box.start()
    await cs.wait("StatusNotification")
    await send_list(box, AuthorisationData("0A0B0C0D", ACCEPTED))
    await plug_and_start(box)
    await box.stop()
    assert ("Authorize" in cs.actions()) is not pre_authorize


async def test_online_the_central_system_decides_over_the_list_and_its_answer_is_cached() -> None:
    cs = FakeCentralSystem()
    cs.tags["0A0B0C0D"] = IdTagInfo(AuthorizationStatus.BLOCKED)
    box = Box(cs)
    box.start()
    await cs.wait("StatusNotification")
    await box.pilots[0].put(PilotState.B)
    await box.cp.cards.present(CARD)
    await asyncio.sleep(5)
    await box.stop()
    assert box.cp.journal.recent(1) == []
    cached = box.store.cache.get("0a0b0c0d")
    assert cached is not None and cached.status is AuthorizationStatus.BLOCKED


async def test_a_card_of_the_same_group_stops_the_session_and_the_starting_card_needs_no_authorize() -> None:
    cs = FakeCentralSystem()
    cs.tags = {"0A0B0C0D": IdTagInfo(AuthorizationStatus.ACCEPTED, parent_id_tag="FLEET"),
               "11223344": IdTagInfo(AuthorizationStatus.ACCEPTED, parent_id_tag="fleet")}
    box = Box(cs)
    box.start()
    await cs.wait("StatusNotification")
    await plug_and_start(box)
    await box.cp.cards.present(OTHER)  # same group: Authorize tells its parent, then it stops the session
    (stop,) = await cs.wait("StopTransaction")
    assert stop.id_tag == "11223344"  # type: ignore[attr-defined]
    authorizes = cs.actions().count("Authorize")
    await box.pilots[0].put(PilotState.A)
    await plug_and_start(box)
    await box.cp.cards.present(CARD)  # the card that started stops without an Authorize
    await cs.wait("StopTransaction", 2)
    await box.stop()
    assert cs.actions().count("Authorize") == authorizes + 1  # only for the second start


async def test_a_card_of_another_group_does_not_stop_the_session() -> None:
    cs = FakeCentralSystem()
    cs.tags = {"0A0B0C0D": IdTagInfo(AuthorizationStatus.ACCEPTED, parent_id_tag="FLEET"),
               "11223344": IdTagInfo(AuthorizationStatus.ACCEPTED, parent_id_tag="OTHER")}
    box = Box(cs)
    box.start()
    await cs.wait("StatusNotification")
    await plug_and_start(box)
    await box.cp.cards.present(OTHER)
    await asyncio.sleep(5)
    await box.stop()
    assert cs.of("StopTransaction") == [] and box.relays[0].history[-2:] == [True, False]  # open at shutdown only


@pytest.mark.parametrize("stop_on_invalid", [True, False])
async def test_a_deauthorized_offline_start_stops_the_session_or_only_the_energy(stop_on_invalid: bool) -> None:
    cs = FakeCentralSystem()
    cs.tags["0A0B0C0D"] = IdTagInfo(AuthorizationStatus.INVALID)
    box = await offline_box(cs, AllowOfflineTxForUnknownId="true",
                            StopTransactionOnInvalidId=str(stop_on_invalid).lower())
    await plug_and_start(box)  # unknown offline: charges
    cs.reachable = True
    await cs.wait("StartTransaction")  # ... until the Central System says Invalid
    await box.relays[0].wait(False)
    await asyncio.sleep(5)
    if stop_on_invalid:
        assert cs.of("StopTransaction") and box.cp.journal.recent(1)[0].stop_reason == "DeAuthorized"
    else:
        assert cs.of("StopTransaction") == [] and box.cp.journal.running()
        await box.pilots[0].put(PilotState.B)
        await box.pilots[0].put(PilotState.C)  # the EV asks again: the relay stays open
        await asyncio.sleep(5)
        assert box.relays[0].closed is False
        await box.pilots[0].put(PilotState.A)  # unplugging ends it
        await cs.wait("StopTransaction")
    await box.stop()


async def test_a_stop_transaction_that_faults_is_retried_with_linear_backoff_then_skipped() -> None:
    cs = FakeCentralSystem()
    cs.fail["StopTransaction"] = 99
    box = Box(cs, TransactionMessageAttempts="3", TransactionMessageRetryInterval="20",
              MeterValueSampleInterval="0")
    box.start()
    await cs.wait("StatusNotification")
    await plug_and_start(box)
    await box.cp.cards.present(CARD)
    await cs.wait("StopTransaction", 3)
    await box.pilots[0].put(PilotState.A)
    await plug_and_start(box, card=OTHER)  # the next session's messages are not blocked for ever
    await cs.wait("StartTransaction", 2)
    await box.stop()
    tries = cs.times("StopTransaction")[:3]
    assert [round(b - a) for a, b in zip(tries, tries[1:])] == [20, 40]  # 1 x, then 2 x the interval
    assert cs.actions().count("StopTransaction") >= 3


async def test_every_attempt_of_a_queued_message_carries_its_message_id() -> None:
    cs = FakeCentralSystem()
    cs.fail["StartTransaction"] = 1
    box = Box(cs, TransactionMessageRetryInterval="20", MeterValueSampleInterval="0")
    box.start()
    await cs.wait("StatusNotification")
    await plug_and_start(box)
    await cs.wait("StartTransaction", 2)
    await box.cp.cards.present(CARD)
    await cs.wait("StopTransaction")
    await box.stop()
    ids = {action: [m for (_, r), m in zip(cs.sent, cs.message_ids) if r.action() == action]
           for action in ("StartTransaction", "StopTransaction")}
    first, again = ids["StartTransaction"]
    assert first is not None and first == again  # the failed attempt and the resend: one message
    assert ids["StopTransaction"][0] not in (None, first)


async def test_a_message_that_can_never_be_sent_is_set_aside_reported_once_and_the_rest_flows_on() -> None:
    cs = FakeCentralSystem()

    def unsendable(request: Request) -> Confirmation:
        raise Unsendable("meterStart does not match the OCPP 1.5 schema")

    cs.answers["StartTransaction"] = unsendable
    box = Box(cs, MeterValueSampleInterval="60")
    box.start()
    await cs.wait("StatusNotification")
    await plug_and_start(box)
    (report,) = await cs.wait("DataTransfer")
    await asyncio.sleep(300)  # the session's samples cannot go either: its transaction has no id
    await box.cp.cards.present(CARD)
    await box.pilots[0].put(PilotState.A)
    await asyncio.sleep(60)
    del cs.answers["StartTransaction"]
    await plug_and_start(box, card=OTHER)  # the next session flows
    await cs.wait("StartTransaction", 2)
    await box.stop()
    start, *samples, stop = box.cp.outbox.aside()
    assert (start.action, stop.action) == ("StartTransaction", "StopTransaction")
    assert len(samples) >= 4 and {s.action for s in samples} == {"MeterValues"}
    assert "schema" in start.reason and "never got an id" in stop.reason
    assert isinstance(report, DataTransferRequest) and report.vendor_id == "chargebox"
    assert json.loads(report.data or "")["messageId"] == start.message_id
    assert cs.actions().count("DataTransfer") == 1  # the session's, reported once


async def test_in_1_6_a_transaction_whose_start_was_given_up_goes_on_with_transaction_id_minus_one() -> None:
    """1.6 errata 3.18: no transactionId after repeated attempts; 1.5 sets them aside (above)."""
    cs = FakeCentralSystem()
    cs.fail["StartTransaction"] = 3
    box = Box(cs, version="1.6", TransactionMessageAttempts="3", TransactionMessageRetryInterval="20",
              MeterValueSampleInterval="60")
    box.start()
    await cs.wait("StatusNotification")
    await plug_and_start(box)
    await cs.wait("StartTransaction", 3)  # the third failure gives it up
    [sample, *_] = await cs.wait("MeterValues")
    await box.cp.cards.present(CARD)
    [stop] = await cs.wait("StopTransaction")
    await box.stop()
    assert sample.transaction_id == -1 and stop.transaction_id == -1  # type: ignore[attr-defined]
    assert box.cp.outbox.aside() == [] and not cs.of("DataTransfer")


async def test_an_unreachable_central_system_is_not_a_failure_the_message_waits() -> None:
    cs = FakeCentralSystem()
    box = Box(cs, TransactionMessageAttempts="1", MeterValueSampleInterval="0", AllowOfflineTxForUnknownId="true")
    box.start()
    await cs.wait("StatusNotification")
    cs.reachable = False
    await plug_and_start(box)  # the Authorize finds the Central System gone: the offline rules decide
    await asyncio.sleep(3 * 86400)  # three days down
    cs.reachable = True
    (start,) = await cs.wait("StartTransaction")
    await box.stop()
    assert isinstance(start, StartTransactionRequest)


async def test_power_loss_stops_the_running_session_once_with_the_last_journalled_value() -> None:
    cs = FakeCentralSystem()
    box = Box(cs)
    box.start()
    await cs.wait("StatusNotification")
    await plug_and_start(box)
    box.meters[0].energy_wh = 1800.0
    await cs.wait("MeterValues")
    box.meters[0].broken = True  # the meter does not answer after the power cut
    cp = await box.power_cut()
    await cs.wait("StopTransaction")
    box.meters[0].broken = False
    cp = await box.restart()
    await cs.wait("BootNotification", 3)
    await asyncio.sleep(600)
    await box.stop()
    (stop,) = cs.of("StopTransaction")  # once, whatever the restarts
    assert isinstance(stop, StopTransactionRequest) and stop.meter_stop == 1800 and stop.transaction_id == 78
    (sample, *_) = cs.of("MeterValues")  # the journal's 1800 Wh is this sample's: the stop has its time
    assert isinstance(sample, MeterValuesRequest) and stop.timestamp == sample.values[0].timestamp
    assert cp.journal.recent(1)[0].stop_reason == "PowerLoss" and not cp.journal.running()
    assert box.relays[0].closed is False and cs.actions().count("StartTransaction") == 1


async def test_a_fresh_reading_after_the_power_cut_stops_the_session_when_the_meter_answers() -> None:
    cs = FakeCentralSystem()
    box = Box(cs, MeterValueSampleInterval="0")
    box.start()
    await cs.wait("StatusNotification")
    await plug_and_start(box)
    box.meters[0].energy_wh = 2500.0  # charged on after the last journal entry, then the power went
    await asyncio.sleep(20)  # the time the box was down
    await box.power_cut()
    (stop,) = await cs.wait("StopTransaction")
    (start,) = cs.of("StartTransaction")
    await box.stop()
    assert isinstance(stop, StopTransactionRequest) and isinstance(start, StartTransactionRequest)
    # The fresh register with the time it was read, never with the start's (energy in no time).
    assert stop.meter_stop == 2500 and (stop.timestamp - start.timestamp).total_seconds() >= 20


async def test_a_service_stop_keeps_the_session_in_the_journal_and_the_restart_stops_it() -> None:
    cs = FakeCentralSystem()
    box = Box(cs, MeterValueSampleInterval="0")
    box.start()
    await cs.wait("StatusNotification")
    await plug_and_start(box)
    await asyncio.sleep(575)  # the journal has 1000 Wh from 540 s
    box.meters[0].energy_wh = 1030.0
    await asyncio.sleep(10)
    await box.stop()  # SIGTERM: relay open, a fresh reading journalled
    assert box.relays[0].closed is False and box.cp.journal.running()[0].meter_last == 1030
    box.meters[0].broken = True
    await box.restart()
    (stop,) = await cs.wait("StopTransaction")
    await box.stop()
    assert stop.meter_stop == 1030  # type: ignore[attr-defined]


async def test_a_message_of_a_transaction_the_journal_does_not_hold_is_set_aside() -> None:
    cs = FakeCentralSystem()
    box = Box(cs)
    box.cp.outbox.put(StopTransactionRequest(transaction_id=0, id_tag=None, timestamp=box.cp.clock.now(),
                                             meter_stop=5), local_tx=4711, created=box.cp.clock.now())
    box.start()
    await cs.wait("DataTransfer")
    await box.stop()
    (kept,) = box.cp.outbox.aside()
    assert kept.local_tx == 4711 and "no transaction 4711" in kept.reason
    assert "StopTransaction" not in cs.actions()


async def test_near_the_outbox_bound_a_remote_start_is_refused_until_it_drains(
        caplog: pytest.LogCaptureFixture) -> None:
    """Transaction messages are never dropped, so a new session is refused rather than a bill lost
    (DESIGN.md, "The outbox is bounded"); the box says why, and offers sessions again once drained."""
    cs = FakeCentralSystem()
    box = Box(cs, connectors=2, AllowOfflineTxForUnknownId="true")
    box.store.outbox.limit = 3  # 90 %: refused from 3 messages on
    box.start()
    await cs.wait("StatusNotification", 2)
    cs.reachable = False
    box.cp.uplink.online = False
    await plug_and_start(box)  # connector 1's StartTransaction and its Occupied wait: 2 messages
    assert box.store.outbox.refuses_sessions() is None
    await box.pilots[1].put(PilotState.B)  # connector 2's Occupied: 3
    with caplog.at_level(logging.WARNING, "chargebox.engine.chargepoint"):
        refused = await box.cp.handle(RemoteStartTransactionRequest(connector_id=2, id_tag="0A0B0C0D"))
    assert refused.status is RemoteStartStopStatus.REJECTED  # type: ignore[attr-defined]
    reason = "the outbox holds 3 messages of at most 3 (storage.outbox_limit)"
    assert f"no new session: {reason}" in caplog.messages
    cs.reachable = True
    await cs.wait("StartTransaction")
    while box.store.outbox.depth():
        await asyncio.sleep(1)
    accepted = await box.cp.handle(RemoteStartTransactionRequest(connector_id=2, id_tag="0A0B0C0D"))
    assert accepted.status is RemoteStartStopStatus.ACCEPTED  # type: ignore[attr-defined]
    await box.pilots[1].put(PilotState.C)
    await box.relays[1].wait(True)
    await box.stop()
