"""What issue 19's benchmarks share: a simulated site of real processes (``hwsim run``, the reference
Central System ``python -m hwsim.centralsystem`` and ``chargebox run`` from a generated site config,
over real sockets), the daemon's process figures from /proc, the peers in their own processes, and
the one table every script prints.

Each row script (card_to_relay.py, outbox_drain.py, send_local_list.py, local_list_limit.py,
memory.py, client_cpu.py, endpoint_rate.py) has ``measure(site, options)`` returning its row(s) and
a ``main`` that starts a site for it alone; ``all.py`` runs them all on one site.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chargebox.binding.soap import envelope
from chargebox.binding.soap.configured import PROTOCOLS as SOAP_PROTOCOLS
from chargebox.binding.soap.protocol import SoapProtocol
from chargebox.binding.soap.service import charge_point_service
from chargebox.config import JSON, PROTOCOLS
from chargebox.ocpp.datatypes import AuthorisationData, IdTagInfo
from chargebox.ocpp.enums import AuthorizationStatus, UpdateType
from chargebox.ocpp.messages import SendLocalListRequest
from chargebox.site import SimulatedSite

BENCH = Path(__file__).resolve().parent
SPEC = BENCH.parent.parent / "shared" / "spec"  # ../shared beside the worktree (DESIGN.md)
#: A card in the box's local list (rows 1 and 2 use it).
CARD = "04A2B3C4D5E680"
#: The longest SendLocalList sent through the Central System's ``/call`` over SOAP; a longer one is POSTed
#: straight to the box's endpoint, so that its figure is the box's and not the reference Central
#: System's render of it (over OCPP-J there is no endpoint: the Central System measures its round trip).
SOAP_CALL_BODY = 1 << 20


class NotAvailable(Exception):
    """This figure cannot be measured in this run; the message says why (it goes in the table)."""


@dataclass
class Row:
    """One line of the table: a measure of issue 19, its goal, what was measured (with its spread),
    the peer measured in the same run and measured / peer."""

    measure: str
    goal: str
    measured: str
    peer: str = "-"
    ratio: str = "-"


def unavailable(measure: str, goal: str, why: str) -> Row:
    return Row(measure, goal, f"not measured: {why}")


class BenchSite(SimulatedSite):
    """A SimulatedSite for the benchmarks, in ``protocol`` (its reference Central System validating
    against the official 1.6 JSON schemas where present), with a body limit that lets issue 19's lists in."""

    def __init__(self, protocol: str = "ocpp1.5-soap", **options: Any) -> None:
        # Lists as long as issue 19 asks for (the site config may allow them; the body limit below fits them).
        ocpp = {"LocalPreAuthorize": True, "LocalAuthListMaxLength": 100_000, "SendLocalListMaxLength": 100_000,
                **options.pop("ocpp", {})}
        schemas = SPEC / "json" / "v16"
        if protocol == "ocpp1.6-json" and schemas.is_dir():
            options.setdefault("json_schemas", schemas)
        super().__init__(protocol=protocol, sample_interval=options.pop("sample_interval", 60), ocpp=ocpp,
                         **options)
        if protocol != "ocpp1.6-json":
            # Issue 19's lists of 50,000 need a body of about 6 MB; the README's advice is 20 MB, and 40
            # lets 100,000 entries reach the engine, so that its answer (not the transport's) is measured.
            self._settings["endpoint_extra"] = f"max_body = {40 << 20}"

    @property
    def pid(self) -> int:
        return self.processes["chargebox"].pid

    def booted(self, since: int = 0, timeout: float = 30.0) -> None:
        """Wait until the Central System has a BootNotification after record ``since`` (0: the
        site's first); a daemon that exits first (its config refused) makes the run NotAvailable,
        with the daemon's last log line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            daemon = self.processes["chargebox"]
            if daemon.poll() is not None:
                lines = self.log("chargebox").strip().splitlines()
                raise NotAvailable(f"{self.protocol} not available yet: the daemon exited ({daemon.returncode}) "
                                   f"with its site config: {lines[-1] if lines else 'no log'}")
            try:
                self.cs("GET", f"/wait?action=BootNotification&count=1&timeout=1&since={since}")
                return
            except OSError:  # 504: not yet
                continue
        raise NotAvailable(f"no BootNotification from the daemon within {timeout:.0f} s")


def soap(site: SimulatedSite) -> SoapProtocol:
    """The site's SOAP protocol (1.5 or 1.6): its namespaces and WSDLs, for a request the bench renders."""
    protocol = SOAP_PROTOCOLS.get(site.protocol)
    if protocol is None:
        raise NotAvailable(f"{site.protocol} has no SOAP endpoint")
    return protocol


def send_local_list(site: BenchSite, id_tags: Sequence[str], timeout: float = 600.0) -> tuple[dict[str, Any], float]:
    """SendLocalList Full of ``id_tags`` (all Accepted), with the next list version, sent by the reference
    Central System: the call's record and its seconds. Over OCPP-J the seconds are the Central
    System's round trip, from the CALL on the WebSocket to its answer read (its own render and schema
    check of the request before, the answer's check after, are not the box's); over SOAP the seconds
    from asking ``/call`` to its answer, or, for a body over :data:`SOAP_CALL_BODY`, from the POST
    straight to the box's endpoint to its answer."""
    version = int(site.call("GetLocalListVersion", {})["payload"]["listVersion"])
    key = "localAuthorisationList" if site.protocol == "ocpp1.5-soap" else "localAuthorizationList"  # 1.6 spells it so
    payload = {"updateType": "Full", "listVersion": max(0, version) + 1,
               key: [{"idTag": tag, "idTagInfo": {"status": "Accepted"}} for tag in id_tags]}
    body = {"chargeBoxIdentity": site.identity, "action": "SendLocalList", "payload": payload, "timeout": timeout}
    if site.protocol != JSON and len(json.dumps(body)) > SOAP_CALL_BODY:
        return send_local_list_soap(site, id_tags, max(0, version) + 1, timeout)
    start = time.perf_counter()
    try:
        answer: dict[str, Any] = SimulatedSite._http(site.cs_url, "POST", "/call", body, timeout=timeout + 10)
    except urllib.error.HTTPError as err:
        raise NotAvailable(f"the Central System's /call refused the list: HTTP {err.code}") from err
    elapsed = time.perf_counter() - start
    answer["route"] = "/call"
    round_trip = answer.get("round_trip")
    return answer, round_trip if site.protocol == JSON and round_trip is not None else elapsed


def send_local_list_soap(site: BenchSite, id_tags: Sequence[str], version: int,
                         timeout: float) -> tuple[dict[str, Any], float]:
    """SendLocalList Full as a SOAP request POSTed to the box's endpoint from this process (rendered
    by the box's own binding of the site's version before the clock starts); the answer's status and
    the seconds from the POST to the answer."""
    protocol = soap(site)
    request = SendLocalListRequest(update_type=UpdateType.FULL, list_version=version, local_authorisation_list=[
        AuthorisationData(tag, IdTagInfo(AuthorizationStatus.ACCEPTED)) for tag in id_tags])
    url = f"http://127.0.0.1:{site.box_port}/"
    body = envelope.build(envelope.Addressing(charge_box_identity=site.identity, action="/SendLocalList",
                                              message_id=envelope.new_message_id(), to=url),
                          protocol.cp_namespace, charge_point_service(protocol).render(request, "SendLocalList"))
    post = urllib.request.Request(url, data=body, headers={"Content-Type": f"{envelope.CONTENT_TYPE}; charset=utf-8"})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(post, timeout=timeout) as response:
            text = response.read().decode()
    except urllib.error.HTTPError as err:
        return {"payload": None, "fault": f"HTTP {err.code}", "route": "direct"}, time.perf_counter() - start
    elapsed = time.perf_counter() - start
    status = re.search(r"<(?:\w+:)?status>(\w+)</", text)
    return {"payload": {"status": status.group(1)} if status else None, "fault": None if status else text[:200],
            "route": "direct SOAP POST"}, elapsed


def last_seq(site: SimulatedSite) -> int:
    record = site.cs("GET", "/health")
    return int(record["records"])


# -- the daemon's process, from /proc ---------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (proc(5) stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (resident now) and VmHWM (resident peak since start) of /proc/PID/status, in MB."""
    fields = (line.split() for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return {f[0].rstrip(":"): int(f[1]) / 1024 for f in fields if f and f[0] in ("VmRSS:", "VmHWM:")}


def settle(pid: int, seconds: float = 10.0) -> float:
    """The daemon's RSS once it has stopped moving (two readings 1 s apart within 1 %), or after ``seconds``."""
    rss = memory_mb(pid)["VmRSS"]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = memory_mb(pid)["VmRSS"]
        if abs(now - rss) <= 0.01 * rss:
            return now
        rss = now
    return rss


# -- figures ----------------------------------------------------------------------------------------

def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def spread(values: Sequence[float], unit: str, digits: int = 1) -> str:
    """The median of repeats with their min-max."""
    return (f"{percentile(values, 50):.{digits}f} {unit} (min {min(values):.{digits}f}, "
            f"max {max(values):.{digits}f}, n={len(values)})")


def ratio(measured: float, peer: float) -> str:
    return f"{measured / peer:.2f}x" if peer else "-"


def print_table(rows: Sequence[Row], title: str) -> None:
    print(title)
    print("| measure | goal | measured | peer (same run) | ratio |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(f"| {row.measure} | {row.goal} | {row.measured} | {row.peer} | {row.ratio} |")
    sys.stdout.flush()


# -- peers, each in its own process -----------------------------------------------------------------

class Peer:
    """A bench helper script run as a child that prints one JSON line per answer; ``ask`` sends it
    one command line on stdin and reads the answer."""

    def __init__(self, script: str, *args: str) -> None:
        self.process = subprocess.Popen([sys.executable, str(BENCH / script), *args], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        self.ready = self.read()

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.process.args!r} exited with {self.process.wait()}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def ask(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self.read()

    @property
    def pid(self) -> int:
        return self.process.pid

    def close(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()

    def __enter__(self) -> Peer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def http_peer(*args: str) -> dict[str, Any]:
    """One run of http_peer.py (``post`` or ``load``) in its own process; what it printed."""
    out = subprocess.run([sys.executable, str(BENCH / "http_peer.py"), *args], capture_output=True, text=True,
                         check=True, timeout=600).stdout
    answer: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return answer


# -- the command line -------------------------------------------------------------------------------

def arguments(description: str, sizes: dict[str, tuple[int, int]]) -> argparse.ArgumentParser:
    """``--protocol``, ``--full`` and one option per size (quick default, ``--full`` value)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--protocol", choices=PROTOCOLS, default="ocpp1.5-soap",
                        help="what the daemon and the reference Central System speak (default ocpp1.5-soap)")
    parser.add_argument("--full", action="store_true", help="issue 19's sizes instead of the quick ones")
    for name, (quick, full) in sizes.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=None,
                            help=f"default {quick}, {full} with --full")
    return parser


def parse(parser: argparse.ArgumentParser, sizes: dict[str, tuple[int, int]],
          argv: Sequence[str] | None = None) -> argparse.Namespace:
    options = parser.parse_args(argv)
    for name, (quick, full) in sizes.items():
        if getattr(options, name) is None:
            setattr(options, name, full if options.full else quick)
    return options


def run_alone(title: str, measure: Callable[[BenchSite, argparse.Namespace], list[Row]],
              options: argparse.Namespace, **site_options: Any) -> None:
    """A row script's main: one site for it, then its table."""
    site = BenchSite(options.protocol, **site_options)
    try:
        with site:
            site.booted()
            rows = measure(site, options)
    except NotAvailable as err:
        rows = [Row(title, "-", f"not measured: {err}")]
    finally:
        site.remove()
    print_table(rows, f"{title} ({options.protocol})")
