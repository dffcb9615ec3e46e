"""wsa:From (8.3): fixed, or from the current address of a network interface, read at every request.

A changing address itself is tested across processes in tests/system/test_wakeup.py, in a private
network namespace; here the lookup is the kernel's for loopback, and injected for the rules."""

from __future__ import annotations

import logging

import pytest

from chargebox.mobile.public_url import InterfaceUrl, advertised_url, interface_address


def test_the_kernel_tells_an_interfaces_address() -> None:
    assert interface_address("lo") == "127.0.0.1"
    assert interface_address("no-such-if0") is None


def test_the_url_follows_the_address_and_each_change_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    addresses = iter(["10.64.0.1", "10.64.0.1", None, "10.64.0.2", "2001:db8::7"])
    url = InterfaceUrl("wwan0", "https://{address}:8180/ocpp", lookup=lambda name: next(addresses))
    assert [url() for _ in range(5)] == ["https://10.64.0.1:8180/ocpp", "https://10.64.0.1:8180/ocpp", None,
                                        "https://10.64.0.2:8180/ocpp", "https://[2001:db8::7]:8180/ocpp"]
    changes = [r.getMessage() for r in caplog.records if r.name == "chargebox.mobile.public_url"]
    assert changes == [
        "wwan0: address 10.64.0.1 (was none); advertising it in wsa:From",
        "wwan0: address none (was 10.64.0.1); advertising it in wsa:From",
        "wwan0: address 10.64.0.2 (was none); advertising it in wsa:From",
        "wwan0: address 2001:db8::7 (was 10.64.0.2); advertising it in wsa:From",
    ]


def test_a_fixed_url_or_a_template() -> None:
    assert advertised_url("https://box.example.com/", None)() == "https://box.example.com/"
    assert advertised_url("http://{address}:8180/", "lo")() == "http://127.0.0.1:8180/"
    with pytest.raises(ValueError, match="no {address}"):
        InterfaceUrl("wwan0", "https://box.example.com/")
