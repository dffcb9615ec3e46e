"""Who may charge: the Central System, the Local Authorization List and the cache (OCPP 1.6 3.5).

The rules, each switched by a configuration key (:mod:`chargebox.engine.configuration`):

- Online, ``LocalPreAuthorize``: a tag valid in the list or cache starts at once, no Authorize (3.5).
- Online otherwise: Authorize.req, and its IdTagInfo is what counts (5.x Authorize, 4.1).
- Offline, ``LocalAuthorizeOffline``: a tag valid in the list or cache starts (3.5).
- Offline, ``AllowOfflineTxForUnknownId``: a tag known nowhere starts too (3.5.4); one that is known
  but not valid never does.
- The list wins over the cache (3.5.3); an entry past its expiryDate counts as Expired.
- Every IdTagInfo the Central System gives updates the cache (3.5.1), unless the cache is off.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum

from chargebox.clock import Clock
from chargebox.engine.configuration import Configuration
from chargebox.ocpp.datatypes import IdTagInfo
from chargebox.ocpp.enums import AuthorizationStatus
from chargebox.ocpp.errors import BindingError
from chargebox.store.authorization import AuthorizationCache, LocalList


class Source(Enum):
    CENTRAL_SYSTEM = "central system"
    LOCAL_LIST = "local list"
    CACHE = "cache"
    UNKNOWN_OFFLINE = "unknown, offline"  # AllowOfflineTxForUnknownId


@dataclass(frozen=True, slots=True)
class Decision:
    info: IdTagInfo
    source: Source

    @property
    def accepted(self) -> bool:
        return self.info.status is AuthorizationStatus.ACCEPTED


#: Asks the Central System (Authorize.req); raises when it cannot be asked or did not answer.
Ask = Callable[[str], Awaitable[IdTagInfo]]


class Authorizer:
    def __init__(self, config: Configuration, local_list: LocalList, cache: AuthorizationCache,
                 clock: Clock) -> None:
        self.config = config
        self.local_list = local_list
        self.cache = cache
        self.clock = clock

    def local(self, id_tag: str) -> Decision | None:
        """What the box knows of ``id_tag`` on its own: the list first, then the cache (3.5.3)."""
        if self.config.flag("LocalAuthListEnabled"):
            info = self.local_list.get(id_tag)
            if info is not None:
                return Decision(self._expired(info), Source.LOCAL_LIST)
        if self.config.flag("AuthorizationCacheEnabled"):
            info = self.cache.get(id_tag)
            if info is not None:
                return Decision(self._expired(info), Source.CACHE)
        return None

    def _expired(self, info: IdTagInfo) -> IdTagInfo:
        if info.status is AuthorizationStatus.ACCEPTED and info.expiry_date and info.expiry_date <= self.clock.now():
            return dataclasses.replace(info, status=AuthorizationStatus.EXPIRED)
        return info

    def remember(self, id_tag: str, info: IdTagInfo) -> None:
        """An IdTagInfo from the Central System (Authorize, StartTransaction, StopTransaction)."""
        if self.config.flag("AuthorizationCacheEnabled"):
            self.cache.put(id_tag, info, max_entries=self.config.integer("AuthorizationCacheMaxLength"))

    async def authorize(self, id_tag: str, ask: Ask | None) -> Decision:
        """The decision for a new session; ``ask`` is None when the Central System is not reachable.

        When asking fails, the offline rules decide, as if ``ask`` had been None.
        """
        known = self.local(id_tag)
        if ask is not None:
            if known is not None and known.accepted and self.config.flag("LocalPreAuthorize"):
                return known
            try:
                info = await ask(id_tag)
            except BindingError:
                pass
            else:
                self.remember(id_tag, info)
                return Decision(info, Source.CENTRAL_SYSTEM)
        if known is not None:
            if known.accepted and not self.config.flag("LocalAuthorizeOffline"):
                return Decision(IdTagInfo(AuthorizationStatus.INVALID), known.source)
            return known
        if self.config.flag("AllowOfflineTxForUnknownId"):
            return Decision(IdTagInfo(AuthorizationStatus.ACCEPTED), Source.UNKNOWN_OFFLINE)
        return Decision(IdTagInfo(AuthorizationStatus.INVALID), Source.UNKNOWN_OFFLINE)
