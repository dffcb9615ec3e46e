"""The AT modem driver against the simulator's modem on a pseudo-terminal.

Real driver, real pty, real time (a tty does not run on a virtual clock) with short intervals; the
tests wait on what the driver yields and reports, never on the clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hal_helpers import Collector
from hwsim.modem import SENT, UNSENT, PtyModem

from hal.backends import check_options, load_backend
from hal.errors import ConfigurationError, DeviceUnavailable
from hal.events import DeviceFault, FaultKind, ModemIdentity, SmsReceived
from hal.modem.at import AtModem

FAST: dict[str, Any] = {"timeout": 0.3, "reopen_interval": 0.05, "max_silent": 2}


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[PtyModem]:
    device = PtyModem(link=tmp_path / "modem")
    yield device
    device.close()


def make_driver(sim: PtyModem, **options: Any) -> AtModem:
    options = {"port": sim.path, **FAST, "poll_interval": 30.0, **options}
    assert check_options("modem", "at", options) == []
    driver: AtModem = load_backend("modem", "at")(**options, name="modem")
    return driver


@pytest.fixture
async def driver(sim: PtyModem) -> AsyncIterator[AtModem]:
    modem = make_driver(sim)
    yield modem
    await modem.close()


async def test_messages_stored_while_nobody_listened_come_first_and_are_deleted(
    sim: PtyModem, driver: AtModem,
) -> None:
    sim.receive_sms("CB-SIM-1", "+31611111111")
    sim.receive_sms("", "+31622222222")
    messages = Collector(driver.messages())
    first, second = await messages.next(), await messages.next()
    assert (first.index, first.sender, first.text) == (1, "+31611111111", "CB-SIM-1")
    assert (second.index, second.sender, second.text) == (2, "+31622222222", "")
    assert first.sent_at.count(",") == 1  # the service centre time stamp, "yy/MM/dd,hh:mm:ss+zz"
    # Each one is deleted once taken: a new one then finds slot 1 free again.
    assert sim.receive_sms("after", "+31633333333") == 1
    assert (await messages.next()).text == "after"
    assert list(sim.history)[:6] == ["AT", "ATE0", "AT+CMGF=1", "AT+CPMS=?", 'AT+CPMS="ME","ME","ME"',
                                     "AT+CNMI=2,1,0,0,0"]
    assert 'AT+CMGL="ALL"' in sim.history and "AT+CMGD=2" in sim.history
    await messages.stop()


async def listening(sim: PtyModem, driver: AtModem) -> Collector[SmsReceived]:
    """The driver's messages, once it has listed the storages and waits for indications: its first
    signal poll comes right after the listing, and a weak signal there is an event to wait on."""
    rssi = sim.rssi
    sim.set_signal(0)
    faults: Collector[DeviceFault] = Collector(driver.faults())
    messages: Collector[SmsReceived] = Collector(driver.messages())
    assert (await faults.next()).kind is FaultKind.WEAK_SIGNAL
    await faults.stop()
    sim.set_signal(rssi)
    return messages


async def test_a_new_message_is_read_on_its_indication(sim: PtyModem, driver: AtModem) -> None:
    messages = await listening(sim, driver)  # the poll is 30 s away
    sim.receive_sms("wake up\nsecond line", "+31611111111")
    sms = await messages.next()
    assert (sms.index, sms.text) == (1, "wake up\nsecond line")
    assert "AT+CMGR=1" in sim.history
    # A burst: every one arrives, each once, in order.
    for n in range(5):
        sim.receive_sms(f"burst {n}", "+31611111111")
    assert [(await messages.next()).text for _ in range(5)] == [f"burst {n}" for n in range(5)]
    assert messages.pending() == []
    await messages.stop()


async def test_a_modem_that_stops_answering_is_a_fault_and_its_messages_wait_for_it(
    sim: PtyModem,
) -> None:
    driver = make_driver(sim, poll_interval=0.1)
    faults: Collector[DeviceFault] = Collector(driver.faults())
    messages: Collector[SmsReceived] = Collector(driver.messages())
    await driver.identity()
    sim.set_silent(True)
    lost = await faults.next()
    assert (lost.kind, lost.active) == (FaultKind.MODEM, True)
    assert "not answering" in lost.detail or "did not answer" in lost.detail
    sim.receive_sms("sent while it was hung", "+31611111111")  # stored, never announced
    assert messages.pending() == []
    sim.set_silent(False)
    back = await faults.next()
    assert (back.kind, back.active) == (FaultKind.MODEM, False)
    assert (await messages.next()).text == "sent while it was hung"  # found by listing the storage again
    await messages.stop()
    await faults.stop()
    await driver.close()


async def test_a_port_that_goes_away_is_a_fault_until_it_is_back(sim: PtyModem, tmp_path: Path) -> None:
    driver = make_driver(sim)
    faults: Collector[DeviceFault] = Collector(driver.faults())
    messages: Collector[SmsReceived] = Collector(driver.messages())
    await driver.identity()
    sim.close()  # the USB modem is pulled out: its pty and link go away
    lost = await faults.next()
    assert (lost.kind, lost.active) == (FaultKind.MODEM, True)
    replugged = PtyModem(link=tmp_path / "modem")  # plugged back in; udev points the link at it
    try:
        replugged.receive_sms("hello again", "+31611111111")
        assert (await faults.next()).active is False
        assert (await messages.next()).text == "hello again"
    finally:
        await messages.stop()
        await faults.stop()
        await driver.close()
        replugged.close()


async def test_weak_signal_is_a_fault_below_the_threshold_with_hysteresis(sim: PtyModem) -> None:
    driver = make_driver(sim, poll_interval=0.05, weak_signal_dbm=-101)
    faults: Collector[DeviceFault] = Collector(driver.faults())
    messages: Collector[SmsReceived] = Collector(driver.messages())
    sim.set_signal(3)  # -107 dBm
    weak = await faults.next()
    assert (weak.kind, weak.active) == (FaultKind.WEAK_SIGNAL, True)
    assert weak.detail == "signal -107 dBm, below -101 dBm"
    sim.set_signal(7)  # -99 dBm: above the threshold, but not by the hysteresis yet
    assert (await driver.signal()).rssi_dbm == -99
    assert FaultKind.WEAK_SIGNAL in driver.active_faults
    sim.set_signal(8, ber=2)  # -97 dBm
    assert (await faults.next()) == DeviceFault(FaultKind.WEAK_SIGNAL, active=False)
    assert driver.last_signal is not None and (driver.last_signal.rssi_dbm, driver.last_signal.ber) == (-97, 2)
    sim.set_signal(99, ber=99)  # not known or not detectable: no network at all
    no_network = await faults.next()
    assert no_network.active and no_network.detail == "signal no network, below -101 dBm"
    await messages.stop()
    await faults.stop()
    await driver.close()


@pytest.mark.parametrize("command", ["AT+CCID", "AT+ICCID"])
async def test_identity_is_read_from_the_sim(tmp_path: Path, command: str) -> None:
    sim = PtyModem(iccid_command=command, iccid="8931440400012345678", imsi="204043123456789")
    driver = make_driver(sim)
    try:
        assert await driver.identity() == ModemIdentity(iccid="8931440400012345678", imsi="204043123456789")
    finally:
        await driver.close()
        sim.close()


@pytest.mark.parametrize(("iccid", "expected"), [("89314404000123456789", "89314404000123456789"),
                                                 ("8931440400012345678F", "8931440400012345678")])
async def test_a_quectel_modem_is_asked_for_the_iccid_with_its_own_command(iccid: str, expected: str) -> None:
    sim = PtyModem(profile="quectel", iccid=iccid)  # AT+QCCID only: AT+CCID and AT+ICCID are ERROR
    driver = make_driver(sim)
    try:
        assert await driver.identity() == ModemIdentity(iccid=expected, imsi="204043123456789")
        assert "AT+CGMI" in sim.history and "AT+QCCID" in sim.history and "AT+CCID" not in sim.history
    finally:
        await driver.close()
        sim.close()


async def test_messages_are_read_from_the_storage_the_modem_puts_them_in(tmp_path: Path) -> None:
    # A modem that reads the SIM ("SM") and stores new messages in its own memory ("ME").
    sim = PtyModem(storages=("SM", "SM", "ME"), link=tmp_path / "modem")
    sim.receive_sms("while the daemon was down", "+31611111111")
    driver = make_driver(sim)
    try:
        messages = await listening(sim, driver)
        (stored,) = messages.pending()
        assert (stored.text, stored.storage, stored.index) == ("while the daemon was down", "ME", 1)
        assert sim.preferred == ["ME", "ME", "ME"] and driver.storage == "ME"  # to read, write, receive in
        sim.receive_sms("announced", "+31611111111")
        announced = await messages.next()
        assert (announced.text, announced.storage) == ("announced", "ME")
        # A message the modem puts on the SIM anyway (class 2, or its settings reset meanwhile):
        # +CMTI names "SM", and it is read and deleted there.
        sim.preferred[2] = "SM"
        sim.receive_sms("on the SIM", "+31611111111")
        on_sim = await messages.next()
        assert (on_sim.text, on_sim.storage, on_sim.index) == ("on the SIM", "SM", 1)
        sim.receive_sms("and the next one", "+31611111111")
        assert (await messages.next()).text == "and the next one"
        await messages.stop()
        # Each was deleted once taken, where it was (before the driver read the next one).
        assert sim.memories["ME"] == {}
        assert [sms.text for sms in sim.memories["SM"].values()] in ([], ["and the next one"])
    finally:
        await driver.close()
        sim.close()


async def test_outgoing_messages_in_storage_are_neither_taken_nor_deleted(tmp_path: Path) -> None:
    sim = PtyModem(storages=("ME", "ME", "ME"), link=tmp_path / "modem")
    sim.store("CB-SIM-1", "+31699999999", SENT)  # a message someone sent from this modem, kept
    sim.store("draft", "+31699999999", UNSENT)
    sim.receive_sms("received", "+31611111111")
    driver = make_driver(sim)
    try:
        messages = await listening(sim, driver)
        assert [m.text for m in messages.pending()] == ["received"]
        assert sorted((i, s.status) for i, s in sim.memories["ME"].items()) == [(1, SENT), (2, UNSENT)]
        sim.receive_sms("new", "+31611111111")  # slot 3: the outgoing ones keep 1 and 2
        new = await messages.next()
        assert (new.text, new.index) == ("new", 3)
        assert [sim.memories["ME"][i].status for i in (1, 2)] == [SENT, UNSENT]
        await messages.stop()
    finally:
        await driver.close()
        sim.close()


async def test_a_modem_that_never_answers_cannot_be_opened(sim: PtyModem, driver: AtModem) -> None:
    sim.set_silent(True)
    with pytest.raises(DeviceUnavailable, match="not answering"):
        await driver.open()
    assert not driver.is_open
    with pytest.raises(DeviceUnavailable, match="cannot open"):
        await AtModem(port=str(Path(sim.path).parent / "no-such-modem")).open()


def test_options_are_checked() -> None:
    assert check_options("modem", "at", {"port": "/dev/ttyUSB2", "weak_signal_dbm": -95}) == []
    problems = dict(check_options("modem", "at", {"baudrate": "fast", "apn": "internet"}))
    assert set(problems) == {"baudrate", "apn", "port"}
    with pytest.raises(ConfigurationError, match="weak_signal_dbm"):
        AtModem(port="/dev/null", weak_signal_dbm=-20)
    with pytest.raises(ConfigurationError, match="poll_interval"):
        AtModem(port="/dev/null", poll_interval=0)
    with pytest.raises(ConfigurationError, match="max_silent"):
        AtModem(port="/dev/null", max_silent=0)
