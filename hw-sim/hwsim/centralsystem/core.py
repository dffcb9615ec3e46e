"""What the reference Central System does, whatever the wire: the business logic and the record.

:class:`CentralSystemCore` holds the knobs (boot status, heartbeat interval, known cards, injected
failures, outages), answers the box's requests (:meth:`CentralSystemCore.answer`), keeps the record,
the journal and the transactions, and lets tests wait on them. A wire subclass receives and checks
messages, records each with :meth:`CentralSystemCore.commit`, and calls the box:
:class:`hwsim.centralsystem.server.CentralSystem` (OCPP 1.5 / 1.6 SOAP) and
:class:`hwsim.centralsystem.jsonserver.JsonCentralSystem` (OCPP 1.6 JSON over WebSocket).

This module is part of ``hwsim`` (the outside world) and must never import ``chargebox``.
"""

from __future__ import annotations

import abc
import asyncio
import datetime as _dt
import itertools
import json
import logging
import ssl
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from aiohttp import web

log = logging.getLogger("hwsim.centralsystem")

FaultTuple = tuple[str, str | None, str]

#: Outages the Central System can simulate (besides ``reject_connections``, a reset connection):
#: ``refused``: its port is closed; ``black_hole``: requests arrive and nothing comes back (not
#: processed; the connection is dropped when the outage ends); ``answer_lost``: each request is
#: processed and recorded, and its answer is lost (the process died after its commit).
OUTAGES = frozenset({"refused", "black_hole", "answer_lost"})




def utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def format_time(value: _dt.datetime) -> str:
    """UTC, ISO 8601 with ``Z`` and milliseconds: ``2024-05-01T12:00:00.123Z``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    value = value.astimezone(_dt.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


@dataclass
class Received:
    """One request the Central System received, valid or not (over OCPP-J also a refused handshake or a
    frame that is no CALL: then ``action`` is None). ``from_url``: wsa:From (SOAP; None over OCPP-J)."""

    seq: int
    loop_time: float
    wall_time: _dt.datetime
    charge_box_identity: str | None
    action: str | None
    message_id: str | None
    from_url: str | None
    payload: dict[str, Any] | None
    valid: bool
    errors: list[str] = field(default_factory=list)
    content_encoding: str | None = None
    #: the response payload we sent (None when we answered with a fault)
    response: dict[str, Any] | None = None
    #: "Code/Subcode" of the SOAP fault we answered with, or the CALLERROR errorCode (OCPP-J), if any
    fault: str | None = None
    path: str = "/"

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "loop_time": self.loop_time,
            "wall_time": format_time(self.wall_time),
            "charge_box_identity": self.charge_box_identity,
            "action": self.action,
            "message_id": self.message_id,
            "from_url": self.from_url,
            "payload": self.payload,
            "valid": self.valid,
            "errors": list(self.errors),
            "content_encoding": self.content_encoding,
            "response": self.response,
            "fault": self.fault,
            "path": self.path,
        }


@dataclass
class CallResult:
    """The outcome of :meth:`CentralSystemCore.call`.

    ``ok``: a valid, non-fault response arrived. ``valid``: what arrived (response or fault) complied
    with the wire (SOAP 1.2 / WS-Addressing, or the OCPP-J frame) and the CP schema. ``fault``:
    ``(code, subcode, reason)``: for SOAP with local names (``("Sender", "IdentityMismatch", "...")``),
    for OCPP-J a CALLERROR's ``(errorCode, None, errorDescription)``; ``errors``: every problem seen,
    including transport errors (then ``valid`` is False and ``payload`` and ``fault`` are None).
    ``round_trip``: OCPP-J, seconds from the CALL written to the WebSocket to its answer read (before the
    answer's schema check), so that a caller can tell the box's time from ours; None where nothing came back.
    """

    ok: bool
    payload: dict[str, Any] | None
    fault: FaultTuple | None
    valid: bool
    errors: list[str] = field(default_factory=list)
    http_status: int | None = None
    message_id: str | None = None
    round_trip: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "payload": self.payload,
            "fault": (
                None
                if self.fault is None
                else {"code": self.fault[0], "subcode": self.fault[1], "reason": self.fault[2]}
            ),
            "valid": self.valid,
            "errors": list(self.errors),
            "http_status": self.http_status,
            "message_id": self.message_id,
            "round_trip": self.round_trip,
        }


@dataclass
class CallRecord:
    """One request the Central System sent to a box, with its result."""

    seq: int
    loop_time: float
    wall_time: _dt.datetime
    charge_box_identity: str
    action: str
    url: str
    message_id: str
    payload: dict[str, Any]
    result: CallResult

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "loop_time": self.loop_time,
            "wall_time": format_time(self.wall_time),
            "charge_box_identity": self.charge_box_identity,
            "action": self.action,
            "url": self.url,
            "message_id": self.message_id,
            "payload": self.payload,
            "result": self.result.to_json(),
        }


class InvalidCallError(ValueError):
    """A request we were asked to send to a box does not validate against the CP schema."""

    def __init__(self, message: str, errors: list[str]) -> None:
        super().__init__(message)
        self.errors = errors


class UnknownBoxError(LookupError):
    """No way to reach that box: no URL given and no ``wsa:From`` address seen yet (SOAP), or the box
    has no WebSocket connection open (OCPP-J)."""




class CentralSystemCore(abc.ABC):
    """The protocol-independent Central System: knobs, answers, record, journal, transactions.

    Behaviour knobs (plain attributes, change them any time): :attr:`boot_status`,
    :attr:`heartbeat_interval`, :attr:`id_tags` / :attr:`default_id_tag_status`, :attr:`fail_next`,
    :attr:`reject_connections`. ``wall_clock`` supplies ``currentTime`` (inject a virtual clock in tests).
    ``cs_operations``: the Central System operations of the protocol (what :attr:`fail_next` and the
    journal may name); ``boot_statuses`` / ``auth_statuses``: the values its schema allows;
    ``interval_field``: the name of BootNotification.conf's heartbeat interval (``heartbeatInterval``
    in 1.5, ``interval`` in 1.6, 6.4).
    """

    #: "ocpp1.5-soap", "ocpp1.6-soap" or "ocpp1.6-json"
    protocol: str

    def __init__(
        self,
        *,
        cs_operations: Collection[str],
        boot_statuses: tuple[str, ...],
        auth_statuses: tuple[str, ...],
        interval_field: str,
        heartbeat_interval: int = 300,
        wall_clock: Callable[[], _dt.datetime] = utc_now,
        journal: Path | None = None,
    ) -> None:
        """``journal``: every request is appended to this file (JSON lines) before it is answered, and
        read back here, so a Central System killed and started again keeps its record and its
        transactions, as a real one keeps them in its database."""
        self.cs_operations = frozenset(cs_operations)
        self._boot_statuses = boot_statuses
        self._auth_statuses = auth_statuses
        self._interval_field = interval_field
        self._wall_clock = wall_clock
        self.heartbeat_interval = heartbeat_interval
        self._boot_status = "Accepted"
        self.id_tags: dict[str, str] = {}
        #: idTag -> parentIdTag: the groups (OCPP 1.6 3.10)
        self.id_tag_parents: dict[str, str] = {}
        self.default_id_tag_status = "Accepted"
        #: action -> answer the next N valid requests of that action with an internal error
        self.fail_next: dict[str, int] = {}
        self._reject_connections = False
        self.rejected_count = 0
        #: An outage of another kind (see :data:`OUTAGES`); None: none. Applied by :meth:`set_outage`.
        self.outage: str | None = None
        self._outage_over = asyncio.Event()

        self.record: list[Received] = []
        self.calls: list[CallRecord] = []
        #: Called with every request once it is recorded (held commands wait for a box's next one).
        self.request_listeners: list[Callable[[Received], None]] = []
        #: transactionId -> what StartTransaction said (and StopTransaction, once seen)
        self.transactions: dict[int, dict[str, Any]] = {}
        self._transaction_ids = itertools.count(1)
        self._seq = itertools.count(1)
        self._call_seq = itertools.count(1)
        self._changed = asyncio.Condition()
        #: where it listens (port 0 before :meth:`start`)
        self.host = "127.0.0.1"
        self.port = 0

        self._journal: TextIO | None = None
        if journal is not None:
            self._replay(journal)
            self._journal = journal.open("a", encoding="utf-8")  # noqa: SIM115 - closed in stop()
            if journal.stat().st_size and not journal.read_bytes().endswith(b"\n"):
                self._journal.write("\n")  # end a line cut by a kill, so the next one stands alone

    # ------------------------------------------------------------------ the wire (subclasses)

    @property
    @abc.abstractmethod
    def url(self) -> str:
        """Where boxes reach this Central System."""

    @abc.abstractmethod
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None: ...

    def _base_url(self, scheme: str) -> str:
        """``scheme://host:port`` where boxes reach it (a wildcard address as loopback)."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"{scheme}://{host}:{self.port}"

    async def _listen(self, runner: web.AppRunner, host: str, port: int,
                      ssl_context: ssl.SSLContext | None) -> web.TCPSite:
        """The wire's app listening at ``host:port`` (port 0: any free one, then :attr:`port` says which)."""
        await runner.setup()
        site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self.host = host
        self.port = int(runner.addresses[0][1])
        return site

    @abc.abstractmethod
    async def _stop_wire(self) -> None:
        """Close the listening socket, connections and client sessions."""

    @abc.abstractmethod
    async def _apply_outage(self, outage: str | None) -> None:
        """Open or close the port as the new outage (already validated and set) requires."""

    def _network_cut(self) -> None:
        """:attr:`reject_connections` just became True: drop what is open (a wire that keeps
        connections open overrides this)."""

    @abc.abstractmethod
    async def call(
        self,
        charge_box_identity: str,
        action: str,
        payload: dict[str, Any],
        *,
        url: str | None = None,
        timeout: float = 10,
    ) -> CallResult:
        """Send a Charge Point operation to a box and check its answer.

        Raises :class:`KeyError` for an unknown action, :class:`InvalidCallError` if our own
        request is not valid against the CP schema, :class:`UnknownBoxError` if the box cannot be
        reached. Transport errors and timeouts are *returned* (``ok=False``, ``valid=False``).
        """

    @abc.abstractmethod
    def box_url(self, charge_box_identity: str) -> str | None:
        """Where the box was last reached (None: unknown or not connected)."""

    # ------------------------------------------------------------------ knobs

    @property
    def reject_connections(self) -> bool:
        """True: the network is cut. Incoming connections are aborted without an answer and
        :meth:`call` does not reach the box."""
        return self._reject_connections

    @reject_connections.setter
    def reject_connections(self, value: bool) -> None:
        was, self._reject_connections = self._reject_connections, value
        if value and not was:
            self._network_cut()

    @property
    def boot_status(self) -> str:
        return self._boot_status

    @boot_status.setter
    def boot_status(self, value: str) -> None:
        if value not in self._boot_statuses:
            raise ValueError(f"boot_status {value!r}: the schema allows {list(self._boot_statuses)}")
        self._boot_status = value

    @property
    def boot_statuses(self) -> tuple[str, ...]:
        return self._boot_statuses

    @property
    def authorization_statuses(self) -> tuple[str, ...]:
        return self._auth_statuses

    def check_id_tag_status(self, status: str) -> None:
        if status not in self._auth_statuses:
            raise ValueError(f"idTag status {status!r}: the schema allows {list(self._auth_statuses)}")

    def id_tag_status(self, id_tag: str) -> str:
        """Status for ``id_tag``: :attr:`id_tags` looked up case-insensitively (OCPP 1.5, 7.20)."""
        wanted = id_tag.casefold()
        for tag, status in self.id_tags.items():
            if tag.casefold() == wanted:
                return status
        return self.default_id_tag_status

    def id_tag_info(self, id_tag: str) -> dict[str, str]:
        """IdTagInfo (7.17) for ``id_tag``: its status and, when it belongs to a group, its parentIdTag."""
        info = {"status": self.id_tag_status(id_tag)}
        wanted = id_tag.casefold()
        for tag, parent in self.id_tag_parents.items():
            if tag.casefold() == wanted:
                info["parentIdTag"] = parent
        return info

    def take_injected_failure(self, action: str) -> bool:
        """True (and one fewer pending) when :attr:`fail_next` says to fail this request."""
        pending = self.fail_next.get(action, 0)
        if pending > 0:
            self.fail_next[action] = pending - 1
            return True
        return False

    # ------------------------------------------------------------------ lifecycle

    async def stop(self) -> None:
        self._outage_over.set()  # a black-holed request ends (aborted) rather than hold the shutdown
        await self._stop_wire()
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def _replay(self, journal: Path) -> None:
        """The record and transactions as the journal holds them: each request that was answered is
        answered again, in order, which gives out the same transaction ids."""
        if not journal.exists():
            return
        for line in journal.read_text(encoding="utf-8").splitlines():
            try:
                data = json.loads(line)
            except ValueError:
                continue  # the line being written when the process was killed: never answered
            data["wall_time"] = _dt.datetime.fromisoformat(data["wall_time"])
            rec = Received(**data)
            self.record.append(rec)
            if rec.response is not None and rec.action in self.cs_operations:
                answer = self.answer(rec.action, rec, rec.payload or {})
                given = rec.response.get("transactionId")
                if given is not None and answer.get("transactionId") != given:
                    log.error("journal replay gave transaction %s for record %s, which had %s",
                              answer.get("transactionId"), rec.seq, given)
        self._seq = itertools.count(self.record[-1].seq + 1 if self.record else 1)

    async def set_outage(self, outage: str | None) -> None:
        """Begin (or with None end) an outage of one of the :data:`OUTAGES` kinds."""
        if outage is not None and outage not in OUTAGES:
            raise ValueError(f"outage {outage!r}: expected one of {sorted(OUTAGES)} or null")
        previous, self.outage = self.outage, outage
        if previous == outage:
            return
        if outage is None:
            self._outage_over.set()
        elif previous is None:
            self._outage_over = asyncio.Event()
        await self._apply_outage(outage)

    async def __aenter__(self) -> "CentralSystemCore":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ recording

    def arrival(self) -> tuple[float, _dt.datetime]:
        """Loop time and wall time now: when a message arrived."""
        return asyncio.get_running_loop().time(), self._wall_clock()

    def new_record(self, arrived: tuple[float, _dt.datetime], **fields: Any) -> Received:
        """A :class:`Received` with the next seq, arrived at ``arrived`` (:meth:`arrival`)."""
        return Received(seq=next(self._seq), loop_time=arrived[0], wall_time=arrived[1], **fields)

    async def commit(self, rec: Received) -> None:
        """Keep ``rec``: in the record, in the journal (before the answer leaves, as a database
        commit is), then tell the listeners and the waiters."""
        self.record.append(rec)
        if self._journal is not None:
            self._journal.write(json.dumps(rec.to_json()) + "\n")
            self._journal.flush()
        for listener in self.request_listeners:
            listener(rec)
        await self._notify()
        if not rec.valid:
            log.warning("invalid %s from %s: %s", rec.action, rec.charge_box_identity, rec.errors)

    def record_call(
        self, sent: tuple[float, _dt.datetime], charge_box_identity: str, action: str, url: str,
        message_id: str, payload: dict[str, Any], result: CallResult,
    ) -> None:
        """Keep a call made to a box (sent at ``sent``, :meth:`arrival`) with its result."""
        self.calls.append(
            CallRecord(
                seq=next(self._call_seq),
                loop_time=sent[0],
                wall_time=sent[1],
                charge_box_identity=charge_box_identity,
                action=action,
                url=url,
                message_id=message_id,
                payload=payload,
                result=result,
            )
        )
        if not result.valid:
            log.warning("%s to %s: %s", action, charge_box_identity, result.errors)

    # ------------------------------------------------------------------ waiting

    def received(self, action: str | None = None, *, valid: bool | None = True, since: int = 0) -> list[Received]:
        """Records after seq ``since``, optionally only of ``action`` and of the given validity."""
        return self._matching(self.record, action, valid=valid, since=since)

    @staticmethod
    def _matching(
        records: Iterable[Received], action: str | None, *, valid: bool | None, since: int
    ) -> list[Received]:
        return [
            r
            for r in records
            if r.seq > since
            and (action is None or r.action == action)
            and (valid is None or r.valid == valid)
        ]

    async def wait_for(
        self, action: str, count: int = 1, timeout: float = 10.0, *, since: int = 0
    ) -> list[Received]:
        """Return once ``count`` valid ``action`` requests (seq > ``since``) were received.

        Returns all such records (at least ``count``); raises :class:`TimeoutError` listing what did
        arrive otherwise.
        """

        # The record only grows: each wake-up counts the records added since the last one, so a
        # wait over a drain of N messages costs O(N), not O(N) per message.
        found = looked = 0

        def enough() -> bool:
            nonlocal found, looked
            found += len(self._matching(self.record[looked:], action, valid=True, since=since))
            looked = len(self.record)
            return found >= count

        try:
            async with asyncio.timeout(timeout):
                async with self._changed:
                    await self._changed.wait_for(enough)
        except TimeoutError:
            seen = [(r.seq, r.action, r.valid) for r in self.record if r.seq > since]
            raise TimeoutError(
                f"waited {timeout}s for {count} valid {action}; received (seq, action, valid): {seen}"
            ) from None
        return self.received(action, since=since)

    async def wait_for_record(self, seq: int, timeout: float = 10.0) -> list[Received]:
        """Wait until there is any record after ``seq`` (valid or not); return those records."""
        async with asyncio.timeout(timeout):
            async with self._changed:
                await self._changed.wait_for(lambda: bool(self.record) and self.record[-1].seq > seq)
        return [r for r in self.record if r.seq > seq]

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ------------------------------------------------------------------ answers

    def answer(self, name: str, rec: Received, req: dict[str, Any]) -> dict[str, Any]:
        """The confirmation payload of a valid ``name`` request (neutral: the same dict goes on
        either wire; only the heartbeat interval's name differs between 1.5 and 1.6)."""
        now = format_time(self._wall_clock())
        if name == "BootNotification":
            return {"status": self.boot_status, "currentTime": now,
                    self._interval_field: self.heartbeat_interval}
        if name == "Heartbeat":
            return {"currentTime": now}
        if name == "Authorize":
            return {"idTagInfo": self.id_tag_info(str(req.get("idTag", "")))}
        if name == "StartTransaction":
            info = self.id_tag_info(str(req.get("idTag", "")))
            for tid, known in self.transactions.items():
                if known["charge_box_identity"] == rec.charge_box_identity and known["start"] == req:
                    # The same message again (the box could not commit our answer before it lost
                    # power): the same transaction, as a real Central System keeps it.
                    known["retransmissions"] = known.get("retransmissions", 0) + 1
                    return {"transactionId": tid, "idTagInfo": info}
            tid = next(self._transaction_ids)
            self.transactions[tid] = {
                "charge_box_identity": rec.charge_box_identity,
                "start": req,
                "start_seq": rec.seq,
                "status": info["status"],
            }
            return {"transactionId": tid, "idTagInfo": info}
        if name == "StopTransaction":
            tx = self.transactions.get(req.get("transactionId", -1))
            if tx is not None:
                tx["stop"] = req
                tx["stop_seq"] = rec.seq
            if "idTag" in req:
                return {"idTagInfo": self.id_tag_info(str(req["idTag"]))}
            return {}
        if name == "DataTransfer":
            return {"status": "UnknownVendorId"}
        # MeterValues, StatusNotification, FirmwareStatusNotification, DiagnosticsStatusNotification
        # and anything else in the schema: an empty confirmation.
        return {}
