"""The hex-line card reader driver against a simulated reader on a pseudo-terminal.

The wire tests run the real driver on a real pty in real time (a tty does not run on a virtual
clock), with short hold windows; they wait on the events the driver emits, never on the clock.
The hold-window rules themselves are tested on a virtual clock with an in-memory backend.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from hwsim.reader import PtyCardReader

from hal.backends import check_options
from hal.errors import DeviceUnavailable
from hal.events import CardPresented
from hal.rfid.base import CardReader
from hal.rfid.hexline import HexLineReader, parse_line

from hal_helpers import Collector

CARD_A = bytes.fromhex("04A2B3C4D5E680")  # 7-byte ISO 14443 UID
CARD_B = bytes.fromhex("DEADBEEF")  # 4-byte UID
CARD_C = bytes.fromhex("0102030405060708090A")  # 10-byte UID

HOLD_WINDOW = 0.15  # short, so the wire tests stay fast


@pytest.fixture
async def sim() -> AsyncIterator[PtyCardReader]:
    device = PtyCardReader()
    yield device
    device.close()


@pytest.fixture
async def reader(sim: PtyCardReader) -> AsyncIterator[HexLineReader]:
    driver = HexLineReader(port=sim.port, hold_window=HOLD_WINDOW, name="front")
    await driver.open()
    yield driver
    await driver.close()


@pytest.fixture
async def collector(reader: HexLineReader) -> AsyncIterator[Collector[CardPresented]]:
    # Continuous reading, as the daemon does: the hold window is measured when frames are read, so
    # a test that stopped reading while a card is held would see stale frames as a new presentation.
    c: Collector[CardPresented] = Collector(reader.cards())
    yield c
    await c.stop()


async def test_held_card_is_one_presentation(sim: PtyCardReader, collector: Collector[CardPresented]) -> None:
    # Held for 4 hold windows, a frame every 0.05 s: many frames, one card.
    await sim.present(CARD_A, hold=4 * HOLD_WINDOW, repeat_every=0.05)
    assert sim.frames_sent >= 10
    # A different card afterwards: when it arrives every frame before it has been read.
    await sim.present(CARD_B, hold=0.0)
    assert await collector.next() == CardPresented(uid=CARD_A, reader="front")
    assert await collector.next() == CardPresented(uid=CARD_B, reader="front")
    assert collector.pending() == []


async def test_card_presented_twice_is_two_presentations(sim: PtyCardReader, collector: Collector[CardPresented]) -> None:
    await sim.present(CARD_A, hold=0.2, repeat_every=0.05)
    assert (await collector.next()).uid == CARD_A
    # The card is away from the reader for longer than the hold window. This sleep is the scenario
    # (the card's absence), not a wait for the driver: the test still waits on the event below.
    await asyncio.sleep(3 * HOLD_WINDOW)
    await sim.present(CARD_A, hold=0.1, repeat_every=0.05)
    assert (await collector.next()).uid == CARD_A
    await sim.present(CARD_B, hold=0.0)
    assert (await collector.next()).uid == CARD_B
    assert collector.pending() == []


async def test_two_cards_in_turn(sim: PtyCardReader, collector: Collector[CardPresented]) -> None:
    await sim.present(CARD_A, hold=0.0)
    await sim.present(CARD_C, hold=0.0)
    assert [(await collector.next()).uid, (await collector.next()).uid] == [CARD_A, CARD_C]


async def test_garbled_frames_are_dropped_and_counted(
    sim: PtyCardReader, reader: HexLineReader, collector: Collector[CardPresented]
) -> None:
    sim.write_raw(b"04A2B3C4D5E6ZZ\r\n")  # not hex
    sim.write_raw(b"04A2B3C\r\n")  # odd number of digits
    sim.write_raw(b"04A2B3\r\n")  # 3 bytes: too short for a UID
    sim.write_raw(b"0102030405060708090A0B\r\n")  # 11 bytes: too long for a UID
    sim.write_raw(b"04 A2 B3 C4\r\n")  # spaces
    sim.write_raw(b"\xff\xfe\x00\x80\r\n")  # binary noise
    sim.write_raw(b"F" * 100)  # overlong: no newline within 64 bytes ...
    sim.write_raw(b"0102\r\n")  # ... and its tail is discarded with it, not counted again
    await sim.present(CARD_B, hold=0.0)
    assert (await collector.next()).uid == CARD_B
    assert reader.garbled_frames == 7


async def test_frame_split_across_writes(sim: PtyCardReader, collector: Collector[CardPresented]) -> None:
    sim.write_raw(b"04A2B3")
    sim.write_raw(b"C4D5E6")
    sim.write_raw(b"80\r")
    sim.write_raw(b"\n")
    assert (await collector.next()).uid == CARD_A


async def test_missing_port_raises_device_unavailable() -> None:
    driver = HexLineReader(port="/dev/chargebox-no-such-tty")
    with pytest.raises(DeviceUnavailable) as info:
        await driver.open()
    assert "/dev/chargebox-no-such-tty" in str(info.value)
    assert isinstance(info.value.__cause__, OSError)


async def test_unplugged_reader_raises_device_unavailable(sim: PtyCardReader, reader: HexLineReader) -> None:
    sim.close()
    with pytest.raises(DeviceUnavailable):
        async with asyncio.timeout(2.0):
            await reader.next_card()


def test_parse_line() -> None:
    assert parse_line(b"04A2B3C4D5E680\r") == CARD_A
    assert parse_line(b"deadbeef") == CARD_B  # lower case is still hex
    assert parse_line(b"") is None
    assert parse_line(b"DEADBEE") is None


def test_options_match_the_reader_config_table() -> None:
    options = {"port": "/dev/ttyUSB0", "baudrate": 9600, "hold_window": 1.0}
    assert check_options("reader", "hexline", options) == []
    problems = dict(check_options("reader", "hexline", {"baudrate": "fast", "name": "x"}))
    assert set(problems) == {"baudrate", "name", "port"}


# -- the hold-window rules, on a virtual clock -------------------------------------------------


class ScriptedReader(CardReader):
    """An in-memory backend: frames are put on a queue by the test."""

    def __init__(self, hold_window: float = 1.0) -> None:
        super().__init__(hold_window=hold_window)
        self.frames: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def _open(self) -> None:
        pass

    async def _close(self) -> None:
        pass

    async def _read_uid(self) -> bytes | None:
        return await self.frames.get()


async def _feed(reader: ScriptedReader, script: list[tuple[float, bytes | None]]) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    for at, frame in script:
        await asyncio.sleep(start + at - loop.time())
        reader.frames.put_nowait(frame)


@pytest.mark.looptime
async def test_hold_window_is_measured_from_the_last_frame() -> None:
    reader = ScriptedReader(hold_window=1.0)
    # Held for 10 s with a frame every 0.3 s (a minute-long hold would be the same), away for 1.5 s,
    # then back; a garbled frame in the middle changes nothing.
    script: list[tuple[float, bytes | None]] = [(i * 0.3, CARD_A) for i in range(34)]
    script.insert(5, (1.45, None))
    script += [(11.4, CARD_A), (11.6, CARD_A), (12.0, CARD_B)]
    feeder = asyncio.create_task(_feed(reader, script))
    loop = asyncio.get_running_loop()
    start = loop.time()
    seen = []
    for _ in range(3):
        card = await reader.next_card()
        seen.append((round(loop.time() - start, 2), card.uid))
    await feeder
    assert seen == [(0.0, CARD_A), (11.4, CARD_A), (12.0, CARD_B)]
    assert reader.garbled_frames == 1


@pytest.mark.looptime
async def test_frame_exactly_at_hold_window_is_still_held() -> None:
    reader = ScriptedReader(hold_window=1.0)
    loop = asyncio.get_running_loop()
    start = loop.time()
    feeder = asyncio.create_task(_feed(reader, [(0.0, CARD_A), (1.0, CARD_A), (2.5, CARD_A)]))
    await reader.next_card()
    await reader.next_card()
    await feeder
    # The frame at 1.0 s was the held card; only the one at 2.5 s is a new presentation.
    assert loop.time() - start == pytest.approx(2.5)
