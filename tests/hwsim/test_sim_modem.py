"""The simulator's modem: its AT subset on the wire, and its control interface and shell commands."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from hwsim.modem import PtyModem
from hwsim.world import World

from hal.errors import DeviceTimeout
from hal.modem.atchannel import AtChannel, AtCommandError
from tests.hwsim.test_control_faults import control, hwsim

__all__ = ["control"]  # the simulator behind its control interface, as a fixture


@pytest.fixture
async def at() -> AsyncIterator[tuple[PtyModem, AtChannel]]:
    modem = PtyModem(iccid_command="AT+ICCID")
    channel = AtChannel(modem.path, 115200)
    await channel.open()
    yield modem, channel
    await channel.close()
    modem.close()


async def test_the_at_subset(at: tuple[PtyModem, AtChannel]) -> None:
    modem, channel = at
    assert await channel.command("AT", 1) == []  # echoed (echo is on until ATE0, V.250): dropped
    assert await channel.command("ATE0", 1) == []
    assert await channel.command("AT", 1) == []
    with pytest.raises(AtCommandError) as pdu:
        await channel.command('AT+CMGL="ALL"', 1)  # no PDU mode here: text mode first
    assert pdu.value.code == 303
    await channel.command("AT+CMGF=1", 1)
    assert await channel.command("AT+CMGF?", 1) == ["+CMGF: 1"]
    assert await channel.command("AT+CSQ", 1) == ["+CSQ: 20,0"]
    assert await channel.command("AT+ICCID", 1) == ["+ICCID: 89314404000123456789"]
    assert await channel.command("AT+CIMI", 1) == ["204043123456789"]
    with pytest.raises(AtCommandError, match="'ERROR' to AT\\+CCID"):
        await channel.command("AT+CCID", 1)  # this maker's firmware names it AT+ICCID

    modem.capacity = 2
    assert modem.receive_sms("one", "+31611111111") == 1
    assert modem.receive_sms("two", "+31622222222") == 2
    assert modem.receive_sms("three", "+31633333333") is None and modem.refused == 1  # the SIM is full
    listing = await channel.command("AT+CMGL", 1)  # the default: unread ones
    assert [line.split(",")[1] for line in listing if line.startswith("+CMGL")] == ['"REC UNREAD"'] * 2
    assert await channel.command("AT+CMGL", 1) == []  # listed, so read now
    read = await channel.command("AT+CMGR=2", 1)
    assert read[0].startswith('+CMGR: "REC READ","+31622222222",,"') and read[1] == "two"
    with pytest.raises(AtCommandError) as missing:
        await channel.command("AT+CMGR=7", 1)
    assert missing.value.code == 321
    await channel.command("AT+CMGD=1,4", 1)  # delflag 4: every message
    assert modem.storage == {}
    with pytest.raises(AtCommandError):
        await channel.command("AT+CNMI=x", 1)


async def test_indications_and_silence(at: tuple[PtyModem, AtChannel]) -> None:
    modem, channel = at
    modem.receive_sms("before the host asked", "+31611111111")  # no indication yet
    await channel.command("AT+CNMI=2,1,0,0,0", 1)
    modem.receive_sms("after", "+31611111111")
    assert await asyncio.wait_for(channel.indication(), 1) == '+CMTI: "SM",2'
    modem.set_silent(True)
    modem.receive_sms("while hung", "+31611111111")
    with pytest.raises(DeviceTimeout):
        await channel.command("AT", 0.2)
    modem.set_silent(False)
    assert await channel.command("AT", 1) == []
    assert len(modem.storage) == 3


async def test_sms_and_signal_from_the_control_interface_and_the_shell(
    control: tuple[World, str], capsys: pytest.CaptureFixture[str],
) -> None:
    world, url = control
    assert world.snapshot()["modem"]["path"] == world.modem.path
    assert await hwsim("sms", "CB-1", "--sender", "+31612345678", "--control", url) == 0
    assert await hwsim("sms", "--control", url) == 0  # an empty SMS
    assert [(s.sender, s.text) for s in world.modem.storage.values()] == [("+31612345678", "CB-1"),
                                                                         ("+31600000000", "")]
    sms_events = [e for e in world.events if e["kind"] == "sms"]
    assert [(e["index"], e["length"]) for e in sms_events] == [(1, 4), (2, 0)]
    assert all("text" not in e for e in sms_events)
    assert await hwsim("signal", "4", "--ber", "3", "--control", url) == 0
    assert (world.modem.rssi, world.modem.ber) == (4, 3)
    capsys.readouterr()
    assert await hwsim("modem", "--control", url) == 0
    assert json.loads(capsys.readouterr().out)["stored"] == 2
    assert await hwsim("fault", "modem_silent", "--control", url) == 0
    assert world.modem.silent
    assert await hwsim("fault", "modem_silent", "--clear", "--control", url) == 0
    assert not world.modem.silent


async def test_bad_control_requests_are_refused(control: tuple[World, str]) -> None:
    world, url = control
    async with aiohttp.ClientSession() as http:
        for path, body in (("/sms", {"text": "x" * 161}), ("/sms", {"text": 5}), ("/sms", {"sender": "alice"}),
                           ("/modem", {"rssi": 40}), ("/modem", {"rssi": "low"}), ("/modem", {"rssi": 5, "ber": 9})):
            async with http.post(url + path, json=body) as response:
                assert response.status == 400, (path, body)
    assert world.modem.storage == {} and world.modem.rssi == 20
