"""Meter poll cycle time: one ``ModbusMeter.read()`` (every measurand of the map) over Modbus TCP
and over Modbus RTU on a pseudo-terminal, against the simulator's meter, for every built-in map.

    python3 bench/meter_poll.py [--count 200]

A pty carries bytes without the UART's timing: on a real RS-485 line at 9600 baud add about
1 ms per byte sent and received (an SDM630 poll moves ~180 bytes: ~190 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "hw-sim")]

from hal.meter.maps import builtin_maps  # noqa: E402
from hal.meter.modbus import ModbusMeter  # noqa: E402
from hwsim.meter import ModbusMeterServer, RtuBus, SimMeter  # noqa: E402


async def measure(model: str, transport: str, count: int) -> tuple[list[float], int]:
    server = ModbusMeterServer(SimMeter(currents=lambda: (16.0, 16.0, 16.0), energy_wh=1e6), model=model)
    await server.start()
    with tempfile.TemporaryDirectory() as tmp:
        bus = RtuBus([server], link=Path(tmp) / "rs485") if transport == "rtu" else None
        meter = (ModbusMeter(model=model, serial_port=bus.path, max_power_w=1e9) if bus
                 else ModbusMeter(model=model, host="127.0.0.1", port=server.port, max_power_w=1e9))
        try:
            await meter.read()  # connect
            before = server.requests
            samples = []
            for _ in range(count):
                start = time.perf_counter()
                await meter.read()
                samples.append(time.perf_counter() - start)
            return samples, (server.requests - before) // count
        finally:
            await meter.close()
            if bus:
                bus.close()
            await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    print(f"one full meter read, {args.count} reads each (pty / loopback: no line timing)")
    for model in builtin_maps():
        for transport in ("tcp", "rtu"):
            samples, requests = asyncio.run(measure(model, transport, args.count))
            ms = sorted(s * 1000 for s in samples)
            p95 = ms[int(0.95 * (len(ms) - 1))]
            print(f"  {model:8s} {transport}  {requests} request(s)/read   median {statistics.median(ms):6.2f} ms"
                  f"   p95 {p95:6.2f} ms")


if __name__ == "__main__":
    main()
