"""The daemon: builds the charge point from the site config and runs it until SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from aiohttp import web
from hal.backends import load_backend

import chargebox
from chargebox.binding.soap15.client import CentralSystemClient
from chargebox.binding.soap15.server import ChargePointEndpoint
from chargebox.clock import Clock
from chargebox.config import Config, Device
from chargebox.engine.chargepoint import ChargePoint, ConnectorHardware, Identity, Timers
from chargebox.store.database import open_database
from chargebox.store.outbox import Outbox
from chargebox.store.transactions import TransactionJournal

log = logging.getLogger(__name__)


def _build(kind: str, device: Device, **injected: Any) -> Any:
    return load_backend(kind, device.backend)(**device.options, **injected)


def build(config: Config, clock: Clock | None = None) -> tuple[ChargePoint, CentralSystemClient, ChargePointEndpoint]:
    """The charge point, its client and its endpoint, wired as the config says."""
    db = open_database(config.storage)
    client = CentralSystemClient(config.central_system_url, config.identity, lambda: config.public_url)
    connectors = {
        c.id: ConnectorHardware(
            pilot=_build("pilot", c.pilot, connector=c.id), relay=_build("relay", c.relay, connector=c.id),
            meter=_build("meter", c.meter), max_current=c.max_current,
        )
        for c in config.connectors
    }
    charge_point = ChargePoint(
        identity=Identity(config.vendor, config.model, config.serial_number, firmware_version=chargebox.__version__),
        client=client, journal=TransactionJournal(db), outbox=Outbox(db), clock=clock or Clock(),
        connectors=connectors, reader=_build("reader", config.reader) if config.reader else None,
        timers=Timers(heartbeat_interval=config.heartbeat_interval,
                      meter_value_sample_interval=config.meter_value_sample_interval,
                      connection_timeout=config.connection_timeout),
    )
    endpoint = ChargePointEndpoint(config.identity, charge_point.handle, path=config.endpoint_path, allow=config.allow)
    return charge_point, client, endpoint


async def serve(config: Config) -> None:
    """Run until cancelled: endpoint first (so the Central System can call back), then the box."""
    charge_point, client, endpoint = build(config)
    runner = web.AppRunner(endpoint.app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, config.listen_host, config.listen_port).start()
    log.info("chargebox %s serving as %s at %s, Central System %s", chargebox.__version__, config.identity,
             config.public_url, config.central_system_url)
    try:
        await charge_point.run()
    finally:
        await client.close()
        await runner.cleanup()
        log.info("stopped")


def run(config: Config) -> int:
    """Foreground run: SIGTERM and SIGINT stop it cleanly (relays open, database closed)."""

    async def main() -> None:
        task = asyncio.current_task()
        assert task is not None
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await serve(config)

    asyncio.run(main())
    return 0
