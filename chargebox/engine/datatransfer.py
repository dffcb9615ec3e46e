"""DataTransfer in both directions (spec 4.3, 5.5, 6.13): vendor-specific messages.

Handlers for the Central System's DataTransfer.req are registered by vendorId and messageId; for an
unknown vendorId the answer is UnknownVendorId without data, for a known vendor but an unknown
messageId UnknownMessageId (4.3). What Accepted or Rejected and the data mean is the vendor's
agreement. :meth:`DataTransfers.send` is the box's own DataTransfer.req.

The box itself registers one: vendorId ``chargebox``, messageId ``Echo``, which answers Accepted
with the data it was given (a link test a Central System can run at any time).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from chargebox.engine.routing import handles
from chargebox.ocpp.enums import DataTransferStatus
from chargebox.ocpp.errors import CentralSystemUnreachable
from chargebox.ocpp.messages import Confirmation, DataTransferConfirmation, DataTransferRequest, Request
from chargebox.ocpp.vendor import VENDOR_ID

#: A vendor handler: the request's data in; its status and data out.
VendorHandler = Callable[[str | None], Awaitable[tuple[DataTransferStatus, str | None]]]


async def echo(data: str | None) -> tuple[DataTransferStatus, str | None]:
    return DataTransferStatus.ACCEPTED, data


class DataTransfers:
    """``send`` calls the Central System, once ``booted`` (the box's own DataTransfer.req)."""

    def __init__(self, send: Callable[[Request], Awaitable[Confirmation]], booted: asyncio.Event) -> None:
        self._send = send
        self._booted = booted
        self._vendors: dict[str, dict[str | None, VendorHandler]] = {}
        self.register(VENDOR_ID, "Echo", echo)

    def register(self, vendor_id: str, message_id: str | None, handler: VendorHandler) -> None:
        """``handler`` answers ``vendor_id``'s ``message_id``; with message_id None, every message
        of that vendor that no handler of its own takes (also those without a messageId)."""
        if not 0 < len(vendor_id) <= 255 or (message_id is not None and not 0 < len(message_id) <= 50):
            raise ValueError(f"vendorId is string[255] and messageId string[50] (6.13): {vendor_id!r}, {message_id!r}")
        messages = self._vendors.setdefault(vendor_id, {})
        if message_id in messages:
            raise ValueError(f"{vendor_id} {message_id} has a handler already")
        messages[message_id] = handler

    @handles(DataTransferRequest)
    async def data_transfer(self, request: DataTransferRequest) -> Confirmation:
        # vendorId and messageId are plain strings, so they match case-sensitively (3.x, 6.13).
        messages = self._vendors.get(request.vendor_id)
        if messages is None:
            return DataTransferConfirmation(status=DataTransferStatus.UNKNOWN_VENDOR_ID)
        handler = messages.get(request.message_id) or messages.get(None)
        if handler is None:
            return DataTransferConfirmation(status=DataTransferStatus.UNKNOWN_MESSAGE_ID)
        status, data = await handler(request.data)
        return DataTransferConfirmation(status=status, data=data)

    async def send(self, vendor_id: str, message_id: str | None = None, data: str | None = None,
                   ) -> DataTransferConfirmation:
        """The box's DataTransfer.req (4.3); raises BindingError when it cannot be delivered, and
        CentralSystemUnreachable before the Central System has accepted the box (4.2)."""
        if not self._booted.is_set():
            raise CentralSystemUnreachable("DataTransfer.req waits for BootNotification to be accepted (4.2)")
        conf = await self._send(DataTransferRequest(vendor_id=vendor_id, message_id=message_id, data=data))
        assert isinstance(conf, DataTransferConfirmation)
        return conf
