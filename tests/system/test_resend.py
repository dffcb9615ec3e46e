"""A resend is recognisable (issue 15, item 6): when the Central System processed a request and its
answer was lost, the box sends it again, as it must, with the first attempt's wsa:MessageID, even
across a power cut (the id is kept with the message in the outbox).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest

from chargebox.site import SimulatedSite
from tests.system.sitetools import network, offline_ready_site, wait_until

pytestmark = pytest.mark.system
CARD = "04A2B3C4D5E680"


@pytest.fixture
def site() -> Iterator[SimulatedSite]:
    yield from offline_ready_site()


def starts(site: SimulatedSite) -> list[dict[str, Any]]:
    return [r for r in site.cs("GET", "/record") if r["action"] == "StartTransaction"]


def test_a_request_whose_answer_was_lost_is_sent_again_with_its_message_id(site: SimulatedSite) -> None:
    site.cs("POST", "/behaviour", {"outage": "answer_lost"})
    site.hw("POST", "/plug", {"connector": 1})
    site.hw("POST", "/card", {"uid": CARD})
    wait_until(lambda: len(starts(site)) >= 2)  # processed, answer lost, sent again
    # The power goes while the answer is still outstanding; the next daemon sends it once more
    # (answers get through again, or it could not boot).
    site.processes["chargebox"].send_signal(signal.SIGKILL)
    site.processes["chargebox"].wait(10)
    before_restart = len(starts(site))
    site.cs("POST", "/behaviour", {"outage": None})
    site.start_daemon()
    site.wait_cs("BootNotification", count=2, timeout=30)
    network(site, True)
    record = starts(site)
    assert len(record) > before_restart
    assert len({r["message_id"] for r in record}) == 1, [r["message_id"] for r in record]
    assert len({repr(r["payload"]) for r in record}) == 1
    assert len({r["response"]["transactionId"] for r in record}) == 1
