"""The peer for memory and CPU per message (issue 19): a minimal OCPP 1.6 JSON charge point built on
the PyPI ``ocpp`` package (mobilityhouse) over an aiohttp WebSocket, connected to the reference
Central System run as ``python -m hwsim.centralsystem --protocol ocpp1.6-json``, each in its own
process. It keeps a local list in a dict, as the least a box can do.

:class:`OcppPeer` starts both; the charge point (this script) boots, then answers JSON commands on
stdin, one per line: ``{"meter": N}`` sends N MeterValues one after another and answers the seconds
and the CPU seconds they took in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import aiohttp
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, RegistrationStatus, UpdateStatus
from realpath import BENCH, SPEC, Peer, memory_mb

sys.path.insert(0, str(BENCH.parent))  # the checkout: the tests' ocpp peer (tests/mobilityhouse.py)
from tests.mobilityhouse import AiohttpConnection  # noqa: E402

IDENTITY = "PEER-1"


class MinimalChargePoint(ChargePoint):
    local_list: dict[str, Any] = {}

    @on(Action.send_local_list)
    def on_send_local_list(self, list_version: int, update_type: str,
                           local_authorization_list: list[dict[str, Any]] | None = None) -> Any:
        self.local_list = {entry["id_tag"]: entry.get("id_tag_info") for entry in local_authorization_list or []}
        return call_result.SendLocalList(status=UpdateStatus.accepted)


async def send_meter_values(cp: MinimalChargePoint, count: int) -> dict[str, float]:
    now = datetime.now(timezone.utc).isoformat()
    start, cpu = time.perf_counter(), time.process_time()
    for n in range(count):
        await cp.call(call.MeterValues(connector_id=1, meter_value=[
            {"timestamp": now, "sampled_value": [{"value": str(1000 + n)}]}]))
    return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu}


async def charge_point(url: str) -> None:
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession() as session, session.ws_connect(
            f"{url}/{IDENTITY}", protocols=("ocpp1.6",), max_msg_size=0) as ws:
        cp = MinimalChargePoint(IDENTITY, AiohttpConnection(ws), response_timeout=30)
        task = asyncio.create_task(cp.start())
        boot = await cp.call(call.BootNotification(charge_point_model="peer", charge_point_vendor="bench"))
        print(json.dumps({"booted": boot.status == RegistrationStatus.accepted}), flush=True)
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            command = json.loads(line)
            print(json.dumps(await send_meter_values(cp, int(command["meter"]))), flush=True)
        task.cancel()


class OcppPeer:
    """The reference Central System speaking 1.6 JSON and the minimal charge point, as processes."""

    def __init__(self) -> None:
        args = [sys.executable, "-m", "hwsim.centralsystem", "--protocol", "ocpp1.6-json", "--log-level", "ERROR"]
        if (SPEC / "json" / "v16").is_dir():
            args += ["--json-schemas", str(SPEC / "json" / "v16")]
        self.central_system = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.central_system.stdout is not None
        ready = json.loads(self.central_system.stdout.readline())
        self.control = f"http://127.0.0.1:{ready['control_port']}"
        self.charge_point = Peer("ocpp_peer.py", ready["url"].rstrip("/"))
        assert self.charge_point.ready["booted"], self.charge_point.ready

    def memory_mb(self) -> dict[str, float]:
        return memory_mb(self.charge_point.pid)

    def meter_values(self, count: int) -> dict[str, float]:
        return self.charge_point.ask({"meter": count})

    def send_local_list(self, id_tags: list[str]) -> float:
        """SendLocalList Full through the Central System's ``/call``; the seconds of its round trip, from
        the CALL on the WebSocket to the answer (as the box's figure is taken)."""
        payload = {"updateType": "Full", "listVersion": 1, "localAuthorizationList": [
            {"idTag": tag, "idTagInfo": {"status": "Accepted"}} for tag in id_tags]}
        body = json.dumps({"chargeBoxIdentity": IDENTITY, "action": "SendLocalList", "payload": payload,
                           "timeout": 600}).encode()
        request = urllib.request.Request(f"{self.control}/call", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=620) as response:
            answer = json.loads(response.read())
        assert answer["payload"] == {"status": "Accepted"}, answer
        seconds: float = answer["round_trip"]
        return seconds

    def close(self) -> None:
        self.charge_point.close()
        self.central_system.terminate()
        self.central_system.wait(10)
        assert self.central_system.stdout is not None
        self.central_system.stdout.close()

    def __enter__(self) -> OcppPeer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def ocpp_peer(shared: OcppPeer | None) -> Iterator[OcppPeer]:
    """The run's peer (all.py starts one for every row), or one for this row alone."""
    if shared is not None:
        yield shared
        return
    with OcppPeer() as peer:
        yield peer


if __name__ == "__main__":
    asyncio.run(charge_point(sys.argv[1]))
