"""Cards on the reader (1.6 3.5, 3.10): a presentation stops the session its card (or its group)
started, or starts one on a free connector once the card is authorized
(:mod:`~chargebox.engine.authorization`). The runtime shell starts and stops the sessions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from hal.events import CardPresented
from hal.rfid.base import CardReader

from chargebox.engine.authorization import Authorizer, Source
from chargebox.engine.hardware import Sessions
from chargebox.engine.station import Station
from chargebox.engine.uplink import Uplink
from chargebox.logfields import fields, mask_id_tag
from chargebox.ocpp.datatypes import IdTagInfo
from chargebox.ocpp.enums import Reason
from chargebox.ocpp.messages import AuthorizeConfirmation, AuthorizeRequest

log = logging.getLogger(__name__)


def refused_unmetered(id_tag: str, connectors: str) -> None:
    log.warning("card %s refused: the meter of connector %s cannot be read, so it is not available for "
                "charging (no meterStart)", mask_id_tag(id_tag), connectors, extra=fields(id_tag=id_tag))


class Cards:
    def __init__(self, *, shell: Sessions, station: Station, authorizer: Authorizer, uplink: Uplink,
                 spawn: Callable[[Awaitable[Any]], None], on_event: Callable[[str, dict[str, Any]], None]) -> None:
        self.shell = shell
        self.station = station
        self.authorizer = authorizer
        self.uplink = uplink
        self._spawn = spawn
        self._on_event = on_event

    async def read(self, reader: CardReader) -> None:
        """Frames are read as they come, whatever a presentation is doing (one presentation is one
        action: :class:`~chargebox.engine.presentations.Presentations`, the station's): the same
        card presented again while its presentation is still handled is ignored; another card
        waits its turn."""
        turn = asyncio.Lock()

        async def handle(card: CardPresented) -> None:
            try:
                async with turn:
                    await self.present(card)
            finally:
                self.station.presentations.end(card.id_token)

        async for card in reader.cards():
            self._on_event("card", {"id_tag": card.id_token})
            if not self.station.presentations.begin(card.id_token):
                log.info("card %s presented again while its presentation is handled: the same action",
                         mask_id_tag(card.id_token))
                continue
            self._spawn(handle(card))

    def _ask(self) -> Callable[[str], Awaitable[IdTagInfo]] | None:
        """Authorize.req, when the Central System can be asked (booted and not known offline)."""
        if not (self.uplink.booted.is_set() and self.uplink.online):
            return None

        async def ask(id_tag: str) -> IdTagInfo:
            conf = await self.uplink.send(AuthorizeRequest(id_tag=id_tag))
            assert isinstance(conf, AuthorizeConfirmation)
            return conf.id_tag_info

        return ask

    async def present(self, card: CardPresented) -> None:
        """A card on the reader: stop the session it (or its group) started, or start a new one."""
        id_tag = card.id_token
        if await self.shell.release(id_tag):  # its cable, held after a deauthorized session (errata 3.17)
            log.info("card %s takes back its cable", mask_id_tag(id_tag), extra=fields(id_tag=id_tag))
            return
        number = self.station.stopped_by(id_tag)
        if number is not None:
            # The card that started the session stops it without an Authorize (1.6 3.5.4, 3.10).
            await self.shell.stop(self.shell.ports[number], Reason.LOCAL, id_tag)
            return
        decision = None
        if any(m.parent_id_tag for m in self.station.connectors.values() if m.in_transaction):
            # Another card of the same group may stop it (1.6 3.10): its group is known locally or
            # learnt from the Central System.
            decision = await self.authorizer.authorize(id_tag, self._ask())
            number = self.station.stopped_by(id_tag, decision.info.parent_id_tag)
            if number is not None:
                await self.shell.stop(self.shell.ports[number], Reason.LOCAL, id_tag)
                return
        free = self.shell.free_port(id_tag=id_tag)
        if free is None:
            unmetered = [str(n) for n, p in self.shell.ports.items()
                         if self.station.meter_failed(n) and not p.machine.in_transaction]
            if unmetered:
                refused_unmetered(id_tag, ", ".join(unmetered))
                return
            log.info("card %s presented, but no connector is free", mask_id_tag(id_tag),
                     extra=fields(id_tag=id_tag))
            return
        if decision is None:
            decision = await self.authorizer.authorize(id_tag, self._ask())
        self._on_event("authorization", {"id_tag": id_tag, "status": decision.info.status.value,
                                         "source": decision.source.value})
        # One line per decision, whoever made it; ACTION only when it was the Central System's (Authorize).
        asked = "Authorize" if decision.source is Source.CENTRAL_SYSTEM else None
        where = fields(connector=free.machine.number, id_tag=id_tag, action=asked)
        if not decision.accepted:
            log.info("card %s not authorized (%s, %s)", mask_id_tag(id_tag), decision.info.status.value,
                     decision.source.value, extra=where)
            return
        log.info("card %s authorized (%s)", mask_id_tag(id_tag), decision.source.value, extra=where)
        await self.shell.authorize(free, id_tag, decision.info.parent_id_tag)
