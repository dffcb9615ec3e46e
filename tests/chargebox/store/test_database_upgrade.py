"""Upgrade in place (issue 16): a database written by release 0.1.0 (commit 737b442) opens under this
code, is migrated once, and everything it held carries over.

``fixtures/chargebox-0.1.0.sql`` is that release's database as SQL text, written by its own store
API (``fixtures/make_chargebox_0_1_0.py`` says how). 0.1.0 stored a SampledValue's text under zeep's
name ``_value_1``; the migration gives it the codec's plain ``value``, and the SOAP binding alone
turns it back into zeep's name, so the pending messages still go out valid.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree

from chargebox.binding.soap15 import CS_NAMESPACE
from chargebox.binding.soap.service import central_system_service
from chargebox.engine.configuration import Configuration
from chargebox.engine.station import RESERVATIONS
from chargebox.ocpp.datatypes import IdTagInfo, MeterValue, SampledValue, TransactionData
from chargebox.ocpp.enums import AuthorizationStatus, Measurand, ReadingContext, UnitOfMeasure
from chargebox.ocpp.messages import MeterValuesRequest, StartTransactionRequest, StopTransactionRequest
from chargebox.store import Store
from chargebox.store.database import SCHEMA_VERSION

DUMP = Path(__file__).with_name("fixtures") / "chargebox-0.1.0.sql"
PAYLOADS = "SELECT payload FROM outbox UNION ALL SELECT payload FROM transaction_values"


def at(minute: int) -> datetime:
    return datetime(2026, 11, 20, 9, minute, tzinfo=timezone.utc)


SAMPLE = MeterValue(at(5), [
    SampledValue("1500", context=ReadingContext.SAMPLE_PERIODIC,
                 measurand=Measurand.ENERGY_ACTIVE_IMPORT_REGISTER, unit=UnitOfMeasure.WH),
    SampledValue("16.0", measurand=Measurand.CURRENT_IMPORT, unit=UnitOfMeasure.AMP)])
PENDING = [
    MeterValuesRequest(connector_id=1, transaction_id=7, values=[SAMPLE]),
    StopTransactionRequest(transaction_id=7, id_tag="LIST0001", timestamp=at(10), meter_stop=2000,
                           transaction_data=[TransactionData([SAMPLE])]),
    StartTransactionRequest(connector_id=1, id_tag="CACHE001", timestamp=at(20), meter_start=500),
]


@pytest.fixture
def old_database(tmp_path: Path) -> Path:
    path = tmp_path / "chargebox.db"
    db = sqlite3.connect(path)
    db.executescript(DUMP.read_text())
    db.close()
    return path


def test_the_fixture_is_what_0_1_0_wrote() -> None:
    """The migration has something to do: schema 1, no message ids, zeep's names in three tables."""
    dump = DUMP.read_text()
    assert "('schema_version','1')" in dump and "message_id" not in dump
    for table in ("outbox", "transaction_values"):
        rows = [line for line in dump.splitlines() if line.startswith(f'INSERT INTO "{table}"')]
        assert any('"_value_1"' in row for row in rows)


def test_a_0_1_0_database_carries_over(old_database: Path) -> None:
    store = Store.open(old_database)
    assert store.settings.get("schema_version") == str(SCHEMA_VERSION)
    assert SCHEMA_VERSION == 4
    assert store.profiles.load() == []  # schema 4: the charging profiles' table, empty

    queued = store.outbox.all()
    assert [q.request for q in queued] == PENDING
    assert [(q.seq, q.local_tx, q.created, q.attempts) for q in queued] == [
        (1, 1, at(5), 0), (2, 1, at(10), 0), (3, 2, at(20), 0)]
    ids = [q.message_id for q in queued]
    assert all(ids) and len(set(ids)) == 3
    for table in ("outbox", "outbox_aside", "transaction_values"):
        assert not store.db.execute(f"SELECT 1 FROM {table} WHERE instr(payload, '_value_1')").fetchall()

    (running,) = store.journal.running()
    assert (running.local_id, running.connector_id, running.id_tag, running.meter_start,
            running.transaction_id, running.meter_last) == (2, 1, "CACHE001", 500, None, 650)
    assert store.journal.values(2) == [MeterValue(at(25), [SampledValue("650", unit=UnitOfMeasure.WH)])]
    done = store.journal.get(1)
    assert (done.transaction_id, done.meter_stop, done.stop_reason) == (7, 2000, "Local")
    assert store.journal.values(1) == [SAMPLE]

    assert store.local_list.version == 3
    listed = IdTagInfo(AuthorizationStatus.ACCEPTED, at(0).replace(year=2027), "FLEET")
    assert store.local_list.get("LIST0001") == listed
    assert store.local_list.get("LIST0002") == IdTagInfo(AuthorizationStatus.BLOCKED)
    assert store.cache.get("CACHE001") == IdTagInfo(AuthorizationStatus.ACCEPTED, at(30))
    assert store.cache.get("CACHE002") == IdTagInfo(AuthorizationStatus.EXPIRED)
    assert store.settings.load(RESERVATIONS) == [{"held_on": 1, "reservation_id": 42, "connector_id": 1,
                                                  "id_tag": "RESV0001", "parent_id_tag": None,
                                                  "expiry": "2030-01-01T00:00:00+00:00"}]
    config = Configuration(store.settings)
    assert (config.text("HeartbeatInterval"), config.text("MeterValueSampleInterval")) == ("300", "60")
    store.db.close()


def test_the_migration_runs_once(old_database: Path) -> None:
    first = Store.open(old_database)
    ids = [q.message_id for q in first.outbox.all()]
    payloads = first.db.execute(PAYLOADS).fetchall()
    first.db.close()
    again = Store.open(old_database)
    assert again.db.total_changes == 0  # opening a current database writes nothing
    assert [q.message_id for q in again.outbox.all()] == ids
    assert again.db.execute(PAYLOADS).fetchall() == payloads
    again.db.close()


def test_the_pending_messages_go_out_valid_with_value(old_database: Path) -> None:
    """What the SOAP binding renders from the migrated outbox: valid against the OCPP 1.5 schema
    (render validates), each sampled value's text in its ``value`` element."""
    store = Store.open(old_database)
    service = central_system_service()
    meter_values, stop, _ = [service.render(q.request, q.request.action()) for q in store.outbox.all()]
    for element in (meter_values, stop):
        texts = [(v.text, v.get("unit")) for v in element.iter(f"{{{CS_NAMESPACE}}}value") if v.get("unit")]
        assert texts == [("1500", "Wh"), ("16.0", "Amp")], etree.tostring(element)
        assert service.parse(element) in PENDING[:2]
    store.db.close()


def test_a_schema_2_database_gets_plain_names_in_every_payload_table(tmp_path: Path) -> None:
    """Schema 2 (message ids, messages set aside) also stored ``_value_1``: the outbox, the messages
    set aside and the journal's meter values all get ``value``; the stored form is the codec's own."""
    store = Store.open(tmp_path / "box.db")
    store.outbox.put(PENDING[0], local_tx=None, created=at(5))
    store.outbox.put(PENDING[0], local_tx=None, created=at(6))
    store.outbox.set_aside(2, "a test")
    neutral = store.db.execute("SELECT payload FROM outbox").fetchone()[0]
    assert '"value":"1500"' in neutral and "_value_1" not in neutral
    for table in ("outbox", "outbox_aside"):
        store.db.execute(f"UPDATE {table} SET payload = replace(payload, '\"value\":\"', '\"_value_1\":\"')")
    store.db.execute("INSERT INTO transaction_values (local_tx, payload) SELECT NULL, payload FROM outbox")
    store.db.execute("UPDATE settings SET value = '2' WHERE key = 'schema_version'")
    store.db.close()

    again = Store.open(tmp_path / "box.db")
    assert [q.request for q in again.outbox.all()] == [PENDING[0]]
    (aside,) = again.outbox.aside()
    assert aside.payload == neutral
    assert [row[0] for row in again.db.execute("SELECT payload FROM transaction_values")] == [neutral]
    again.db.close()
