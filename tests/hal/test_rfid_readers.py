"""Every serial reader driver against the simulator's reader on a pseudo-terminal.

Real drivers, real ptys, real time (a tty does not run on a virtual clock) with short windows; the
tests wait on the events the drivers emit. The same scenarios run for each protocol; the
protocol-specific framing faults follow.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from hwsim.reader import PtyCardReader, pn532_frame, rdm6300_frame

from hal.backends import check_options, load_backend
from hal.errors import ConfigurationError, DeviceUnavailable
from hal.events import CardPresented, DeviceFault, FaultKind
from hal.rfid.pn532 import Pn532Reader, command_frame, take_frame, uid_of_target
from hal.rfid.rdm6300 import Rdm6300Reader, parse_frame
from hal.rfid.serialport import SerialCardReader

from hal_helpers import Collector

HOLD = 0.3
CARDS = {
    "hexline": (bytes.fromhex("04A2B3C4D5E680"), bytes.fromhex("DEADBEEF")),
    "rdm6300": (bytes.fromhex("0A0016C3E9"), bytes.fromhex("1F00A1B2C3")),
    "pn532": (bytes.fromhex("04A2B3C4D5E680"), bytes.fromhex("DEADBEEF")),
}
Collect = Callable[[AsyncIterable[Any]], Collector[Any]]


def make_driver(protocol: str, path: str) -> SerialCardReader:
    options: dict[str, Any] = {"port": path, "hold_window": HOLD, "reopen_interval": 0.05}
    if protocol == "pn532":
        options |= {"poll_interval": 0.05, "timeout": 0.3}
    assert check_options("reader", protocol, options) == []
    driver: SerialCardReader = load_backend("reader", protocol)(**options, name="front")
    return driver


@pytest.fixture(params=sorted(CARDS))
def protocol(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def sim(protocol: str, tmp_path: Path) -> AsyncIterator[PtyCardReader]:
    device = PtyCardReader(protocol, link=tmp_path / "reader")
    yield device
    device.close()


@pytest.fixture
async def driver(protocol: str, sim: PtyCardReader) -> AsyncIterator[SerialCardReader]:
    reader = make_driver(protocol, sim.path)
    yield reader
    await reader.close()


async def test_held_card_is_one_presentation_and_ids_are_hex_byte_0_first(
    protocol: str, sim: PtyCardReader, driver: SerialCardReader, collect: Collect
) -> None:
    cards = collect(driver.cards())
    first, second = CARDS[protocol]
    await sim.present(first, hold=3 * HOLD, repeat_every=0.05)
    await sim.present(second, hold=0.1, repeat_every=0.05)
    got = await cards.next()
    assert got == CardPresented(uid=first, reader="front")
    assert got.id_token == first.hex().upper()
    assert (await cards.next()).uid == second
    assert cards.pending() == []
    assert driver.garbled_frames == 0


async def test_unplugged_reader_is_a_fault_and_recovers_by_itself(
    protocol: str, sim: PtyCardReader, driver: SerialCardReader, collect: Collect
) -> None:
    faults = collect(driver.faults())
    cards = collect(driver.cards())
    first, second = CARDS[protocol]
    await sim.present(first, hold=0.1, repeat_every=0.05)
    assert (await cards.next()).uid == first
    sim.unplug()
    fault = await faults.next()
    assert (fault.kind, fault.active) == (FaultKind.READER, True)
    assert driver.active_faults.keys() == {FaultKind.READER}
    sim.replug()
    assert await faults.next() == DeviceFault(FaultKind.READER, active=False)
    await sim.present(second, hold=0.1, repeat_every=0.05)
    assert (await cards.next()).uid == second
    assert driver.active_faults == {}


async def test_reader_absent_at_start_is_a_fault_until_it_appears(
    protocol: str, sim: PtyCardReader, driver: SerialCardReader, collect: Collect
) -> None:
    sim.unplug()
    faults = collect(driver.faults())
    cards = collect(driver.cards())
    assert (await faults.next()).active
    sim.replug()
    assert not (await faults.next()).active
    first, _ = CARDS[protocol]
    await sim.present(first, hold=0.1, repeat_every=0.05)
    assert (await cards.next()).uid == first


async def test_next_card_raises_when_the_reader_goes_away(sim: PtyCardReader, driver: SerialCardReader) -> None:
    await driver.open()
    sim.unplug()
    with pytest.raises(DeviceUnavailable):
        async with asyncio.timeout(3.0):
            await driver.next_card()


# -- RDM6300 framing --------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["rdm6300"])
async def test_rdm6300_garbled_frames_are_dropped_and_counted(
    sim: PtyCardReader, driver: SerialCardReader, collect: Collect
) -> None:
    await driver.open()  # opening a serial port flushes what arrived before
    cards = collect(driver.cards())
    good = rdm6300_frame(bytes.fromhex("0A0016C3E9"))
    other = rdm6300_frame(bytes.fromhex("1F00A1B2C3"))
    sim.write_raw(good)
    sim.write_raw(b"\r\n")  # a clone's line end: idle, not garbled
    sim.write_raw(b"\xff\xfe")  # noise between frames
    sim.write_raw(other[:-3] + b"00" + other[-1:])  # wrong checksum
    sim.write_raw(other[:-1] + b"\x04")  # ETX lost ...
    sim.write_raw(b"\x02" + b"1F00A1B2ZZ" + other[11:])  # not hex
    sim.write_raw(other)  # ... and a good frame right after is still read
    assert (await cards.next()).uid == bytes.fromhex("0A0016C3E9")
    assert (await cards.next()).uid == bytes.fromhex("1F00A1B2C3")
    assert driver.garbled_frames == 4


def test_rdm6300_parse_frame() -> None:
    assert parse_frame(b"\x020A0016C3E9" + b"%02X" % (0x0A ^ 0x00 ^ 0x16 ^ 0xC3 ^ 0xE9) + b"\x03") == bytes.fromhex(
        "0A0016C3E9"
    )
    assert parse_frame(b"\x020A0016C3E900\x03") is None  # checksum
    assert parse_frame(b"\x020A0016C3E9") is None  # short


# -- PN532 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["pn532"])
async def test_pn532_is_woken_configured_and_polled(sim: PtyCardReader, driver: SerialCardReader) -> None:
    assert isinstance(driver, Pn532Reader)
    await driver.open()
    assert driver.firmware[:1] == b"\x32"
    assert sim.commands == 3  # SAMConfiguration, GetFirmwareVersion, RFConfiguration


@pytest.mark.parametrize("protocol", ["pn532"])
async def test_pn532_garbled_response_is_dropped_and_counted(
    sim: PtyCardReader, driver: SerialCardReader, collect: Collect
) -> None:
    await driver.open()
    sim.garble_next = True
    cards = collect(driver.cards())
    await sim.present(bytes.fromhex("DEADBEEF"), hold=0.2)
    assert (await cards.next()).uid == bytes.fromhex("DEADBEEF")
    assert driver.garbled_frames == 1


async def test_pn532_that_never_answers_is_unavailable(tmp_path: Path) -> None:
    mute = PtyCardReader("hexline", link=tmp_path / "mute")  # a tty where nothing answers
    try:
        driver = Pn532Reader(port=mute.path, timeout=0.05, hold_window=0.5, poll_interval=0.05)
        with pytest.raises(DeviceUnavailable, match="PN532 not answering"):
            await driver.open()
        assert not driver.is_open
    finally:
        mute.close()


def test_pn532_frames() -> None:
    assert command_frame(0x4A, b"\x01\x00") == bytes.fromhex("0000FF04FCD44A0100E100")
    buf = bytearray(bytes.fromhex("0000FF00FF00") + pn532_frame(b"\xd5\x4b\x00"))
    assert take_frame(buf) == b""
    assert take_frame(buf) == b"\xd5\x4b\x00"
    assert take_frame(buf) is None
    assert uid_of_target(bytes.fromhex("0101004408" "04" "DEADBEEF")) == bytes.fromhex("DEADBEEF")
    assert uid_of_target(bytes.fromhex("0101004408" "05" "DEADBEEF00")) is None  # no such UID length


def test_pn532_options_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="hold_window"):
        Pn532Reader(port="/dev/null", poll_interval=1.0, hold_window=1.0)
    assert dict(check_options("reader", "pn532", {"port": "/dev/ttyS0", "poll_interval": "fast"})).keys() == {
        "poll_interval"
    }
    with pytest.raises(ConfigurationError, match="reopen_interval"):
        Rdm6300Reader(port="/dev/null", reopen_interval=0)
