"""The SOAP binding as a site config describes it: the client of the Central System and the box's
endpoint in the version of ``central_system.protocol``, with their TLS, compression, limits and timeouts
(README, Configuration)."""

from __future__ import annotations

import ssl
from collections.abc import Callable

from chargebox.binding.soap.client import CentralSystemClient
from chargebox.binding.soap.protocol import SoapProtocol
from chargebox.binding.soap.server import ChargePointEndpoint
from chargebox.binding.soap.service import central_system_service, charge_point_service
from chargebox.binding.soap15 import SOAP15
from chargebox.binding.soap16 import SOAP16
from chargebox.config import Config
from chargebox.ocpp.messages import Handler

#: The SOAP protocols by their ``central_system.protocol`` name.
PROTOCOLS = {protocol.name: protocol for protocol in (SOAP15, SOAP16)}


def protocol(config: Config) -> SoapProtocol:
    """The SOAP version the config names (config.py has refused any other protocol)."""
    return PROTOCOLS[config.protocol]


def client(config: Config, from_url: Callable[[], str | None] | None = None) -> CentralSystemClient:
    """The client of ``[central_system]``; it sends ``from_url()`` (by default the box's
    ``endpoint.public_url``) as wsa:From."""
    cs = config.central_system_transport
    return CentralSystemClient(
        config.central_system_url, config.identity, from_url or (lambda: config.public_url), timeout=cs.timeout,
        connect_timeout=cs.connect_timeout, compression=cs.compression, compress_threshold=cs.compress_threshold,
        allow_plain_http=cs.allow_plain_http, ssl_context=cs.ssl_context(),
        service=central_system_service(protocol(config)),
    )


def endpoint(config: Config, handler: Handler, replies: CentralSystemClient) -> ChargePointEndpoint:
    """The endpoint of ``[endpoint]``; answers to a wsa:ReplyTo go out through ``replies``."""
    transport = config.endpoint_transport
    return ChargePointEndpoint(
        config.identity, handler, path=config.endpoint_path, allow=config.allow, replies=replies,
        max_body=transport.max_body, read_timeout=transport.read_timeout,
        max_connections=transport.max_connections, idle_timeout=transport.idle_timeout,
        compress_threshold=config.central_system_transport.compress_threshold,
        service=charge_point_service(protocol(config)),
    )


def endpoint_ssl(config: Config) -> ssl.SSLContext | None:
    """What the endpoint serves HTTPS with; None for plain HTTP (only with endpoint.allow_plain_http)."""
    return config.endpoint_transport.ssl_context()
