"""The OCPP-J binding as a site config describes it: the WebSocket client of ``[central_system]`` with its
TLS, HTTP Basic key, ping interval, timeouts and reconnect backoff (README, Configuration)."""

from __future__ import annotations

from collections.abc import Callable

from chargebox.binding.ocpp16json.client import JsonClient
from chargebox.binding.ocpp16json.connection import MAX_FRAME_BYTES, Backoff
from chargebox.config import Config


def client(config: Config, authorization_key: Callable[[], str | None] | None = None,
           ping_interval: Callable[[], float] | None = None, longest_list: int = 0) -> JsonClient:
    """The client of ``[central_system]`` with ``protocol = "ocpp1.6-json"``; it answers the Central
    System's requests once given a handler (:meth:`JsonClient.serve`). ``authorization_key`` and
    ``ping_interval``, read at each connection, are the engine's AuthorizationKey and
    WebSocketPingInterval when given (the Central System may change them), else the site config's.
    ``longest_list``: the bytes of the longest SendLocalList the box says it takes (SendLocalListMaxLength
    entries), which a frame may carry beyond the link's own bound."""
    cs = config.central_system_transport
    return JsonClient(
        config.central_system_url, config.identity, timeout=cs.timeout, connect_timeout=cs.connect_timeout,
        allow_plain=cs.allow_plain_http, ssl_context=cs.ssl_context(),
        authorization_key=authorization_key or (lambda: cs.authorization_key),
        ping_interval=ping_interval or (lambda: cs.ping_interval),
        backoff=Backoff(longest=cs.reconnect_max), max_frame=max(MAX_FRAME_BYTES, longest_list),
    )
