"""What an installer reads first: the daemon's log of a session, one INFO line per step with its fields,
through the real processes (the daemon logs to a file here, so the fields end each line as on a terminal)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from chargebox.site import SimulatedSite
from tests.system.sitetools import present_again, running, unplug, wait_until

pytestmark = pytest.mark.system
CARD = "04A2B3C4D5E680"
REFUSED = "DEADBEEF01020304"

# ``time level logger: message [key=value ...]`` (chargebox.service.journal.TerminalFormatter)
LINE = re.compile(r"^\S+ \S+ (?P<level>[A-Z]+) (?P<logger>\S+): (?P<message>.*?)(?: \[(?P<fields>[^\]]*)\])?$")


def log_lines(site: SimulatedSite) -> list[tuple[str, str, dict[str, str]]]:
    """(level, message, fields) of each line of the daemon's log."""
    found = []
    for line in site.log("chargebox").splitlines():
        match = LINE.match(line)
        if match:
            pairs = (match["fields"] or "").split()
            found.append((match["level"], match["message"], dict(p.split("=", 1) for p in pairs)))
    return found


def the_line(site: SimulatedSite, pattern: str) -> tuple[str, dict[str, str]]:
    """The one line whose message matches ``pattern`` (level, fields); waits for it to be written."""
    wait_until(lambda: any(re.fullmatch(pattern, message) for _, message, _ in log_lines(site)))
    lines = [(level, found) for level, message, found in log_lines(site) if re.fullmatch(pattern, message)]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture
def site() -> Iterator[SimulatedSite]:
    with running(SimulatedSite()) as site:
        yield site


def test_each_session_step_is_one_info_line_with_its_fields(site: SimulatedSite) -> None:
    site.wait_cs("BootNotification")
    site.cs("POST", "/behaviour", {"id_tags": {REFUSED: "Blocked"}})
    site.hw("POST", "/plug", {"connector": 1})
    mark = site.hw_seq()
    site.hw("POST", "/card", {"uid": REFUSED})
    assert the_line(site, r"card …0304 not authorized \(Blocked, central system\)") == (
        "INFO", {"connector": "1", "id_tag": "…0304", "action": "Authorize"})
    site.wait_hw("card_removed", after=mark)

    mark = site.hw_seq()
    site.hw("POST", "/card", {"uid": CARD})
    site.wait_hw("relay", closed=True, after=mark)
    (start,) = site.wait_cs("StartTransaction")
    present_again(site, CARD, mark)
    (stop,) = site.wait_cs("StopTransaction")
    unplug(site)

    tag = {"id_tag": "…E680"}
    assert the_line(site, r"card …E680 authorized \(central system\)") == (
        "INFO", {"connector": "1", **tag, "action": "Authorize"})
    meter_start, meter_stop = start["payload"]["meterStart"], stop["payload"]["meterStop"]
    assert the_line(site, rf"transaction 1 started: meterStart {meter_start} Wh") == (
        "INFO", {"connector": "1", "local_tx": "1", **tag})
    assert the_line(site, r"StartTransaction confirmed: transactionId 1, idTagInfo Accepted") == (
        "INFO", {"connector": "1", "transaction": "1", "local_tx": "1", **tag, "action": "StartTransaction"})
    assert the_line(site, rf"transaction 1 stopped: reason Local, meterStop {meter_stop} Wh") == (
        "INFO", {"connector": "1", "transaction": "1", "local_tx": "1", **tag})
    assert the_line(site, rf"StopTransaction confirmed: transactionId 1, meterStop {meter_stop} Wh") == (
        "INFO", {"connector": "1", "transaction": "1", "local_tx": "1", **tag, "action": "StopTransaction"})
    assert CARD not in site.log("chargebox") and REFUSED not in site.log("chargebox")


def test_remote_start_and_stop_are_logged_with_their_action(site: SimulatedSite) -> None:
    site.wait_cs("BootNotification")
    site.call("RemoteStartTransaction", {"idTag": CARD, "connectorId": 1})
    site.hw("POST", "/plug", {"connector": 1})
    site.wait_hw("relay", closed=True)
    site.wait_cs("StartTransaction")
    wait_until(lambda: any(m.startswith("StartTransaction confirmed") for _, m, _ in log_lines(site)))
    site.call("RemoteStopTransaction", {"transactionId": 1})
    site.wait_cs("StopTransaction")
    assert the_line(site, r"remote start for …E680 authorized") == (
        "INFO", {"connector": "1", "id_tag": "…E680", "action": "RemoteStartTransaction"})
    assert the_line(site, r"remote stop of transaction 1 accepted") == (
        "INFO", {"connector": "1", "transaction": "1", "local_tx": "1", "action": "RemoteStopTransaction"})
    assert the_line(site, r"transaction 1 stopped: reason Remote, meterStop \d+ Wh")[1]["transaction"] == "1"
