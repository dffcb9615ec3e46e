"""Delivery of the outbox: transaction messages leave in order, one in flight (OCPP 1.6 section 3.7).

- An unreachable Central System is not a failure to process: the head message waits, however
  long the outage, and is tried again when the box is online again.
- A failure to process (SOAP fault, HTTP error, malformed answer) counts one attempt; attempt n
  waits n x TransactionMessageRetryInterval (3.7.1), and after TransactionMessageAttempts the
  message is given up and the next one goes.
- The journal is the truth for what a message says about its transaction: its transactionId
  (assigned when StartTransaction.conf arrives, so a session run offline sends its StopTransaction
  with the id the Central System then gives, never a guess) and its timestamps (corrected once the
  clock was synchronised). A transaction whose StartTransaction was given up (it failed
  TransactionMessageAttempts times, or could never be sent) has no id: in 1.6 its messages say
  transactionId -1 (1.6 errata 3.18), in 1.5, which has no such rule, they are set aside.
- The acknowledgement and what it teaches (the transactionId) are committed in one SQLite
  transaction, so a restart never sends an acknowledged message again. A message whose answer
  was lost (or was not committed before a power cut) is sent again with the message id it got when
  it was queued, so the Central System can tell the resend from a new message.
- A StartTransaction's or StopTransaction's acknowledgement is on disk before the next message
  goes. Any other's (MeterValues, the status lane), whose resend the Central System takes as
  the same news again, is committed without waiting for the disk, at most
  :data:`RELAXED_ACKNOWLEDGEMENTS` in a row: a power cut during a drain resends at most that many,
  where a full sync for each took a quarter of a drain's time (issue 19).
- A message that can never be sent (the binding cannot express it, or its transaction never got
  an id) is moved aside, logged as an error and reported once to the Central System, and the rest
  flows on: one bad message never stops the queue, nor the daemon. The report is a DataTransfer.req
  (vendorId ``chargebox``, messageId ``MessageSetAside``; 1.5 section 4.3: information "for a
  function not supported by OCPP"), queued like the rest so that it survives an outage.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from chargebox.clock import nap
from chargebox.engine.configuration import Configuration
from chargebox.logfields import fields
from chargebox.ocpp.errors import BindingError, CallFailed, CentralSystemUnreachable, Unsendable
from chargebox.ocpp.lanes import Lane, lane
from chargebox.ocpp.vendor import SET_ASIDE_REPORT, set_aside_report
from chargebox.ocpp.messages import (
    Confirmation,
    DataTransferRequest,
    Request,
    StartTransactionConfirmation,
    StartTransactionRequest,
    StopTransactionRequest,
)
from chargebox.store import Store
from chargebox.store.database import atomic
from chargebox.store.outbox import Queued

log = logging.getLogger(__name__)

#: Sends a request with the message id that every attempt of it carries (None: a message sent once).
Send = Callable[[Request, str | None], Awaitable[Confirmation]]
#: Called with each acknowledged message and its confirmation, inside the acknowledging transaction.
Acknowledged = Callable[[Queued, Confirmation], None]
#: Acknowledgements of harmless resends committed in a row without waiting for the disk, at most.
RELAXED_ACKNOWLEDGEMENTS = 100


class Courier:
    def __init__(self, store: Store, config: Configuration, send: Send, acknowledged: Acknowledged,
                 now: Callable[[], datetime]) -> None:
        self.store = store
        self.config = config
        self._send = send
        self._acknowledged = acknowledged
        self._now = now
        self._wakeup = asyncio.Event()
        self._relaxed = 0  # acknowledgements committed since the last one synced to disk
        # (local_tx, transactionId) of the last transaction sent with an id: the Central System's id,
        # once in the journal, never changes, so its MeterValues need no journal read each (issue 19).
        self._known_id: tuple[int, int] | None = None

    def wake(self) -> None:
        """Something was queued, or the Central System is reachable again."""
        self._wakeup.set()

    async def run(self) -> None:
        outbox = self.store.outbox
        ahead: Queued | None = None  # the next head, read in the last acknowledgement's transaction
        while True:
            queued = ahead if ahead is not None else outbox.head()
            ahead = None
            if queued is None:
                await nap(None, self._wakeup)
                continue
            try:
                request = self._as_sent(queued)
            except KeyError as err:  # a message of a transaction the journal does not hold
                self._set_aside(queued, str(err))
                continue
            if request is None:
                self._set_aside(queued, "its transaction never got an id from the Central System")
                continue
            try:
                confirmation = await self._send(request, queued.message_id)
            except Unsendable as err:
                self._set_aside(queued, str(err))
                continue
            except CentralSystemUnreachable:
                await nap(self.config.integer("OfflineRetryInterval"), self._wakeup)
                continue
            except CallFailed as err:
                attempts = outbox.count_attempt(queued.seq)
                if attempts is None:  # a status replaced by a newer one while on its way
                    continue
                if attempts >= self.config.integer("TransactionMessageAttempts"):
                    log.error("%s failed %d times, giving up: %s", request.action(), attempts, err)
                    outbox.remove(queued.seq)
                    continue
                log.warning("%s failed (attempt %d): %s", request.action(), attempts, err)
                await asyncio.sleep(self.config.integer("TransactionMessageRetryInterval") * attempts)
                continue
            durable = (isinstance(request, (StartTransactionRequest, StopTransactionRequest))
                       or self._relaxed >= RELAXED_ACKNOWLEDGEMENTS)
            with atomic(self.store.db, durable=durable):
                self._acknowledged(queued, confirmation)
                outbox.remove(queued.seq)
                # Read in the same transaction: a read of its own opens one of its own, 5-10 us a
                # message (issue 19). Nothing awaits between here and the loop's next turn.
                ahead = outbox.head()
            self._relaxed = 0 if durable else self._relaxed + 1
            self._log_delivered(queued, request, confirmation)

    async def post(self, request: Request, *, online: bool) -> bool:
        """A status-lane message (:mod:`chargebox.ocpp.lanes`): sent now when the box is ``online``
        (booted, the Central System reachable) and no status-lane message waits in the outbox (it
        may overtake transaction messages, DESIGN.md, never an older status); otherwise, or when that
        attempt fails, it waits in the outbox, coalesced with what is queued there, and goes after the
        transaction messages. Whether it was sent now."""
        if lane(request) is not Lane.STATUS:
            raise ValueError(f"{request.action()} is not a status-lane message (chargebox.ocpp.lanes)")
        if online and not self.store.outbox.statuses_waiting():
            try:
                await self._send(request, None)
                return True
            except BindingError as err:
                log.warning("%s not sent now (%s); it waits in the outbox", request.action(), err)
        self.store.outbox.put(request, local_tx=None, created=self._now())
        self.wake()
        return False

    def _log_delivered(self, queued: Queued, request: Request, confirmation: Confirmation) -> None:
        """A session's steps at the Central System, one line each: the transactionId it gave, the stop
        it took."""
        if queued.local_tx is None or not isinstance(request, (StartTransactionRequest, StopTransactionRequest)):
            return
        entry = self.store.journal.get(queued.local_tx)
        where = fields(connector=entry.connector_id, transaction=entry.transaction_id,
                       local_tx=entry.local_id, id_tag=entry.id_tag, action=request.action())
        if isinstance(confirmation, StartTransactionConfirmation):
            log.info("StartTransaction confirmed: transactionId %s, idTagInfo %s",
                     confirmation.transaction_id, confirmation.id_tag_info.status.value, extra=where)
        elif isinstance(request, StopTransactionRequest):
            log.info("StopTransaction confirmed: transactionId %s, meterStop %s Wh", request.transaction_id,
                     request.meter_stop, extra=where)

    def _set_aside(self, queued: Queued, reason: str) -> None:
        """Out of the queue for good, kept for the operator (``chargebox queue``) and reported once:
        for a transaction, its first message set aside is reported (the rest of a long session's
        MeterValues follow it, and would only repeat the news)."""
        request = queued.request
        log.error("outbox message %s (%s, local transaction %s) can never be sent, moved aside: %s",
                  queued.seq, request.action(), queued.local_tx, reason)
        outbox = self.store.outbox
        with atomic(self.store.db):
            told = queued.local_tx is not None and any(kept.local_tx == queued.local_tx for kept in outbox.aside())
            outbox.set_aside(queued.seq, reason)
            if told or isinstance(request, DataTransferRequest) and request.message_id == SET_ASIDE_REPORT:
                return  # told already; and a report that cannot be sent is not reported again
            outbox.put(set_aside_report(request.action(), queued.message_id, queued.local_tx, reason),
                       local_tx=None, created=self._now())

    def _as_sent(self, queued: Queued) -> Request | None:
        """The message with what the journal now knows; None when its transaction has no id (1.5)."""
        request = queued.request
        if queued.local_tx is None:
            return request
        if (self._known_id is not None and self._known_id[0] == queued.local_tx
                and not isinstance(request, (StartTransactionRequest, StopTransactionRequest))):
            return dataclasses.replace(request, transaction_id=self._known_id[1])  # type: ignore[call-arg]
        entry = self.store.journal.get(queued.local_tx)
        if isinstance(request, StartTransactionRequest):
            return dataclasses.replace(request, timestamp=entry.start_time)
        # Transaction messages leave in order: with this one at the head, its StartTransaction is
        # no longer queued, so an id it lacks now it will never get.
        transaction_id = entry.transaction_id
        if transaction_id is None:
            if self.config.version == "1.5":
                return None
            transaction_id = -1  # 1.6 errata 3.18: "the Central System SHALL respond as if ... valid"
        else:
            self._known_id = (queued.local_tx, transaction_id)
        if isinstance(request, StopTransactionRequest) and entry.stop_time is not None:
            return dataclasses.replace(request, transaction_id=transaction_id, timestamp=entry.stop_time)
        return dataclasses.replace(request, transaction_id=transaction_id)  # type: ignore[call-arg]

