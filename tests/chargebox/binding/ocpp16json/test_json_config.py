"""``central_system.protocol`` and the keys that apply to OCPP-J (README, Configuration): what check-config
accepts and refuses, one line per problem naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from chargebox.config import load
from chargebox.errors import ConfigError
from tests.chargebox.site_samples import DEVICES, site_config

KEY = "0123456789abcdef0123456789abcdef01234567"


def json_site(tmp_path: Path, central_system: str, rest: str = "") -> Path:
    path = tmp_path / "box.toml"
    path.write_text(f'[chargebox]\nidentity = "CB-1"\n\n[central_system]\nprotocol = "ocpp1.6-json"\n'
                    f"{central_system}\n{rest}{DEVICES}", encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(path)
    return [line.removeprefix(f"{path}: ") for line in str(caught.value).splitlines()]


def test_the_default_protocol_is_15_soap(tmp_path: Path) -> None:
    path = tmp_path / "box.toml"
    path.write_text(site_config(), encoding="utf-8")
    assert load(path).protocol == "ocpp1.5-soap"


def test_a_json_site_needs_no_endpoint(tmp_path: Path) -> None:
    config = load(json_site(tmp_path, f'url = "wss://cs.example.com/ocpp"\nauthorization_key = "{KEY}"\n'
                                      "ping_interval = 0\nreconnect_max = 5"))
    assert (config.protocol, config.central_system_url) == ("ocpp1.6-json", "wss://cs.example.com/ocpp")
    assert (config.central_system_transport.authorization_key, config.central_system_transport.ping_interval) == (
        KEY, 0)
    assert config.central_system_transport.reconnect_max == 5
    assert KEY not in repr(config)  # a config printed for debugging does not show the key
    assert load(json_site(tmp_path, 'url = "ws://10.0.0.1:9000/ocpp"\nallow_plain_http = true')
                ).central_system_transport.ping_interval == 60
    assert load(json_site(tmp_path, 'url = "ws://10.0.0.1:9000/ocpp"\nallow_plain_http = true')
                ).central_system_transport.reconnect_max == 60


@pytest.mark.parametrize(("lines", "expected"), [
    ('url = "https://cs.example.com/ocpp"',
     'central_system.url: expected a ws:// or wss:// URL, to which the box appends /<identity> (OCPP-J 3.1.1), '
     "got 'https://cs.example.com/ocpp'"),
    ('url = "ws://cs.example.com/ocpp"',
     "central_system.url: a plain ws:// URL needs central_system.allow_plain_http = true; use wss://"),
    ('url = "ws://cs.example.com/ocpp"\nallow_plain_http = true\nca_file = "box.toml"',
     "central_system.ca_file: only applies to a wss:// central_system.url"),
    ('url = "wss://cs.example.com/ocpp"\ncompression = "gzip"',
     "central_system.compression: does not apply to central_system.protocol 'ocpp1.6-json'; it applies only to "
     "the SOAP protocols"),
    ('url = "wss://cs.example.com/ocpp"\nauthorization_key = "short"',
     "central_system.authorization_key: expected 16..40 printable ASCII characters (AuthorizationKey), got 'short'"),
    ('url = "wss://cs.example.com/ocpp"\nping_interval = -1',
     "central_system.ping_interval: expected seconds >= 0 (WebSocketPingInterval; 0 sends no pings), got -1"),
    ('url = "wss://cs.example.com/ocpp"\nreconnect_max = 0',
     "central_system.reconnect_max: expected seconds from 1 to 3600, got 0"),
    ('url = "wss://cs.example.com/ocpp"\nreconnect_max = 7200',
     "central_system.reconnect_max: expected seconds from 1 to 3600, got 7200"),
])
def test_json_keys_checked(tmp_path: Path, lines: str, expected: str) -> None:
    assert problems(json_site(tmp_path, lines)) == [expected]


def test_an_endpoint_table_does_not_apply_to_json(tmp_path: Path) -> None:
    path = json_site(tmp_path, 'url = "wss://cs.example.com/ocpp"', '[endpoint]\nport = 8180\n')
    assert problems(path) == ["endpoint: applies only to the SOAP protocols; with central_system.protocol "
                              "\"ocpp1.6-json\" the Central System's requests come over the WebSocket the box opens"]


def test_json_keys_do_not_apply_to_soap(tmp_path: Path) -> None:
    path = tmp_path / "box.toml"
    path.write_text(site_config(f'url = "http://127.0.0.1:9/"\nallow_plain_http = true\nauthorization_key = "{KEY}"'),
                    encoding="utf-8")
    assert problems(path) == ["central_system.authorization_key: does not apply to central_system.protocol "
                              "'ocpp1.5-soap'; it applies only to \"ocpp1.6-json\""]


@pytest.mark.parametrize(("protocol", "expected"), [
    ("ocpp2.0.1", 'central_system.protocol: expected "ocpp1.5-soap", "ocpp1.6-soap", "ocpp1.6-json", '
                  "got 'ocpp2.0.1'"),
])
def test_a_protocol_not_spoken(tmp_path: Path, protocol: str, expected: str) -> None:
    path = tmp_path / "box.toml"
    path.write_text(site_config(f'protocol = "{protocol}"\nurl = "http://127.0.0.1:9/"\nallow_plain_http = true'),
                    encoding="utf-8")
    assert problems(path) == [expected]
