"""Transactions on record: the journal and the outbox (DESIGN.md, "Nothing is lost").

Every write here is synchronous and atomic with the outbox message it goes with: a power cut keeps
both or neither. The runtime shell (:mod:`~chargebox.engine.chargepoint`) reads the meters and calls
these with the readings; the courier (:mod:`~chargebox.engine.delivery`) sends what they queue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from hal.events import MeterReading

from chargebox.clock import Clock
from chargebox.engine.configuration import Configuration
from chargebox.engine.connector import BeginTransaction
from chargebox.engine.metering import meter_value, whole_wh
from chargebox.logfields import fields
from chargebox.ocpp.datatypes import MeterValue, TransactionData
from chargebox.ocpp.enums import ReadingContext, Reason
from chargebox.ocpp.messages import MeterValuesRequest, StartTransactionRequest, StopTransactionRequest
from chargebox.store import Store
from chargebox.store.database import atomic

log = logging.getLogger(__name__)


class Recorder:
    """``offered``: the current a connector's pilot offers now (Current.Offered, 1.6 7.31)."""

    def __init__(self, store: Store, config: Configuration, clock: Clock,
                 offered: Callable[[int], float | None] = lambda connector: None) -> None:
        self.store = store
        self._offered = offered
        self.journal = store.journal
        self.outbox = store.outbox
        self.config = config
        self.clock = clock
        self._unsynced: list[int] = []  # transactions begun before the clock was synchronised

    def _values(self, connector: int, reading: MeterReading | None, key: str, context: ReadingContext,
                when: datetime) -> MeterValue | None:
        """The Transaction.Begin/End sample, stamped with its StartTransaction's or StopTransaction's time."""
        if reading is None:
            return None
        return self._value(connector, reading, key, context, when)

    def _value(self, connector: int, reading: MeterReading, key: str, context: ReadingContext, when: datetime,
               interval_start: MeterReading | None = None) -> MeterValue | None:
        """The measurands ``key`` asks for, per phase where the version has phases (1.6 7.34)."""
        return meter_value(reading, self.config.measurands(key), context, when, interval_start,
                           per_phase=self.config.version != "1.5", offered=self._offered(connector))

    def begin(self, connector: int, effect: BeginTransaction, reading: MeterReading) -> int:
        """A transaction journalled and its StartTransaction queued; its local id."""
        meter_start = whole_wh(reading)
        now = self.clock.now()
        request = StartTransactionRequest(
            connector_id=connector, id_tag=effect.id_tag, timestamp=now, meter_start=meter_start,
            reservation_id=effect.reservation_id,
        )
        # Journal and outbox in one SQLite transaction: a power cut keeps both or neither.
        with atomic(self.store.db):
            entry = self.journal.begin(
                connector_id=connector, id_tag=effect.id_tag, meter_start=meter_start,
                start_time=now, synced=self.clock.synced, parent_id_tag=effect.parent_id_tag,
                reservation_id=effect.reservation_id,
            )
            self.outbox.put(request, local_tx=entry.local_id, created=now)
            begin = self._values(connector, reading, "StopTxnSampledData", ReadingContext.TRANSACTION_BEGIN,
                                 now)
            if begin is not None:
                self.journal.add_value(entry.local_id, begin)
        if not self.clock.synced:
            self._unsynced.append(entry.local_id)
        log.info("transaction %s started: meterStart %s Wh%s", entry.local_id, meter_start,
                 f", reservation {effect.reservation_id}" if effect.reservation_id is not None else "",
                 extra=fields(connector=connector, local_tx=entry.local_id, id_tag=effect.id_tag))
        return entry.local_id

    def end(self, connector: int, local_tx: int, reading: MeterReading | None, reason: Reason,
            id_tag: str | None) -> None:
        """The transaction ended now: its End sample, the journal's end and its StopTransaction."""
        entry = self.journal.get(local_tx)
        # Never a refused or missing reading: the last good register the journal holds (issue: meter faults).
        meter_stop = whole_wh(reading) if reading else (entry.meter_last or entry.meter_start)
        now = self.clock.now()
        with atomic(self.store.db):
            end = self._values(connector, reading, "StopTxnSampledData", ReadingContext.TRANSACTION_END, now)
            if end is not None:
                self.journal.add_value(local_tx, end)
            self._finish(local_tx, meter_stop, now, reason, id_tag)
        log.info("transaction %s stopped: reason %s, meterStop %s Wh", local_tx, reason, meter_stop,
                 extra=fields(connector=connector, transaction=entry.transaction_id,
                              local_tx=local_tx, id_tag=id_tag or entry.id_tag))

    def _finish(self, local_tx: int, meter_stop: int, when: datetime, reason: Reason,
                id_tag: str | None) -> None:
        """The journal's end of a transaction and its StopTransaction, in the caller's SQLite transaction.

        transactionId and the final timestamp are filled in when the message is sent: the Central
        System may not have answered the StartTransaction yet (:mod:`~chargebox.engine.delivery`).
        """
        self.journal.finish(local_tx, meter_stop=meter_stop, stop_time=when, reason=reason, id_tag=id_tag)
        values = self.journal.values(local_tx)
        self.outbox.put(
            # The journal's reason is what ended it (1.6 6.49, 7.35: Local, Remote, EVDisconnected,
            # PowerLoss, SoftReset...); 1.5 has no reason field, its binding leaves it out.
            StopTransactionRequest(transaction_id=0, id_tag=id_tag, timestamp=when, meter_stop=meter_stop,
                                   reason=reason,
                                   transaction_data=[TransactionData(values)] if values else []),
            local_tx=local_tx, created=when,
        )

    def cut_off(self, local_tx: int, reading: MeterReading | None,
                reason: Reason = Reason.POWER_LOSS) -> None:
        """Power loss (issue 4): a transaction still running in the journal at start was cut off. It is
        stopped once, and its meterStop and timestamp are always one sample's (README, "Power loss"):
        the reading taken now, at this time, when the meter answers with more than the journal holds
        (energy counted after the last journal entry, while the daemon was down, is billed) and the
        clock is past that entry; else the last journalled register at the time it was journalled.
        Never a fresh register at an old time: that is energy in no time."""
        entry = self.journal.get(local_tx)
        meter_stop = entry.meter_last if entry.meter_last is not None else entry.meter_start
        when = entry.last_seen or entry.start_time
        now = self.clock.now()
        if reading is not None and whole_wh(reading) > meter_stop and now > when:
            meter_stop, when = whole_wh(reading), now
        with atomic(self.store.db):
            self._finish(entry.local_id, meter_stop, when, reason, None)
        log.warning("transaction %s on connector %s was cut off; stopped at %s with %s Wh",
                    entry.local_id, entry.connector_id, when.isoformat(), meter_stop,
                    extra=fields(connector=entry.connector_id, transaction=entry.transaction_id,
                                 local_tx=entry.local_id, id_tag=entry.id_tag))

    def sample(self, connector: int, local_tx: int, reading: MeterReading, *, periodic: bool) -> None:
        """A running transaction's register and sign of life into the journal, and with ``periodic``
        its sampled MeterValues (4.7, 6.9.1 MeterValueSampleInterval)."""
        now = self.clock.now()  # one time for the journal and the sample: a stop may use either
        with atomic(self.store.db):
            self.journal.record_meter(local_tx, whole_wh(reading), now)
            if periodic:
                self._queue_values(connector, local_tx, reading, ReadingContext.SAMPLE_PERIODIC,
                                   "MeterValuesSampledData", "StopTxnSampledData", when=now)

    def aligned(self, connector: int, local_tx: int, reading: MeterReading, start: MeterReading | None,
                boundary: datetime) -> None:
        """A running transaction's clock-aligned sample, stamped with its boundary (6.9.1)."""
        with atomic(self.store.db):
            self.journal.record_meter(local_tx, whole_wh(reading), boundary)
            self._queue_values(connector, local_tx, reading, ReadingContext.SAMPLE_CLOCK,
                               "MeterValuesAlignedData", "StopTxnAlignedData", start, when=boundary)

    def _queue_values(self, connector: int, local_tx: int, reading: MeterReading, context: ReadingContext,
                      measurands_key: str, stop_key: str, interval_start: MeterReading | None = None,
                      when: datetime | None = None) -> None:
        """A transaction's MeterValues into the outbox, and the values its StopTransaction will carry,
        stamped ``when`` (the reading's time as journalled, or a clock-aligned boundary), else now."""
        now = when or self.clock.now()
        value = self._value(connector, reading, measurands_key, context, now, interval_start)
        if value is not None:
            self.outbox.put(MeterValuesRequest(connector_id=connector, transaction_id=0, values=[value]),
                            local_tx=local_tx, created=now)
        kept = self._value(connector, reading, stop_key, context, now, interval_start)
        if kept is not None:
            self.journal.add_value(local_tx, kept)

    def clock_set(self, first: bool, step: timedelta) -> None:
        """The clock was synchronised (6.4, 6.16): transactions begun before the first
        synchronisation get their timestamps corrected by the same step."""
        if first and self._unsynced:
            self.journal.correct_times(self._unsynced, step)
            self._unsynced.clear()
