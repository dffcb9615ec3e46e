"""CPU used by polling a meter once a second: the Modbus driver in this process, the simulated
meter in its own (``hwsim run``), so only the polling side is measured.

    python3 bench/meter_cpu.py [--seconds 60] [--rtu]

Reports this process's CPU time (user + system) over the polling period as a share of one core,
and the idle baseline (same period, no polling) for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "hw-sim")]

from hal.meter.modbus import ModbusMeter  # noqa: E402


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def poll(meter: ModbusMeter | None, seconds: float) -> tuple[float, int]:
    start_cpu, start = cpu(), time.monotonic()
    reads = 0
    if meter is None:
        await asyncio.sleep(seconds)
    else:
        try:
            async with asyncio.timeout(seconds):
                async for _ in meter.readings(1.0):
                    reads += 1
        except TimeoutError:
            pass
    return (cpu() - start_cpu) / (time.monotonic() - start), reads


async def run(seconds: float, rtu: bool, ready: dict[str, object]) -> None:
    if rtu:
        meter = ModbusMeter(model="sdm630", serial_port=str(ready["meter_rtu"]))
    else:
        meter = ModbusMeter(model="sdm630", host="127.0.0.1", port=int(ready["connectors"]["1"]["meter_port"]))  # type: ignore[index]
    idle, _ = await poll(None, seconds)
    try:
        await meter.read()
        busy, reads = await poll(meter, seconds)
    finally:
        await meter.close()
    print(f"SDM630 over {'RTU (pty)' if rtu else 'TCP'}, polled every 1 s for {seconds:.0f} s: {reads} reads")
    print(f"  CPU while polling: {busy * 100:.3f} % of one core   (idle baseline {idle * 100:.3f} %)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rtu", action="store_true", help="poll over Modbus RTU on a pty instead of TCP")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ready_file = Path(tmp) / "ready"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "hw-sim")]))
        sim = subprocess.Popen(
            [sys.executable, "-m", "hwsim.cli", "run", "--control-port", "0", "--ready-file", str(ready_file),
             "--meter-rtu-link", str(Path(tmp) / "rs485")], env=env,
            stdout=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 20
            while not ready_file.exists() or not ready_file.read_text().endswith("\n"):
                if sim.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("hwsim did not start")
                time.sleep(0.05)
            asyncio.run(run(args.seconds, args.rtu, json.loads(ready_file.read_text())))
        finally:
            sim.terminate()
            sim.wait(10)


if __name__ == "__main__":
    main()
