"""Upgrade in place through the real processes (issue 16): the daemon started on a database written by
release 0.1.0 migrates it and sends what it held, each sampled value in its ``value`` element and
valid against the schema the reference Central System checks (the official WSDLs where present)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from chargebox.store.database import SCHEMA_VERSION
from chargebox.site import SimulatedSite
from tests.chargebox.store.test_database_upgrade import DUMP
from tests.system.sitetools import official_wsdls, running

pytestmark = pytest.mark.system


def test_the_daemon_sends_what_a_0_1_0_database_held(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "chargebox.db")  # where the site's config keeps it
    db.executescript(DUMP.read_text())
    db.close()
    with running(SimulatedSite(tmp_path, **official_wsdls())) as site:
        site.wait_cs("StartTransaction")
        record = [r for r in site.cs("GET", "/record") if r["action"] in ("MeterValues", "StopTransaction",
                                                                         "StartTransaction")]
    meter_values, stop, start = record[:3]
    assert [r["action"] for r in record[:3]] == ["MeterValues", "StopTransaction", "StartTransaction"]
    assert all(r["valid"] and r["message_id"] for r in record[:3]), record
    samples = [(v["#text"], v["@unit"]) for mv in meter_values["payload"]["values"] for v in mv["value"]]
    assert samples == [("1500", "Wh"), ("16.0", "Amp")]
    stopped = stop["payload"]["transactionData"][0]["values"][0]["value"]
    assert [(v["#text"], v["@unit"]) for v in stopped] == samples
    assert (stop["payload"]["transactionId"], start["payload"]["idTag"]) == (7, "CACHE001")
    db = sqlite3.connect(tmp_path / "chargebox.db")
    assert db.execute("SELECT value FROM settings WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    db.close()
