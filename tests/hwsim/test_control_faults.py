"""Fault injection through the simulator's HTTP control interface and the ``hwsim`` command."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from hwsim.cli import main as hwsim_main
from hwsim.control import control_app
from hwsim.world import FAULTS, World


@pytest.fixture
async def control(tmp_path: Path) -> AsyncIterator[tuple[World, str]]:
    world = World(1, reader_link=str(tmp_path / "reader"), meter_rtu_link=str(tmp_path / "rs485"))
    await world.start()
    runner = web.AppRunner(control_app(world))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield world, f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()
    await world.stop()


async def hwsim(*argv: str) -> int:
    # The CLI blocks on urllib: run it off the loop, as a shell would run it beside the simulator.
    return await asyncio.to_thread(hwsim_main, list(argv))


async def test_every_fault_is_injected_and_cleared_from_the_shell(
    control: tuple[World, str], capsys: pytest.CaptureFixture[str]
) -> None:
    world, url = control
    for name in FAULTS:
        assert await hwsim("fault", name, "--control", url) == 0
        assert {"connector": 1, "fault": name} in world.active_faults()
        assert await hwsim("fault", name, "--clear", "--control", url) == 0
        assert world.active_faults() == []
    capsys.readouterr()
    assert await hwsim("faults", "--control", url) == 0
    listed = json.loads(capsys.readouterr().out)
    assert set(listed["faults"]) == set(FAULTS) and listed["active"] == []


async def test_reader_unplug_removes_the_link_and_replug_restores_it(control: tuple[World, str]) -> None:
    world, url = control
    link = Path(world.reader.path)
    assert link.is_symlink()
    await hwsim("fault", "reader_unplugged", "--control", url)
    assert not link.exists()
    await hwsim("fault", "reader_unplugged", "--clear", "--control", url)
    assert link.resolve() == Path(world.reader.port)


async def test_meter_faults_reach_the_meter_server(control: tuple[World, str]) -> None:
    world, _ = control
    server = world.connectors[1].meter_server
    world.set_fault("meter_garbled")
    assert server.garbled
    world.set_fault("meter_garbled", False)
    assert not server.garbled
    assert world.rtu is not None and world.snapshot()["meter_rtu"] == world.rtu.path


async def test_bad_fault_requests_get_clear_answers(control: tuple[World, str]) -> None:
    _, url = control

    def post(body: object) -> tuple[int, str]:
        import urllib.error
        import urllib.request

        request = urllib.request.Request(url + "/fault", data=json.dumps(body).encode(), method="POST")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    status, text = await asyncio.to_thread(post, {"fault": "meteor_strike"})
    assert status == 400 and "relay_welded" in text
    status, text = await asyncio.to_thread(post, {"fault": "overtemp", "active": "yes"})
    assert status == 400 and "true or false" in text
    status, text = await asyncio.to_thread(post, {"fault": "overtemp", "connector": 9})
    assert status == 400 and "no connector 9" in text


async def test_an_action_says_in_one_line_what_it_did(
    control: tuple[World, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Not the whole world as JSON (issue 14 item 10); ``--json`` still gives the simulator's answer."""
    world, url = control
    said = []
    for argv in (("plug",), ("ev", "--stop"), ("ev", "--resume"), ("card", "04a2b3c4", "--hold", "0.1"),
                 ("fault", "relay_welded"), ("fault", "relay_welded", "--clear"), ("fault", "reader_unplugged"),
                 ("fault", "reader_unplugged", "--clear"), ("unplug",)):
        assert await hwsim(*argv, "--control", url) == 0
        said.append(capsys.readouterr().out)
    assert said == ["connector 1: EV plugged in\n", "connector 1: the EV stops asking for energy\n",
                    "connector 1: the EV resumes asking for energy\n", "card 04A2B3C4 presented for 0.1 s\n",
                    "connector 1: relay_welded injected\n", "connector 1: relay_welded cleared\n",
                    "reader_unplugged injected\n", "reader_unplugged cleared\n", "connector 1: EV unplugged\n"]
    assert await hwsim("plug", "--json", "--control", url) == 0
    assert json.loads(capsys.readouterr().out) == world.snapshot()


@pytest.mark.parametrize("command", ["state", "faults", "plug"])
async def test_a_reader_that_left_gets_no_traceback(control: tuple[World, str], command: str) -> None:
    """``hwsim state | head``: the pipe's reader is gone before everything is written."""
    _, url = control
    read, write = os.pipe()
    os.close(read)  # gone before the command writes anything: every write fails with EPIPE
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hwsim.cli", command, "--control", url,
            stdout=write, stderr=asyncio.subprocess.PIPE)
    finally:
        os.close(write)
    _, stderr = await process.communicate()
    assert (process.returncode, stderr.decode()) == (1, "")


async def test_the_meter_register_is_set_through_the_control_interface(control: tuple[World, str]) -> None:
    world, url = control
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/meter", json={"connector": 1, "energy_wh": 2**31 + 5000}) as response:
            assert response.status == 200
            assert (await response.json())["connectors"]["1"]["energy_wh"] >= 2**31 + 5000
        for bad in ({"energy_wh": "lots"}, {"energy_wh": -1}, {"energy_wh": True}, {"connector": 9, "energy_wh": 1}):
            async with http.post(f"{url}/meter", json=bad) as response:
                assert response.status == 400, bad
    assert world.connectors[1].meter.energy_wh >= 2**31 + 5000
