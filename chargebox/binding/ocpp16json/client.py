"""The box's OCPP-J 1.6 client: typed requests out as CALLs, the Central System's CALLs in to the handler.

One WebSocket carries both directions (OCPP-J 1.6 section 4). The box sends one CALL at a time and
waits for its CALLRESULT or CALLERROR, or a timeout (4.1.1); the Central System's CALLs that arrive
meanwhile go to the handler at once, each answered with a CALLRESULT or with the CALLERROR of its
protocol error (4.2.3). To the engine it is the same client as the SOAP one: a confirmation, or one
of the neutral errors of :mod:`chargebox.ocpp.errors` (CentralSystemUnreachable while the link is
down, so the outbox and offline rules are those of every binding).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from collections.abc import Coroutine
from typing import Any

from chargebox.binding.ocpp16json import frames
from chargebox.binding.ocpp16json.connection import Link
from chargebox.binding.memory import LARGE_BODY, give_back_memory
from chargebox.logfields import traceback_of
from chargebox.ocpp import errors, schemas
from chargebox.ocpp.errors import (
    CentralSystemUnreachable,
    InternalError,
    NotImplementedAction,
    OcppError,
    ProtocolError,
    Unsendable,
)
from chargebox.ocpp.messages import Confirmation, Handler, Operation, Request
from chargebox.ocpp.versions import OCPP16

log = logging.getLogger(__name__)

#: How many message ids of the engine's (an outbox message's, the same for each attempt) the client
#: remembers per connection: a retry within them on the same connection gets a fresh id (4.1.4).
REMEMBERED_IDS = 256

#: Every protocol error by its wire code (table 7), for a CALLERROR received.
_ERRORS: dict[str, type[OcppError]] = {
    cls.code: cls for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, OcppError) and cls is not OcppError
}
# The corrected spellings of OCPP-J 1.6 errata 5.1 and 5.2 ("will not be fixed" in 1.6, used by 2.0),
# which some 1.6 Central Systems send (the mobilityhouse ocpp package answers FormatViolation).
_ERRORS["FormatViolation"] = errors.FormationViolation
_ERRORS["OccurrenceConstraintViolation"] = errors.OccurenceConstraintViolation


async def _no_handler(request: Request) -> Confirmation:
    raise NotImplementedAction(f"{request.action()} is not served yet")


class JsonClient:
    """Speaks OCPP-J 1.6 with one Central System over a :class:`~.connection.Link` it runs.

    ``timeout`` bounds the wait for a CALL's answer; a call made during an attempt to connect waits
    for its outcome (up to ``connect_timeout``), one made between attempts fails at once. ``handler`` (or :meth:`serve`) answers the Central
    System's requests. Every payload, both ways, is checked against the project's 1.6 JSON schema of
    its action (:mod:`chargebox.ocpp.schemas`). ``link_options`` go to the :class:`~.connection.Link` (TLS, key, ping interval, backoff).
    """

    def __init__(
        self, url: str, identity: str, *, timeout: float = 30.0, connect_timeout: float = 10.0,
        handler: Handler | None = None, **link_options: Any,
    ) -> None:
        self.link = Link(url, identity, on_text=self._received, on_down=self._down,
                         connect_timeout=connect_timeout, **link_options)
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._handler = handler or _no_handler
        self._in_flight = asyncio.Lock()  # 4.1.1: one CALL at a time
        self._waiting: tuple[str, asyncio.Future[frames.CallResult | frames.CallError]] | None = None
        self._used: OrderedDict[str, None] = OrderedDict()
        self._serving: set[str] = set()  # ids of the Central System's CALLs being handled
        self._tasks: set[asyncio.Task[None]] = set()  # those CALLs' handling, and answers being sent
        self._runner: asyncio.Task[None] | None = None

    def serve(self, handler: Handler) -> None:
        """Answer the Central System's requests with ``handler`` (the engine is built after its client)."""
        self._handler = handler

    def start(self) -> None:
        """Open the link (and keep it open) if not yet; the first call does it too."""
        if self._runner is None or self._runner.done():
            self._runner = asyncio.get_running_loop().create_task(self.link.run(), name="ocpp16json-link")

    def reconnect(self) -> None:
        """Close the open connection once the answer being sent has gone: the next one reads the
        changed AuthorizationKey (security whitepaper A01: disconnect, connect with the new password)."""
        socket = self.link.socket
        if socket is not None and not socket.closed:
            async def close() -> None:
                await socket.close()

            self._spawn(close())

    async def close(self) -> None:
        tasks = [task for task in (self._runner, *self._tasks) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._runner = None

    # -- the box's CALLs ---------------------------------------------------------------------------

    def _message_id(self, given: str | None) -> str:
        """The engine's id when it gives one (a resend after a restart keeps it), unless this
        connection has carried it already: 4.1.4, an id MUST differ from all earlier ones on it."""
        if given is not None and given not in self._used and len(given) <= frames.MAX_ID_LENGTH:
            self._used[given] = None
            while len(self._used) > REMEMBERED_IDS:
                self._used.popitem(last=False)
            return given
        return str(uuid.uuid4())

    async def call(self, request: Request, message_id: str | None = None) -> Confirmation:
        """Send ``request`` and return its confirmation.

        CentralSystemUnreachable when the link is down or no answer came in time; an OcppError (a
        CallFailed) for a CALLERROR or a CALLRESULT that is not the confirmation; Unsendable, before
        anything is sent, for a request this binding cannot express.
        """
        operation = OCPP16.central_system_operations.get(request.action())
        if operation is None or not isinstance(request, operation.request):
            raise Unsendable(f"{request.action()} is not a Charge Point request of OCPP 1.6")
        payload = schemas.write(operation.name, request)  # Unsendable for what 1.6 cannot say
        self.start()
        async with self._in_flight:
            # While the link is down between attempts the box is offline at once, as a refused SOAP
            # connection makes it; only an attempt under way (the first one at start) is waited for (not
            # timed when none is: a timer per CALL, issue 19).
            if not self.link.attempted.is_set():
                try:
                    async with asyncio.timeout(self._connect_timeout):
                        await self.link.attempted.wait()
                except TimeoutError:
                    pass
            if not self.link.connected.is_set():
                raise CentralSystemUnreachable(f"{self.link.shown_url}: not connected")
            ident = self._message_id(message_id)
            text = frames.call(ident, operation.name, payload)
            answer: asyncio.Future[frames.CallResult | frames.CallError] = asyncio.get_running_loop().create_future()
            self._waiting = (ident, answer)
            try:
                await self.link.send(text)
                async with asyncio.timeout(self._timeout):
                    frame = await answer
            except CentralSystemUnreachable:  # the link went down while we waited (_down)
                raise
            except TimeoutError:  # before OSError, of which it is one
                # 4.1.1: the CALL has timed out; the next one may go. A late answer is dropped.
                raise CentralSystemUnreachable(f"{self.link.shown_url}: no answer to {operation.name} "
                                               f"within {self._timeout:g} s") from None
            except (ConnectionError, OSError) as err:
                raise CentralSystemUnreachable(f"{self.link.shown_url}: {err or type(err).__name__}") from err
            finally:
                self._waiting = None
            # An answer, even a CALLERROR, shows the Central System is there and speaks OCPP: after the
            # next drop the box looks for it again from the backoff's first delay.
            self.link.backoff.reset()
        return self._confirmation(operation, frame)

    def _confirmation(self, operation: Operation, frame: frames.CallResult | frames.CallError) -> Confirmation:
        if isinstance(frame, frames.CallError):
            # The neutral error of its code; a code outside table 7 is a GenericError.
            error = _ERRORS.get(frame.code, errors.GenericError)
            raise error(frame.description or frame.code)
        confirmation = self._read(operation, frame.payload, request=False)
        assert isinstance(confirmation, Confirmation)
        return confirmation

    @staticmethod
    def _read(operation: Operation, payload: dict[str, Any], *, request: bool) -> Request | Confirmation:
        """The typed message of a payload that came in, checked against its schema: or the protocol
        error (4.2.3) it is answered with (a request) or raised as (a confirmation)."""
        message = schemas.read(operation.name, payload, request=request)
        expected = operation.request if request else operation.confirmation
        if not isinstance(message, expected):  # DataTransfer's one pair serves both directions
            raise ProtocolError(f"{operation.name}: not a {expected.__name__}")
        return message

    # -- what arrives -------------------------------------------------------------------------------

    def _received(self, text: str) -> None:
        """One message from the Central System; called by the link's reader, so it never waits."""
        try:
            frame = frames.parse(text)
        except frames.UnknownType as err:
            log.warning("frame ignored: %s", err)
            return
        except frames.BadFrame as err:
            log.warning("bad frame from the Central System, answered with %s: %s", err.error.code, err.error.reason)
            self._answer(frames.call_error(err.message_id, err.error))
            return
        if isinstance(frame, frames.Call):
            self._take(frame, large=len(text) >= LARGE_BODY)
            return
        waiting = self._waiting
        if waiting is None or waiting[0] != frame.message_id or waiting[1].done():
            log.warning("answer to message %s dropped: no CALL of ours waits for it", frame.message_id)
            return
        waiting[1].set_result(frame)

    def _take(self, call: frames.Call, large: bool) -> None:
        if call.message_id in self._serving:
            # 4.2.3: "an existing call with the same unique identifier is being handled already".
            self._answer(frames.call_error(call.message_id, ProtocolError(
                f"a CALL with id {call.message_id} is being handled already")))
            return
        self._serving.add(call.message_id)
        self._spawn(self._serve(call, large))

    async def _serve(self, call: frames.Call, large: bool) -> None:
        """Answer the Central System's CALL; after a ``large`` frame (a SendLocalList of thousands) the
        memory its payload and typed message took is handed back, as the SOAP endpoint does after a
        large body (issue 19)."""
        try:
            confirmation = await self._handle(call)
            reply = frames.call_result(call.message_id, schemas.write(call.action, confirmation))
        except OcppError as err:
            log.warning("answering %s with %s: %s", call.action, err.code, err.reason)
            reply = frames.call_error(call.message_id, err)
        except Exception as err:  # our bug, not the caller's: the cause in our log, nothing of it on the wire
            log.error("answering %s with InternalError:\n%s", call.action, traceback_of(err))
            reply = frames.call_error(call.message_id, InternalError(f"{call.action} could not be processed"))
        finally:
            self._serving.discard(call.message_id)
        await self._send_answer(reply)
        if large:  # once the frame, its payload and message are gone with this task
            asyncio.get_running_loop().call_soon(give_back_memory)

    async def _handle(self, call: frames.Call) -> Confirmation:
        operation = OCPP16.charge_point_operations.get(call.action)
        if operation is None:
            raise NotImplementedAction(f"{call.action} is not an action of the Charge Point")
        request = self._read(operation, call.payload, request=True)
        assert isinstance(request, Request)
        confirmation = await self._handler(request)
        if not isinstance(confirmation, operation.confirmation):
            raise InternalError(f"{call.action} answered with {type(confirmation).__name__}")
        return confirmation

    def _answer(self, text: str) -> None:
        self._spawn(self._send_answer(text))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_answer(self, text: str) -> None:
        try:
            await self.link.send(text)
        except (ConnectionError, OSError) as err:  # processed; only the answer is lost with the link
            log.warning("answer not sent: %s", err or type(err).__name__)

    def _down(self, why: str) -> None:
        self._used.clear()  # 4.1.4 holds per connection
        waiting = self._waiting
        if waiting is not None and not waiting[1].done():
            waiting[1].set_exception(CentralSystemUnreachable(f"{self.link.shown_url}: connection {why}"))
