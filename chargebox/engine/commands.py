"""Central System commands (spec chapter 5): each handler decides and answers; the sessions (the
runtime shell, :mod:`~chargebox.engine.chargepoint`) carry out what the answer promises.

The commands with state of their own have their own modules: :mod:`~chargebox.engine.availability`,
:mod:`~chargebox.engine.reservations`, :mod:`~chargebox.engine.resets`,
:mod:`~chargebox.engine.datatransfer` (registered by :func:`chargebox.engine.management.install`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from chargebox.engine.authorization import Authorizer
from chargebox.engine.configuration import Configuration
from chargebox.engine.hardware import Port, Sessions
from chargebox.engine.routing import handles
from chargebox.logfields import fields, mask_id_tag
from chargebox.ocpp.datatypes import ChargingProfile, KeyValue
from chargebox.ocpp.datatypes import KeyValue
from chargebox.ocpp.enums import (
    ClearCacheStatus,
    Reason,
    RegistrationStatus,
    RemoteStartStopStatus,
    UnlockStatus,
    UpdateStatus,
    UpdateType,
)
from chargebox.ocpp.errors import BindingError
from chargebox.ocpp.messages import (
    AuthorizeConfirmation,
    AuthorizeRequest,
    ChangeConfigurationConfirmation,
    ChangeConfigurationRequest,
    ClearCacheConfirmation,
    ClearCacheRequest,
    Confirmation,
    GetConfigurationConfirmation,
    GetConfigurationRequest,
    GetLocalListVersionConfirmation,
    GetLocalListVersionRequest,
    Request,
    RemoteStartTransactionConfirmation,
    RemoteStartTransactionRequest,
    RemoteStopTransactionConfirmation,
    RemoteStopTransactionRequest,
    SendLocalListConfirmation,
    SendLocalListRequest,
    UnlockConnectorConfirmation,
    UnlockConnectorRequest,
)

from chargebox.store.authorization import AuthorizationCache, LocalList

log = logging.getLogger(__name__)


class RemoteProfiles(Protocol):
    """What takes the chargingProfile of a RemoteStartTransaction.req (smart charging, 5.16.2)."""

    def refuse(self, profile: ChargingProfile) -> str | None: ...

    def keep(self, connector_id: int, id_tag: str, profile: ChargingProfile) -> None: ...


class Commands:
    """``sessions`` starts and stops sessions (in tasks of ``spawn``); ``send`` calls the Central
    System once ``booted`` (for a tag's group, 5.11); ``pending``: whether the boot is Pending; the
    others are the parts the commands change."""

    def __init__(self, *, sessions: Sessions, spawn: Callable[[Awaitable[Any]], None], authorizer: Authorizer,
                 send: Callable[[Request], Awaitable[Confirmation]], booted: asyncio.Event,
                 pending: Callable[[], bool], local_list: LocalList, cache: AuthorizationCache,
                 config: Configuration) -> None:
        self.sessions = sessions
        self._pending = pending  # the boot is Pending (1.6 4.2)
        self._spawn = spawn
        self.authorizer = authorizer
        self._send = send
        self._booted = booted
        self.local_list = local_list
        self.cache = cache
        self.config = config
        #: Smart charging's part of a remote start with a chargingProfile; None: such a start is Rejected.
        self.remote_profiles: RemoteProfiles | None = None

    # -- transactions (5.9, 5.10, 5.14) --------------------------------------------------------

    @handles(RemoteStartTransactionRequest)
    async def remote_start(self, request: RemoteStartTransactionRequest) -> Confirmation:
        """5.9: accepted when the connector asked for (or any, when none) can take a session for the
        idTag (a reserved one only for its id-tag or group, 5.11); it then starts as if a card had
        been presented there, waiting for the cable (ConnectionTimeOut)."""
        if self._pending() or (
                request.connector_id is not None and request.connector_id not in self.sessions.ports):
            # 1.6 4.2: not allowed while the boot is Pending (nothing could be told of the session).
            return RemoteStartTransactionConfirmation(status=RemoteStartStopStatus.REJECTED)
        profile = request.charging_profile
        if profile is not None:
            remote = self.remote_profiles
            refused = "no smart charging" if remote is None else remote.refuse(profile)
            if refused is not None:
                log.info("remote start for %s rejected: %s", mask_id_tag(request.id_tag), refused,
                         extra=fields(connector=request.connector_id, id_tag=request.id_tag,
                                      action="RemoteStartTransaction"))
                return RemoteStartTransactionConfirmation(status=RemoteStartStopStatus.REJECTED)
        port = self.sessions.free_port(request.connector_id, request.id_tag)
        admitted, parent = await self._admission(port, request.id_tag) if port else (False, None)
        if port is None or not admitted:
            log.info("remote start for %s rejected", mask_id_tag(request.id_tag),
                     extra=fields(connector=request.connector_id, id_tag=request.id_tag,
                                  action="RemoteStartTransaction"))
            return RemoteStartTransactionConfirmation(status=RemoteStartStopStatus.REJECTED)
        log.info("remote start for %s authorized", mask_id_tag(request.id_tag),
                 extra=fields(connector=port.machine.number, id_tag=request.id_tag,
                              action="RemoteStartTransaction"))
        if profile is not None and self.remote_profiles is not None:
            self.remote_profiles.keep(port.machine.number, request.id_tag, profile)
        self._spawn(self.sessions.authorize(port, request.id_tag, parent))
        return RemoteStartTransactionConfirmation(status=RemoteStartStopStatus.ACCEPTED)

    async def _admission(self, port: Port, id_tag: str) -> tuple[bool, str | None]:
        """Whether a remote start for ``id_tag`` may use ``port``, and the tag's parent id-tag when its
        group had to be learnt: a reserved connector takes its id-tag, or a tag of its group, whose
        parent id-tag comes from the list or cache, else from Authorize.req (5.11)."""
        held = port.machine.reservation
        if held is None or held.admits(id_tag, None):
            return True, None
        known = self.authorizer.local(id_tag)
        if known is not None:
            parent = known.info.parent_id_tag
        else:
            if not self._booted.is_set():
                return False, None
            try:
                conf = await self._send(AuthorizeRequest(id_tag=id_tag))
            except BindingError as err:
                log.info("cannot learn the group of %s for reservation %s: %s", mask_id_tag(id_tag),
                         held.reservation_id, err,
                         extra=fields(connector=port.machine.number, id_tag=id_tag, action="Authorize"))
                return False, None
            assert isinstance(conf, AuthorizeConfirmation)
            self.authorizer.remember(id_tag, conf.id_tag_info)
            parent = conf.id_tag_info.parent_id_tag
        return held.admits(id_tag, parent), parent

    @handles(RemoteStopTransactionRequest)
    async def remote_stop(self, request: RemoteStopTransactionRequest) -> Confirmation:
        """5.10: stop the transaction with that id, as if stopped locally; Rejected when unknown."""
        if self._pending():  # 1.6 4.2: not allowed while Pending
            return RemoteStopTransactionConfirmation(status=RemoteStartStopStatus.REJECTED)
        port = self.sessions.port_of_transaction(request.transaction_id)
        if port is None:
            log.info("remote stop of transaction %s rejected: not running here", request.transaction_id,
                     extra=fields(transaction=request.transaction_id, action="RemoteStopTransaction"))
            return RemoteStopTransactionConfirmation(status=RemoteStartStopStatus.REJECTED)
        log.info("remote stop of transaction %s accepted", request.transaction_id,
                 extra=fields(connector=port.machine.number, transaction=request.transaction_id,
                              local_tx=port.local_tx, action="RemoteStopTransaction"))
        self._spawn(self.sessions.stop(port, Reason.REMOTE, None))
        return RemoteStopTransactionConfirmation(status=RemoteStartStopStatus.ACCEPTED)

    @handles(UnlockConnectorRequest)
    async def unlock_connector(self, request: UnlockConnectorRequest) -> Confirmation:
        """1.5 5.14, 1.6 5.18: a transaction on the connector is finished first, as in Stop
        Transaction (relay open, no current offered, StopTransaction queued with reason
        UnlockCommand); then its cable lock is opened (both effects of the station's,
        :meth:`~chargebox.engine.station.Station.unlock`): Unlocked only when the lock reports it
        unlocked, else UnlockFailed. NotSupported for a connector the box lacks (1.6 errata 3.85)
        and, in 1.6, for one without a lock (a tethered cable, 7.46); 1.5 has no such status
        (Rejected, Accepted: 1.5 7.38), and a tethered cable has nothing holding the plug once its
        transaction ended, so it is Accepted there (Unlocked, as 1.5 says it)."""
        port = self.sessions.ports.get(request.connector_id)
        if port is None:
            return UnlockConnectorConfirmation(status=UnlockStatus.NOT_SUPPORTED)
        unlocked = await self.sessions.unlock(port)
        if port.hardware.lock is None:
            no_lock = UnlockStatus.UNLOCKED if self.config.version == "1.5" else UnlockStatus.NOT_SUPPORTED
            return UnlockConnectorConfirmation(status=no_lock)
        if not unlocked:
            log.warning("UnlockConnector %s: the cable lock did not open", request.connector_id)
            return UnlockConnectorConfirmation(status=UnlockStatus.UNLOCK_FAILED)
        return UnlockConnectorConfirmation(status=UnlockStatus.UNLOCKED)

    # -- authorization data (5.4, 5.8, 5.13) ---------------------------------------------------

    @handles(SendLocalListRequest)
    async def send_local_list(self, request: SendLocalListRequest) -> Confirmation:
        """5.13: a Full list replaces, a Differential one updates; its version must be newer than
        the current one (VersionMismatch), and the list never grows past LocalAuthListMaxLength."""
        local_list, config = self.local_list, self.config
        entries = request.local_authorisation_list
        limit = config.integer("LocalAuthListMaxLength")
        if len({e.id_tag.casefold() for e in entries}) != len(entries) or len(entries) > config.integer(
                "SendLocalListMaxLength"):
            return SendLocalListConfirmation(status=UpdateStatus.FAILED)
        if request.update_type is UpdateType.FULL:
            if len([e for e in entries if e.id_tag_info is not None]) > limit:
                return SendLocalListConfirmation(status=UpdateStatus.FAILED)
            local_list.replace(request.list_version, entries)
        else:
            if request.list_version <= local_list.version:
                return SendLocalListConfirmation(status=UpdateStatus.VERSION_MISMATCH)
            if local_list.size_after(entries) > limit:
                return SendLocalListConfirmation(status=UpdateStatus.FAILED)
            local_list.update(request.list_version, entries)
        return SendLocalListConfirmation(status=UpdateStatus.ACCEPTED, hash=local_list.digest())

    @handles(GetLocalListVersionRequest)
    async def get_local_list_version(self, request: GetLocalListVersionRequest) -> Confirmation:
        """5.8: the list's version, 0 when it is empty."""
        return GetLocalListVersionConfirmation(list_version=self.local_list.version)

    @handles(ClearCacheRequest)
    async def clear_cache(self, request: ClearCacheRequest) -> Confirmation:
        """5.4: the Authorization Cache is emptied; the Local Authorization List is not touched."""
        self.cache.clear()
        return ClearCacheConfirmation(status=ClearCacheStatus.ACCEPTED)

    # -- configuration (5.3, 5.6) --------------------------------------------------------------

    @handles(ChangeConfigurationRequest)
    async def change_configuration(self, request: ChangeConfigurationRequest) -> Confirmation:
        return ChangeConfigurationConfirmation(status=self.config.change(request.key, request.value))

    @handles(GetConfigurationRequest)
    async def get_configuration(self, request: GetConfigurationRequest) -> Confirmation:
        known, unknown = self.config.entries(request.key)
        return GetConfigurationConfirmation(
            configuration_key=[KeyValue(key.name, key.readonly, value) for key, value in known],
            unknown_key=unknown,
        )
