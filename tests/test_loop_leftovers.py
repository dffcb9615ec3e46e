"""The autouse fixture of loop_leftovers.py fails a test that leaves a task or timer on its loop, naming
it, and passes one that closes what it opened (DESIGN.md style rule 10). Each case runs in a pytest of
its own (pytester) with the fixture exactly as tests/conftest.py installs it."""

from __future__ import annotations

import pytest

CONFTEST = "from loop_leftovers import no_leftover_tasks_or_timers  # noqa: F401\n"
INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"


def run(pytester: pytest.Pytester, tests: str) -> pytest.RunResult:
    pytester.makeini(INI)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_cases="import asyncio\n\nimport pytest\n\n" + tests)
    return pytester.runpytest_inprocess("-p", "no:randomly")


def test_a_task_left_running_fails_the_test_by_its_name(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
async def forgotten() -> None:
    await asyncio.Event().wait()

async def test_spawns() -> None:
    asyncio.get_running_loop().create_task(forgotten())
""")
    result.assert_outcomes(passed=1, errors=1)  # the test body passed; its teardown did not
    result.stdout.fnmatch_lines(["*task left running: <Task pending*coro=<forgotten()*"])


def test_a_timer_left_scheduled_fails_the_test_by_its_callback(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
def tick() -> None:
    pass

async def test_schedules() -> None:
    asyncio.get_running_loop().call_later(60, tick)
""")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*timer left scheduled: <TimerHandle*tick()*"])


def test_a_leak_on_a_virtual_clock_is_found_too(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
@pytest.mark.looptime
async def test_sleeps_on() -> None:
    asyncio.get_running_loop().create_task(asyncio.sleep(3600))
    await asyncio.sleep(10)
""")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*task left running*sleep()*", "*timer left scheduled*"])


def test_what_the_test_or_its_fixtures_close_is_no_leftover(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
@pytest.fixture
async def worker():
    task = asyncio.get_running_loop().create_task(asyncio.Event().wait())
    yield task
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

async def test_closes_its_things(worker: asyncio.Task[None]) -> None:
    asyncio.get_running_loop().call_later(60, print).cancel()  # a cancelled timer is no leftover
    async with asyncio.timeout(60):
        await asyncio.sleep(0)

def test_sync() -> None:
    pass
""")
    result.assert_outcomes(passed=2)


def test_only_aiohttps_read_after_a_lost_connection_is_exempt(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
from aiohttp import web

async def unread(request: web.Request) -> web.Response:
    return web.Response(status=408)  # the body is never read: aiohttp reads the rest after answering

async def serve() -> tuple[web.AppRunner, asyncio.StreamReader, asyncio.StreamWriter]:
    app = web.Application()
    app.router.add_post("/", unread)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    reader, writer = await asyncio.open_connection("127.0.0.1", runner.addresses[0][1])
    writer.write(b"POST / HTTP/1.1\\r\\nHost: box\\r\\nContent-Length: 1000\\r\\n\\r\\npart")
    await reader.readuntil(b"\\r\\n\\r\\n")
    return runner, reader, writer

async def test_hangs_up_then_cleans_up() -> None:
    runner, _, writer = await serve()
    writer.close()
    await writer.wait_closed()
    await runner.cleanup()  # aiohttp's read goes on for 10 s: exempt

async def test_keeps_the_connection_and_the_server() -> None:
    await serve()
""")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_keeps_the_connection_and_the_server*",
                                 "*task left running*RequestHandler.start()*"])
