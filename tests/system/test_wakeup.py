"""SMS wake-up (8.3) across processes: the Central System cannot reach the box at the URL it last
advertised, wakes it with an SMS through the simulator's modem, and delivers its command to the URL
the box's wake-up Heartbeat.req carries.

The box's address has to really change, and on one machine that needs a network interface whose
address the test may change: the scenario runs in a private network namespace (``unshare --net``,
made by this test inside its own sandbox), where ``wwan0`` (one end of a veth pair) plays the
modem's interface. The box listens on every address and advertises ``http://{address}:port/`` with
wwan0's current address (``endpoint.public_interface``). The test moves wwan0 from 10.64.0.1 to
10.64.0.2, as a carrier does on a reconnection: the old URL then answers nothing (the network is
unreachable), and only the address the box reads from the kernel at its next request works. No
packet leaves the namespace. Where namespaces cannot be made, the test is skipped and says why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chargebox.site import SimulatedSite
from tests.conftest import ROOT
from tests.system.sitetools import official_wsdls, running, wait_until

pytestmark = pytest.mark.system

INSIDE = "CHARGEBOX_TEST_IN_PRIVATE_NETNS"
INTERFACE = "wwan0"
FIRST, SECOND = "10.64.0.1", "10.64.0.2"
IDENTITY = "CB-SIM-1"


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True)


def test_sms_wake_up_in_a_private_network_namespace() -> None:
    """Runs :func:`test_sms_wakes_a_box_whose_address_changed` in a namespace of its own."""
    if os.environ.get(INSIDE):
        pytest.skip("already inside the namespace")
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs unshare (util-linux) and ip (iproute2)")
    unshare = ["unshare", "--net", "--map-root-user"]
    probe = subprocess.run([*unshare, "ip", "link", "add", "probe0", "type", "veth", "peer", "name", "probe1"],
                           capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a network namespace with a veth pair here: {probe.stderr.strip()}")
    inner = f"{Path(__file__).relative_to(ROOT)}::test_sms_wakes_a_box_whose_address_changed"
    result = subprocess.run([*unshare, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", inner],
                            cwd=ROOT, env={**os.environ, INSIDE: "1"}, capture_output=True, text=True, timeout=300,
                            check=False)
    print(result.stdout[-20000:], result.stderr[-5000:])
    assert result.returncode == 0 and "1 passed" in result.stdout


@pytest.fixture
def site() -> Iterator[SimulatedSite]:
    if not os.environ.get(INSIDE):
        pytest.skip("runs inside a private network namespace (test_sms_wake_up_in_a_private_network_namespace)")
    _ip("link", "set", "lo", "up")
    _ip("link", "add", INTERFACE, "type", "veth", "peer", "name", f"{INTERFACE}-peer")
    _ip("link", "set", INTERFACE, "up")
    _ip("link", "set", f"{INTERFACE}-peer", "up")
    _ip("addr", "add", f"{FIRST}/32", "dev", INTERFACE)
    # A heartbeat an hour: any heartbeat in this test is the answer to an SMS.
    site = SimulatedSite(identity=IDENTITY, heartbeat_interval=3600, mobile=True, public_interface=INTERFACE,
                         **official_wsdls())  # type: ignore[arg-type]
    with running(site):
        yield site


def test_sms_wakes_a_box_whose_address_changed(site: SimulatedSite) -> None:
    (boot,) = site.wait_cs("BootNotification")
    # Connector 1's status follows the boot from the first address too (its own lane, 4.9): the
    # address moves only once the box has nothing more to say.
    site.wait_cs("StatusNotification")
    first_url, second_url = (f"http://{address}:{site.box_port}/" for address in (FIRST, SECOND))
    assert boot["from_url"] == first_url
    modem = site.hw("GET", "/modem")
    assert (boot["payload"]["iccid"], boot["payload"]["imsi"]) == ("89314404000123456789", "204043123456789")
    assert modem["text_mode"] and modem["indications"] and not modem["echo"]  # initialised by the driver

    # The carrier gives the modem a new address: the URL the Central System knows answers nothing.
    _ip("addr", "del", f"{FIRST}/32", "dev", INTERFACE)
    _ip("addr", "add", f"{SECOND}/32", "dev", INTERFACE)
    # A message for another box first: the box must ignore it, and must not log its text.
    site.hw("POST", "/sms", {"text": "CB-OTHER-7 secret-token-42", "sender": "+31611111111"})

    held = site.cs("POST", "/hold", {"chargeBoxIdentity": IDENTITY, "action": "RemoteStartTransaction",
                                     "payload": {"idTag": "REMOTE1", "connectorId": 1}})
    assert held["state"] == "held", held
    assert held["tries"][0]["url"] == first_url and held["tries"][0]["result"]["http_status"] is None
    assert held["sms"] == {"sent": True, "http_status": 200}

    delivered = site.cs("GET", f"/held?id={held['id']}&timeout=30")
    assert delivered["state"] == "delivered", delivered
    assert delivered["tries"][-1]["url"] == second_url
    assert delivered["result"]["ok"] and delivered["result"]["valid"]
    assert delivered["result"]["payload"] == {"status": "Accepted"}

    record = site.cs("GET", "/record")
    assert all(r["valid"] for r in record), [r["errors"] for r in record if not r["valid"]]
    heartbeats = [r for r in record if r["action"] == "Heartbeat"]
    assert [h["from_url"] for h in heartbeats] == [second_url]  # one, the wake-up, from the new address
    sms_events = [e for e in site.hw("GET", "/events") if e["kind"] == "sms"]
    assert [e["length"] for e in sms_events] == [26, len(IDENTITY)]

    # The command works: the remote start waits for the cable.
    site.hw("POST", "/plug", {"connector": 1})
    site.wait_hw("relay", closed=True)
    (start,) = site.wait_cs("StartTransaction")
    assert start["payload"]["idTag"] == "REMOTE1" and start["from_url"] == second_url

    # Weak signal: a box fault on connector 0 (StatusNotification errorCode WeakSignal).
    statuses = len(site.wait_cs("StatusNotification"))
    site.hw("POST", "/modem", {"rssi": 2})
    weak = site.wait_cs("StatusNotification", statuses + 1)[-1]["payload"]
    assert (weak["connectorId"], weak["errorCode"]) == (0, "WeakSignal")

    log = site.log("chargebox")
    assert "secret-token" not in log
    assert "SMS from …1111 (26 characters) ignored: it does not name this box" in log
    assert "SMS from …9999 (8 characters): waking up" in log


def test_a_quectel_modem_that_stores_new_messages_apart_and_keeps_a_sent_one() -> None:
    """Issue 15 item 7, through the real processes: a Quectel modem (ICCID by AT+QCCID only) that
    reads the SIM and stores new messages in its own memory (AT+CPMS "SM","SM","ME"), and keeps a
    message sent from it that names the box. The box reports the SIM, wakes on the SMS it receives,
    and neither wakes on nor deletes the sent one."""
    site = SimulatedSite(identity=IDENTITY, heartbeat_interval=3600, mobile=True,
                         hwsim_options=["--modem-profile", "quectel", "--modem-storages", "SM,SM,ME"],
                         **official_wsdls())  # type: ignore[arg-type]
    with running(site):
        (boot,) = site.wait_cs("BootNotification")
        assert (boot["payload"].get("iccid"), boot["payload"].get("imsi")) == ("89314404000123456789",
                                                                               "204043123456789")
        site.hw("POST", "/sms", {"text": IDENTITY, "sender": "+31688888888"})
        site.wait_cs("Heartbeat")  # the SMS +CMTI announced in "ME" was read there

        # A message sent from this modem earlier, kept in its storage, names the box; then the
        # daemon starts again and lists the storage.
        assert site.stop_daemon() == 0
        kept = site.hw("POST", "/sms", {"text": IDENTITY, "sender": "+31677777777", "status": "STO SENT"})
        assert kept["index"] is not None
        site.start_daemon()
        site.wait_cs("BootNotification", 2)
        site.hw("POST", "/sms", {"text": IDENTITY, "sender": "+31699999999"})
        site.wait_cs("Heartbeat", 2)  # woken by the received one, after the listing
        wait_until(lambda: site.hw("GET", "/modem")["stored"] == 1)  # the received one deleted once taken
        modem = site.hw("GET", "/modem")
        assert modem["storages"] == ["ME", "ME", "ME"]  # the driver's choice (27.005 3.2.2)
        assert (modem["stored"], modem["outgoing"]) == (1, 1)  # the sent one kept, the received ones taken
        wakes = [line for line in site.log("chargebox").splitlines() if "waking up" in line]
        assert len(wakes) == 2 and "…8888" in wakes[0] and "…9999" in wakes[1], wakes
        heartbeats = [r for r in site.cs("GET", "/record") if r["action"] == "Heartbeat"]
        assert len(heartbeats) == 2
