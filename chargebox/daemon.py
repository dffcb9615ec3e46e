"""The daemon: builds the charge point from the site config and runs it until SIGTERM.

Under systemd (README, "The service") it reports READY=1 once the endpoint listens and the charge
point runs, sends watchdog keep-alives from its event loop, and serves ``chargebox status`` and
``chargebox queue`` on its control socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import sqlite3
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from hal.backends import load_backend
from hal.tasks import cancel_and_wait

import chargebox
from chargebox.clock import Clock
from chargebox.config import JSON, PROTOCOLS, Config, Device
from chargebox.engine.chargepoint import ChargePoint, ConnectorHardware, Identity
from chargebox.engine import management
from chargebox.engine.configuration import Configuration
from chargebox.engine.limits import GridSupply
from chargebox.engine.smartcharging import Wiring
from chargebox.errors import ConfigError
from chargebox.ocpp.versions import OCPP15, OCPP16
from chargebox.maintenance.diagnostics import DiagnosticsUploader
from chargebox.mobile.public_url import advertised_url
from chargebox.service.control import ControlServer
from chargebox.service.link import LinkMonitor
from chargebox.service.notify import Notifier, keep_alive
from chargebox.service.reset import Restarter
from chargebox.ocpp.messages import Handler
from chargebox.service.status import queue, snapshot
from chargebox.store import Store

if TYPE_CHECKING:  # each binding is imported when the site speaks it (issue 19): OCPP-J's JSON schemas cost a
    # SOAP box 4 MB, the SOAP binding's lxml a JSON box as much; so are the parts only some sites configure
    from chargebox.binding.ocpp16json.client import JsonClient
    from chargebox.binding.soap.client import CentralSystemClient
    from chargebox.binding.soap.server import ChargePointEndpoint
    from chargebox.maintenance.firmware import FirmwareUpdater

#: Seconds the charge point may take to stop (its devices have DEVICE_STOP_TIMEOUT each), and each
#: other step of the stop; beyond them the stop goes on and says what hung.
BOX_STOP_TIMEOUT = 8.0
STEP_STOP_TIMEOUT = 2.0

log = logging.getLogger(__name__)

#: An AuthorisationData with every field at its longest is about 325 bytes of XML (measured with
#: namespace prefixes and indentation); 400 leaves room for a more verbose Central System.
LOCAL_LIST_ENTRY_BYTES = 400


def _build(kind: str, device: Device, **injected: Any) -> Any:
    # Loading the config built each backend once already (config.py), so their options are good.
    return load_backend(kind, device.backend)(**device.options, **injected)


def _open_store(config: Config) -> Store:
    """The database, or a ConfigError naming storage.path: a folder the service user may not create
    or a file it may not write is fixed by an installer, not by restarting (README, The service)."""
    try:
        return Store.open(config.storage, config.outbox_limit)
    except (OSError, sqlite3.Error) as err:
        reason = os.strerror(err.errno) if isinstance(err, OSError) and err.errno else str(err)
        raise ConfigError([(str(config.path), "storage.path", f"cannot open the database {config.storage}: "
                            f"{reason}")]) from err


def build(config: Config, clock: Clock | None = None, restarter: Restarter | None = None,
          ) -> tuple[ChargePoint, CentralSystemClient | JsonClient, ChargePointEndpoint | None, LinkMonitor]:
    """The charge point, its client, its endpoint (None for OCPP-J, whose one WebSocket carries both
    directions), and the monitor of the link between them and the Central System, wired as the config says."""
    clock = clock or Clock()
    store = _open_store(config)
    version = OCPP15 if config.protocol == PROTOCOLS[0] else OCPP16  # 1.6 over SOAP or JSON: one engine
    defaults = dict(config.ocpp)
    cs = config.central_system_transport
    if config.protocol == JSON:  # the link's settings: 1.6 keys the Central System may change (9.1, whitepaper)
        defaults.setdefault("WebSocketPingInterval", str(cs.ping_interval))
        if cs.authorization_key:
            defaults["AuthorizationKey"] = cs.authorization_key
    ocpp = Configuration(store.settings, defaults, version=version.name)  # the engine's version hint
    ocpp.set_fixed("ChargePointId", config.identity)
    # A SendLocalList as long as the box says it takes must fit in the largest message it takes: over
    # SOAP a request body, which endpoint.max_body bounds for anyone on the network. OCPP-J has no
    # endpoint, only frames from the Central System the box itself connected to: a list length the site
    # sets is kept, and the frame bound follows it (json_configured.client); its default, what 1 MiB holds.
    longest = ocpp.integer("SendLocalListMaxLength")
    if config.protocol != JSON or "SendLocalListMaxLength" not in config.ocpp:
        longest = min(longest, config.endpoint_transport.max_body // LOCAL_LIST_ENTRY_BYTES)
    ocpp.set_fixed("SendLocalListMaxLength", str(longest))
    client, serve_with = _binding(config, ocpp, longest * LOCAL_LIST_ENTRY_BYTES)
    link = LinkMonitor(client, clock)
    connectors = {
        c.id: ConnectorHardware(
            pilot=_build("pilot", c.pilot, connector=c.id), relay=_build("relay", c.relay, connector=c.id),
            meter=_build("meter", c.meter), max_current=c.max_current,
            lock=_build("lock", c.lock, connector=c.id) if c.lock else None,
            protection=_build("protection", c.protection, connector=c.id) if c.protection else None,
        )
        for c in config.connectors
    }
    charge_point = ChargePoint(
        identity=Identity(config.vendor, config.model, config.serial_number, firmware_version=chargebox.__version__),
        client=link, store=store, config=ocpp, clock=clock, connectors=connectors,
        reader=_build("reader", config.reader) if config.reader else None,
        told_as=version.form.say,  # as the wire says it: 1.5's Occupied for five of 1.6's statuses
    )
    diagnostics, firmware = _add_maintenance(charge_point, config, restarter)
    if config.modem is not None:  # SMS wake-up, WeakSignal, ICCID/IMSI (8.3; README, mobile network)
        from chargebox.mobile.wakeup import MobileLink

        mobile = MobileLink(charge_point, _build("modem", config.modem, name="modem"), config.identity, config.wakeup)
        charge_point.spawn(mobile.run())
    site = config.site  # the supply the charging limits share (issue 18)
    wiring = Wiring(voltage=site.nominal_voltage, phases=site.phases, supply=site.max_current,
                    lines={c.id: c.lines for c in config.connectors})
    grid = None if site.grid_meter is None else GridSupply(
        _build("meter", site.grid_meter), site.failsafe_current or 0.0, site.grid_meter_timeout)
    # availability, reservations, Reset, DataTransfer, smart charging
    triggers = management.install(charge_point, restarter, wiring=wiring, grid=grid).triggers
    triggers.diagnostics = diagnostics.status  # what a TriggerMessage tells of them (1.6 5.17)
    if firmware is not None:
        triggers.firmware = firmware.status
    return charge_point, client, serve_with(link.incoming(charge_point.handle)), link


def _binding(config: Config, ocpp: Configuration, longest_list: int) -> tuple[CentralSystemClient | JsonClient,
                                                           Callable[[Handler], ChargePointEndpoint | None]]:
    """The client of the site's protocol, and what serves the Central System's requests to a handler:
    the box's SOAP endpoint, or over OCPP-J the client's own WebSocket (both ways; no endpoint), whose
    frame bound takes the longest SendLocalList the box says it takes (``longest_list`` bytes)."""
    if config.protocol == JSON:
        from chargebox.binding.ocpp16json import configured as json_configured

        json_client = json_configured.client(
            config, authorization_key=lambda: ocpp.text("AuthorizationKey") or None,
            ping_interval=lambda: ocpp.integer("WebSocketPingInterval"), longest_list=longest_list)
        ocpp.watch("AuthorizationKey", json_client.reconnect)

        def over_websocket(handler: Handler) -> None:
            json_client.serve(handler)

        return json_client, over_websocket
    from chargebox.binding.soap import configured

    soap_client = configured.client(config, advertised_url(config.public_url, config.public_interface))
    return soap_client, lambda handler: configured.endpoint(config, handler, soap_client)


def _add_maintenance(charge_point: ChargePoint, config: Config, restarter: Restarter | None,
                     ) -> tuple[DiagnosticsUploader, FirmwareUpdater | None]:
    """GetDiagnostics always; UpdateFirmware when the site config names an installer (README)."""
    state = config.storage.parent
    diagnostics = DiagnosticsUploader(charge_point, config.diagnostics, state / "diagnostics",
                                      config.identity, config.path)
    charge_point.add_handlers(diagnostics)
    if config.firmware.installer is None:
        return diagnostics, None
    from chargebox.maintenance.firmware import FirmwareUpdater

    restart = None
    if restarter is not None:
        restart = restarter.hard if config.firmware.after_install == "reboot" else restarter.soft
    firmware = FirmwareUpdater(charge_point, config.firmware, state / "firmware", chargebox.__version__, restart)
    charge_point.add_handlers(firmware)
    firmware.resume()
    return diagnostics, firmware


async def _started(box: asyncio.Task[None], link: LinkMonitor) -> None:
    """Until the charge point runs (its first request goes out); its error if it fails before."""
    started = asyncio.ensure_future(link.started.wait())
    try:
        await asyncio.wait({box, started}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        started.cancel()
    if box.done():
        box.result()


async def _within(step: Awaitable[None], seconds: float, what: str) -> None:
    """One step of the stop, bounded: a stop ends within seconds (README, The service), and one that
    hangs is logged with where each task still running stands, so the cause can be found."""
    try:
        async with asyncio.timeout(seconds):
            await step
    except TimeoutError:
        current = asyncio.current_task()
        where = "; ".join(f"{task.get_name()} at {_frame(task)}" for task in asyncio.all_tasks()
                          if task is not current and not task.done())
        log.error("stopping: %s did not finish within %s s; going on (tasks: %s)", what, seconds, where or "none")


def _frame(task: asyncio.Task[Any]) -> str:
    stack = task.get_stack()
    if not stack:
        return "?"
    code = stack[-1].f_code
    return f"{code.co_filename.rsplit('/', 2)[-1]}:{stack[-1].f_lineno} {code.co_name}"


async def _listen(endpoint: ChargePointEndpoint, runner: web.BaseRunner, config: Config) -> None:
    """The endpoint listens, or a ConfigError naming the key to change: a port another program holds
    is the installer's to settle, so the unit does not restart into it every 5 s (README, The service)."""
    from chargebox.binding.soap import configured

    try:
        await endpoint.site(runner, config.listen_host, config.listen_port,
                            configured.endpoint_ssl(config)).start()
    except OSError as err:
        key = "endpoint.port" if err.errno in (errno.EADDRINUSE, errno.EACCES) else "endpoint.host"
        # asyncio's bind error repeats the address in strerror; a host name error (gaierror) has
        # a negative errno and its own text.
        reason = os.strerror(err.errno) if err.errno and err.errno > 0 else err.strerror or str(err)
        raise ConfigError([(str(config.path), key, f"cannot listen on {config.listen_host}:{config.listen_port}: "
                            f"{reason}")]) from err


async def serve(config: Config, notifier: Notifier | None = None, restarter: Restarter | None = None) -> None:
    """Run until cancelled: endpoint first (so the Central System can call back), then the box."""
    notifier = notifier or Notifier.from_environment()
    charge_point, client, endpoint, link = build(config, restarter=restarter)
    control = ControlServer(config.control_socket, {
        "status": lambda: snapshot(charge_point, link, identity=config.identity,
                                   central_system_url=config.central_system_url, protocol=config.protocol),
        "queue": lambda: queue(charge_point),
    })
    runner = endpoint.runner() if endpoint is not None else None
    if runner is not None:
        await runner.setup()
    box: asyncio.Task[None] | None = None
    watchdog: asyncio.Task[None] | None = None
    # OCPP-J: no endpoint; the Central System calls the box over the WebSocket the box opens.
    where = config.public_url or f"the {config.protocol} WebSocket"
    try:
        if endpoint is not None and runner is not None:
            await _listen(endpoint, runner, config)
        await control.start()
        log.info("chargebox %s serving as %s at %s, Central System %s", chargebox.__version__, config.identity,
                 where, config.central_system_url)
        box = asyncio.create_task(charge_point.run(), name="charge-point")
        await _started(box, link)
        notifier.ready(f"serving as {config.identity} at {where}")
        watchdog = asyncio.create_task(keep_alive(notifier), name="watchdog")
        await box
    finally:
        notifier.stopping()
        await cancel_and_wait(watchdog)
        # relays open, the running session's last reading journalled
        await _within(cancel_and_wait(box), BOX_STOP_TIMEOUT, "the charge point")
        await _within(control.close(), STEP_STOP_TIMEOUT, "the control socket")
        await _within(client.close(), STEP_STOP_TIMEOUT, "the Central System client")
        if runner is not None:
            from chargebox.binding.soap.server import SHUTDOWN_TIMEOUT

            await _within(runner.cleanup(), STEP_STOP_TIMEOUT + SHUTDOWN_TIMEOUT, "the endpoint")
        charge_point.journal.db.close()
        if box is not None:  # a start that failed is told by its one line (chargebox run), not also here
            log.info("stopped")


def run(config: Config) -> int:
    """Foreground run: SIGTERM and SIGINT stop it cleanly (relays open, database closed). The exit
    status is 0, or :data:`~chargebox.service.reset.SOFT_RESET_EXIT_STATUS` after a reset that
    did not reboot (systemd then restarts the daemon)."""

    async def main() -> int:
        task = asyncio.current_task()
        assert task is not None
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, task.cancel)
        # Handed to the engine's Reset handler once it takes one (6.35); stopping is SIGTERM's way.
        restarter = Restarter(task.cancel, config.reboot_command)
        with contextlib.suppress(asyncio.CancelledError):
            await serve(config, restarter=restarter)
        return await restarter.finish()

    return asyncio.run(main())
