"""The OCPP-J binding as a site config describes it: the WebSocket client of ``[central_system]`` with its
TLS, HTTP Basic key, ping interval, timeouts and reconnect backoff (README, Configuration)."""

from __future__ import annotations

from chargebox.binding.ocpp16json.client import JsonClient
from chargebox.binding.ocpp16json.connection import Backoff
from chargebox.config import Config


def client(config: Config) -> JsonClient:
    """The client of ``[central_system]`` with ``protocol = "ocpp1.6-json"``; it answers the Central
    System's requests once given a handler (:meth:`JsonClient.serve`)."""
    cs = config.central_system_transport
    return JsonClient(
        config.central_system_url, config.identity, timeout=cs.timeout, connect_timeout=cs.connect_timeout,
        allow_plain=cs.allow_plain_http, ssl_context=cs.ssl_context(),
        authorization_key=lambda: cs.authorization_key, ping_interval=lambda: cs.ping_interval,
        backoff=Backoff(longest=cs.reconnect_max),
    )
