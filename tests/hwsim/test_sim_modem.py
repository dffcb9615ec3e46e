"""The simulator's modem: its AT subset on the wire, and its control interface and shell commands."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from hwsim.cli import build_parser
from hwsim.modem import READ, SENT, UNREAD, PtyModem
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


async def test_two_storages_and_the_modems_outgoing_messages() -> None:
    # Reading from the SIM, new messages into the modem's memory (27.005 3.2.2 <mem1>, <mem3>).
    modem = PtyModem(storages=("SM", "SM", "ME"))
    channel = AtChannel(modem.path, 115200)
    await channel.open()
    try:
        for command in ("ATE0", "AT+CMGF=1", "AT+CNMI=2,1,0,0,0"):
            await channel.command(command, 1)
        assert await channel.command("AT+CPMS=?", 1) == ['+CPMS: ("SM","ME"),("SM","ME"),("SM","ME")']
        modem.receive_sms("wake", "+31611111111")
        assert await asyncio.wait_for(channel.indication(), 1) == '+CMTI: "ME",1'
        assert await channel.command('AT+CMGL="ALL"', 1) == []  # <mem1> is the SIM: not there
        with pytest.raises(AtCommandError) as empty:
            await channel.command("AT+CMGR=1", 1)
        assert empty.value.code == 321
        assert await channel.command("AT+CPMS?", 1) == ['+CPMS: "SM",0,30,"SM",0,30,"ME",1,30']
        assert await channel.command('AT+CPMS="ME","ME","ME"', 1) == ["+CPMS: 1,30,1,30,1,30"]
        assert modem.store("CB-1", "+31699999999", SENT) == 2  # written to <mem2>, as AT+CMGW would
        listing = await channel.command('AT+CMGL="ALL"', 1)
        assert listing[0].startswith('+CMGL: 1,"REC UNREAD","+31611111111",,"') and listing[1] == "wake"
        assert listing[2:] == ['+CMGL: 2,"STO SENT","+31699999999",,', "CB-1"]  # 27.005 3.4.2: no <scts>
        assert [s.status for s in modem.memories["ME"].values()] == [READ, SENT]  # a listing reads REC ones
        assert await channel.command('AT+CMGL="STO SENT"', 1) == listing[2:]
        assert await channel.command("AT+CMGR=2", 1) == ['+CMGR: "STO SENT","+31699999999",', "CB-1"]
        with pytest.raises(AtCommandError) as bad:
            await channel.command('AT+CPMS="XX"', 1)
        assert bad.value.code == 302
        assert modem.preferred == ["ME", "ME", "ME"]
    finally:
        await channel.close()
        modem.close()
    with pytest.raises(ValueError, match="storages"):
        PtyModem(storages=("SM", "SM", "BM"))


async def test_a_quectel_modem() -> None:
    modem = PtyModem(profile="quectel", iccid="8931440400012345678F")
    channel = AtChannel(modem.path, 115200)
    await channel.open()
    try:
        assert await channel.command("AT+CGMI", 1) == ["Quectel"]
        assert await channel.command("ATI", 1) == ["Quectel", "EC25", "Revision: EC25EFAR06A06M4G"]
        assert await channel.command("AT+QCCID", 1) == ["+QCCID: 8931440400012345678F"]
        for unknown in ("AT+CCID", "AT+ICCID"):
            with pytest.raises(AtCommandError, match="'ERROR'"):
                await channel.command(unknown, 1)
    finally:
        await channel.close()
        modem.close()
    with pytest.raises(ValueError, match="profile"):
        PtyModem(profile="nokia")


def test_the_modems_options_of_hwsim_run(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["run", "--modem-profile", "quectel", "--modem-storages", "sm,SM,ME"])
    assert (args.modem_profile, args.modem_storages) == ("quectel", ("SM", "SM", "ME"))
    assert build_parser().parse_args(["run"]).modem_storages == ("SM", "SM", "SM")
    for bad in (["--modem-storages", "SM,ME"], ["--modem-storages", "SM,SM,MT"],
                ["--modem-profile", "nokia"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["run", *bad])
    error = capsys.readouterr().err
    assert "argument --modem-storages: three of SM, ME separated by commas, got 'SM,ME'" in error


async def test_sms_and_signal_from_the_control_interface_and_the_shell(
    control: tuple[World, str], capsys: pytest.CaptureFixture[str],
) -> None:
    world, url = control
    assert world.snapshot()["modem"]["path"] == world.modem.path
    assert await hwsim("sms", "CB-1", "--sender", "+31612345678", "--control", url) == 0
    assert await hwsim("sms", "--control", url) == 0  # an empty SMS
    assert [(s.address, s.text) for s in world.modem.storage.values()] == [("+31612345678", "CB-1"),
                                                                         ("+31600000000", "")]
    sms_events = [e for e in world.events if e["kind"] == "sms"]
    assert [(e["index"], e["length"]) for e in sms_events] == [(1, 4), (2, 0)]
    assert all("text" not in e for e in sms_events)
    assert await hwsim("signal", "4", "--ber", "3", "--control", url) == 0
    assert (world.modem.rssi, world.modem.ber) == (4, 3)
    capsys.readouterr()
    assert await hwsim("modem", "--control", url) == 0
    assert json.loads(capsys.readouterr().out)["stored"] == 2
    assert await hwsim("sms", "CB-1", "--status", "STO SENT", "--sender", "+31699999999",
                       "--control", url) == 0
    assert [(s.address, s.status) for s in world.modem.storage.values()][2:] == [("+31699999999", SENT)]
    assert [e["status"] for e in world.events if e["kind"] == "sms"] == [UNREAD, UNREAD, SENT]
    capsys.readouterr()
    assert await hwsim("modem", "--control", url) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["stored"], shown["outgoing"], shown["profile"]) == (3, 1, "generic")
    assert shown["by_storage"] == {"SM": 3, "ME": 0}
    assert await hwsim("fault", "modem_silent", "--control", url) == 0
    assert world.modem.silent
    assert await hwsim("fault", "modem_silent", "--clear", "--control", url) == 0
    assert not world.modem.silent


async def test_bad_control_requests_are_refused(control: tuple[World, str]) -> None:
    world, url = control
    async with aiohttp.ClientSession() as http:
        for path, body in (("/sms", {"text": "x" * 161}), ("/sms", {"text": 5}), ("/sms", {"sender": "alice"}),
                           ("/sms", {"text": "x", "status": "STO DELETED"}),
                           ("/modem", {"rssi": 40}), ("/modem", {"rssi": "low"}), ("/modem", {"rssi": 5, "ber": 9})):
            async with http.post(url + path, json=body) as response:
                assert response.status == 400, (path, body)
    assert world.modem.storage == {} and world.modem.rssi == 20
