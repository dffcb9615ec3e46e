"""Starting the real daemon against a Central System whose host name does not resolve (yet): not a
configuration error (README, The service). The daemon comes up, says why in one line per attempt,
and keeps retrying BootNotification (issue 14 item 4)."""

from __future__ import annotations

import re

import pytest

from chargebox.site import SimulatedSite, free_port
from tests.system.sitetools import operator, running, wait_until

pytestmark = pytest.mark.system
#: RFC 6761 section 6.4: .invalid never resolves, with or without a network.
UNRESOLVABLE = "central-system.invalid"


def test_a_central_system_host_that_does_not_resolve_is_retried() -> None:
    # No reference Central System: the site's daemon points at a port nobody serves; the daemon is
    # then started again on a config whose Central System host does not resolve.
    with running(SimulatedSite(central_system_port=free_port())) as site:
        site.stop_daemon()
        config = site.config_path.read_text()
        site.config_path.write_text(re.sub(r'url = "http://127\.0\.0\.1:\d+/"', f'url = "http://{UNRESOLVABLE}:8180/"',
                                           config, count=1))
        daemon = site.start_daemon()
        mark = site.log("chargebox").count("\n")

        def attempts() -> list[str]:
            lines = site.log("chargebox").splitlines()[mark:]
            return [line for line in lines if "BootNotification failed" in line]

        wait_until(lambda: len(attempts()) >= 2, timeout=20)  # the second after 5 s (+-20 %)
        assert daemon.poll() is None, "the daemon stopped"
        assert all(UNRESOLVABLE in line for line in attempts()), attempts()
        link = operator(site, "status")["central_system"]  # up and answering its operator meanwhile
        assert (link["booted"], link["last_success"]) == (False, None) and UNRESOLVABLE in link["last_error"], link
        started = site.log("chargebox").splitlines()[mark:]
        assert not [line for line in started if "Traceback" in line or " ERROR " in line], started
