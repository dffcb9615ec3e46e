"""Time from a reader frame written on a pseudo-terminal to the driver's card event.

    python3 bench/reader_latency.py [--count 300]

For the frame-sending protocols (hexline, rdm6300) the clock starts when the simulator writes the
frame; for the PN532, which is polled, it starts when the card enters the field, so the figure
includes up to one poll period. Target: at most 5 ms on a pty for a frame-sending reader.
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

from hal.backends import load_backend  # noqa: E402
from hwsim.reader import PtyCardReader, hex_frame, rdm6300_frame  # noqa: E402


async def measure(protocol: str, count: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        sim = PtyCardReader(protocol, link=Path(tmp) / "reader")
        options = {"port": sim.path, "hold_window": 0.5}
        if protocol == "pn532":
            options["poll_interval"] = 0.05
        driver = load_backend("reader", protocol)(**options)
        await driver.open()
        cards = driver.cards()
        samples = []
        try:
            for i in range(count):
                uid = (0x0A00000000 + i).to_bytes(5, "big") if protocol == "rdm6300" else (0x04000000 + i).to_bytes(4, "big")
                start = time.perf_counter()
                if protocol == "pn532":
                    sim.card = uid
                else:
                    sim.write_raw(hex_frame(uid) if protocol == "hexline" else rdm6300_frame(uid))
                card = await anext(cards)
                samples.append(time.perf_counter() - start)
                assert card.uid == uid, (card.uid, uid)
                sim.card = None
        finally:
            await cards.aclose()
            await driver.close()
            sim.close()
        return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    print(f"frame -> CardPresented on a pty, {args.count} cards each")
    for protocol in ("hexline", "rdm6300", "pn532"):
        samples = asyncio.run(measure(protocol, args.count if protocol != "pn532" else max(20, args.count // 10)))
        ms = sorted(s * 1000 for s in samples)
        p95 = ms[int(0.95 * (len(ms) - 1))]
        print(f"  {protocol:8s} median {statistics.median(ms):7.3f} ms   p95 {p95:7.3f} ms   max {ms[-1]:7.3f} ms")


if __name__ == "__main__":
    main()
