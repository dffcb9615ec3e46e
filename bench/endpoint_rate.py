"""Issue 19, row 7: requests the box's endpoint answers per second under load, beside a canned aiohttp
server answering the same bytes.

    python bench/endpoint_rate.py [--protocol ocpp1.5-soap] [--seconds S] [--concurrency C] [--repeats R | --full]

Over SOAP (1.5 or 1.6) a load generator in its own process (http_peer.py) keeps C connections busy
for S seconds with a GetLocalListVersion request (harmless, answered from the store) addressed to the
running daemon, through its whole endpoint (addressing checks, schema, handler, confirmation); then
the same load on a canned aiohttp server that answers every POST with the bytes the daemon answered.

Over OCPP-J the box has no endpoint: the Central System's requests come on the box's own WebSocket,
one at a time (OCPP-J 4.1.1), so C does not apply. The reference Central System makes GetLocalListVersion
again and again for S seconds (its control interface's ``/repeat``), each once the last is answered;
then the same on a canned OCPP-J charge point (http_peer.py ``answer``) connected to the same Central
System, answering every CALL with the payload the daemon answered.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import urllib.request
from pathlib import Path

from realpath import BenchSite, Peer, Row, arguments, http_peer, parse, percentile, ratio, run_alone, soap, spread

from chargebox.binding.soap import envelope
from chargebox.binding.soap.service import charge_point_service
from chargebox.config import JSON
from chargebox.ocpp.messages import GetLocalListVersionRequest

SIZES = {"seconds": (2, 10), "concurrency": (4, 4), "repeats": (1, 3)}
MEASURE, GOAL = "endpoint requests answered per second, under load", ">= 1,000/s"
#: The canned OCPP-J charge point's identity at the site's Central System.
CANNED = "CANNED-1"


def request_bytes(site: BenchSite) -> bytes:
    protocol = soap(site)
    return envelope.build(
        envelope.Addressing(charge_box_identity=site.identity, action="/GetLocalListVersion",
                            message_id="urn:uuid:bench-endpoint-rate", to=box_url(site)),
        protocol.cp_namespace,
        charge_point_service(protocol).render(GetLocalListVersionRequest(), "GetLocalListVersion"))


def box_url(site: BenchSite) -> str:
    return f"http://127.0.0.1:{site.box_port}/"


def repeat(site: BenchSite, identity: str, seconds: float) -> tuple[float, int]:
    """GetLocalListVersion made by the Central System again and again for ``seconds`` to ``identity``:
    the calls answered per second and how many were not."""
    result = BenchSite._http(site.cs_url, "POST", "/repeat", {
        "chargeBoxIdentity": identity, "action": "GetLocalListVersion", "payload": {}, "seconds": seconds},
        timeout=seconds + 30)
    return result["answered"] / result["seconds"], int(result["failed"])


def measure_json(site: BenchSite, options: argparse.Namespace) -> list[Row]:
    answer = site.call("GetLocalListVersion", {})["payload"]
    box, failed = [], 0
    for _ in range(options.repeats):
        rate, lost = repeat(site, site.identity, options.seconds)
        box.append(rate)
        failed += lost
    url = f"{site.cs('GET', '/health')['url']}/{CANNED}"
    with tempfile.TemporaryDirectory() as folder:
        payload = Path(folder) / "answer.json"
        payload.write_text(json.dumps(answer))
        with Peer("http_peer.py", "answer", url, str(payload)):
            peer = [repeat(site, CANNED, options.seconds)[0] for _ in range(options.repeats)]
    return [Row(MEASURE, GOAL, spread(box, "/s", 0) + (f", {failed} not answered" if failed else "")
                + f" (the Central System's GetLocalListVersion on the box's WebSocket, one at a time, "
                  f"{options.seconds} s)",
                f"canned OCPP-J charge point {spread(peer, '/s', 0)}", ratio(percentile(box, 50), percentile(peer, 50)))]


def measure(site: BenchSite, options: argparse.Namespace) -> list[Row]:
    if site.protocol == JSON:
        return measure_json(site, options)
    headers = {"Content-Type": f"{envelope.CONTENT_TYPE}; charset=utf-8"}
    with tempfile.TemporaryDirectory() as folder:
        request, answer = Path(folder) / "request.xml", Path(folder) / "answer.xml"
        request.write_bytes(request_bytes(site))
        with urllib.request.urlopen(urllib.request.Request(box_url(site), data=request.read_bytes(),
                                                           headers=headers), timeout=30) as response:
            answer.write_bytes(response.read())
        load = [str(options.seconds), str(options.concurrency)]
        box, failed = [], 0
        for _ in range(options.repeats):
            result = http_peer("load", box_url(site), str(request), headers["Content-Type"], *load)
            box.append(result["answered"] / result["seconds"])
            failed += int(result["failed"])
        with Peer("http_peer.py", "serve", str(answer), headers["Content-Type"]) as canned:
            url = f"http://127.0.0.1:{canned.ready['port']}/"
            peer = []
            for _ in range(options.repeats):
                result = http_peer("load", url, str(request), headers["Content-Type"], *load)
                peer.append(result["answered"] / result["seconds"])
    return [Row(MEASURE, GOAL, spread(box, "/s", 0) + (f", {failed} answers not 200" if failed else "")
                + f" ({options.concurrency} connections, {options.seconds} s)",
                f"canned aiohttp server {spread(peer, '/s', 0)}", ratio(percentile(box, 50), percentile(peer, 50)))]


if __name__ == "__main__":
    run_alone(MEASURE, measure, parse(arguments(__doc__.splitlines()[0], SIZES), SIZES))
