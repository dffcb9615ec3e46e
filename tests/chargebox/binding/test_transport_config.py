"""The binding's keys in the site config (README, Configuration): plain HTTP only where the config
says so, TLS files checked when the config is read, and a config's TLS working end to end."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from soap_helpers import REMOTE_START, heartbeat_answer, recording_app, serving
from tls_pki import Pki, caller, make_pki

from chargebox import tls
from chargebox.binding.soap import configured, envelope
from chargebox.config import ClientTransport, EndpointTransport, load
from chargebox.errors import ConfigError
from chargebox.ocpp.enums import RemoteStartStopStatus
from chargebox.ocpp.errors import CentralSystemUnreachable
from chargebox.ocpp.messages import (
    Confirmation,
    HeartbeatRequest,
    RemoteStartTransactionConfirmation,
    Request,
)
from tests.chargebox.site_samples import site_config


def write(folder: Path, central_system: str, endpoint: str) -> Path:
    path = folder / "site.toml"
    path.write_text(site_config(central_system, endpoint))
    return path


def problems(path: Path) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        load(path)
    return {key: text for _file, key, text in caught.value.problems}


PLAIN_CS = 'url = "http://127.0.0.1:8180/"'
PLAIN_BOX = 'port = 8181\npublic_url = "http://127.0.0.1:8181/"'


def test_plain_http_is_refused_unless_the_config_allows_it(tmp_path: Path) -> None:
    found = problems(write(tmp_path, PLAIN_CS, PLAIN_BOX))
    assert set(found) == {"central_system.url", "endpoint.cert_file", "endpoint.public_url"}
    assert "central_system.allow_plain_http = true" in found["central_system.url"]
    assert "endpoint.allow_plain_http = true" in found["endpoint.cert_file"]


def test_plain_http_where_allowed_takes_the_defaults(tmp_path: Path) -> None:
    config = load(write(tmp_path, PLAIN_CS + "\nallow_plain_http = true", PLAIN_BOX + "\nallow_plain_http = true"))
    assert config.central_system_transport == ClientTransport(allow_plain_http=True)
    assert config.endpoint_transport == EndpointTransport(allow_plain_http=True)
    assert config.endpoint_transport.ssl_context() is None


def test_the_connection_limits_are_read(tmp_path: Path) -> None:
    box = PLAIN_BOX + "\nallow_plain_http = true\nmax_connections = 8\nidle_timeout = 2.5"
    config = load(write(tmp_path, PLAIN_CS + "\nallow_plain_http = true", box))
    assert config.endpoint_transport == EndpointTransport(allow_plain_http=True, max_connections=8, idle_timeout=2.5)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.mark.parametrize(("central_system", "endpoint", "key", "expected"), [
    ('url = "https://cs/"\npin_sha256 = "00:11"', "", "central_system.pin_sha256", "SHA-256"),
    ('url = "https://cs/"\ncompression = "brotli"', "", "central_system.compression", '"gzip", "deflate" or "none"'),
    ('url = "https://cs/"\ncompress_threshold = -1', "", "central_system.compress_threshold", "bytes >= 0"),
    ('url = "https://cs/"\ntimeout = 0', "", "central_system.timeout", "seconds > 0"),
    ('url = "https://cs/"\nconnect_timeout = "fast"', "", "central_system.connect_timeout", "a number"),
    ('url = "https://cs/"\nca_file = "missing.pem"', "", "central_system.ca_file", "no such file"),
    ('url = "https://cs/"\nca_file = "garbage.pem"', "", "central_system.ca_file", "cannot load"),
    ('url = "https://cs/"\nkey_file = "box-client.key"', "", "central_system.key_file", "needs central_system.cert_file"),
    ('url = "http://cs/"\nallow_plain_http = true\nca_file = "ca.pem"', "", "central_system.ca_file",
     "https://"),
    ('url = "https://cs/"\nallow_plain_http = "yes"', "", "central_system.allow_plain_http", "true or false"),
    ('url = "https://cs/"', 'cert_file = "box.pem"\nkey_file = "cs.key"', "endpoint.cert_file", "cannot load"),
    ('url = "https://cs/"', 'allow_plain_http = true\nclient_ca_file = "ca.pem"', "endpoint.client_ca_file",
     "needs endpoint.cert_file"),
    ('url = "https://cs/"', 'cert_file = "box.pem"\nkey_file = "box.key"\nmax_body = 10', "endpoint.max_body",
     "bytes >= 1024"),
    ('url = "https://cs/"', 'cert_file = "box.pem"\nkey_file = "box.key"\nread_timeout = -1',
     "endpoint.read_timeout", "seconds > 0"),
    ('url = "https://cs/"', 'cert_file = "box.pem"\nkey_file = "box.key"\ntls = true', "endpoint.tls", "unknown key"),
    ('url = "https://cs/"', 'cert_file = "box.pem"\nkey_file = "box.key"\nmax_connections = 0',
     "endpoint.max_connections", "connections 1..1000"),
    ('url = "https://cs/"', 'cert_file = "box.pem"\nkey_file = "box.key"\nmax_connections = 5000',
     "endpoint.max_connections", "each holds a file descriptor"),
    ('url = "https://cs/"', 'cert_file = "box.pem"\nkey_file = "box.key"\nidle_timeout = 0',
     "endpoint.idle_timeout", "seconds > 0"),
])
def test_bad_binding_keys_are_named_with_what_was_expected(
    tmp_path: Path, pki: Pki, central_system: str, endpoint: str, key: str, expected: str,
) -> None:
    for issued in (pki.ca.cert_file, pki.box_server.cert, pki.box_server.key, pki.box_client.key, pki.cs_server.key):
        (tmp_path / issued.name).write_bytes(issued.read_bytes())
    (tmp_path / "garbage.pem").write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    box = f'public_url = "https://127.0.0.1:8181/"\n{endpoint}'
    found = problems(write(tmp_path, central_system, box))
    assert key in found, found
    assert expected in found[key]


async def test_a_tls_config_secures_both_directions_end_to_end(tmp_path: Path, pki: Pki) -> None:
    """HTTPS with client certificates both ways, as config/raspberry-pi.toml sets it up."""
    cs_server = tls.server_context(pki.cs_server.cert, pki.cs_server.key, client_ca_file=pki.ca.cert_file)
    received: list[bytes] = []
    endpoint = (f'host = "127.0.0.1"\npublic_url = "https://127.0.0.1:8181/"\ncert_file = "{pki.box_server.cert}"\n'
                f'key_file = "{pki.box_server.key}"\nclient_ca_file = "{pki.ca.cert_file}"')
    async with serving(recording_app(heartbeat_answer, received), cs_server) as cs_url:
        trusted = f'url = "{cs_url}"\nca_file = "{pki.ca.cert_file}"'
        config = load(write(tmp_path, f'{trusted}\ncert_file = "{pki.box_client.cert}"\n'
                                      f'key_file = "{pki.box_client.key}"', endpoint))
        without_client_cert = load(write(tmp_path, trusted, endpoint))
        client, refused = configured.client(config), configured.client(without_client_cert)
        try:
            await client.call(HeartbeatRequest())
            with pytest.raises(CentralSystemUnreachable):
                await refused.call(HeartbeatRequest())
            assert len(received) == 1
            async with serving(configured.endpoint(config, accept, client), configured.endpoint_ssl(config)) \
                    as box_url, aiohttp.ClientSession() as session:
                headers = {"Content-Type": envelope.CONTENT_TYPE}
                async with session.post(box_url, data=REMOTE_START, ssl=caller(pki, pki.cs_client),
                                        headers=headers) as response:
                    assert response.status == 200
                with pytest.raises(aiohttp.ClientConnectionError):
                    async with session.post(box_url, data=REMOTE_START, ssl=caller(pki, None), headers=headers):
                        pass
        finally:
            await client.close()
            await refused.close()


async def accept(request: Request) -> Confirmation:
    return RemoteStartTransactionConfirmation(status=RemoteStartStopStatus.ACCEPTED)
