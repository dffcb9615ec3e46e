"""One SOAP binding, two versions (issue 17): the box's endpoint and client in 1.5 and in 1.6 SOAP, each with
its namespaces and fault subcode namespace; wsa:Action as Central Systems write it; the version a site config
names (``central_system.protocol``). Every operation of both versions is in test_conformance.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from soap_helpers import fault_of, post, request_xml, serving

from chargebox.binding.soap import configured, envelope
from chargebox.binding.soap.protocol import SoapProtocol
from chargebox.binding.soap.server import ChargePointEndpoint
from chargebox.binding.soap.service import charge_point_service
from chargebox.binding.soap15 import SOAP15
from chargebox.binding.soap16 import SOAP16
from chargebox.config import load
from chargebox.errors import ConfigError
from chargebox.ocpp.enums import ResetStatus, ResetType
from chargebox.ocpp.messages import Confirmation, HeartbeatRequest, Request, ResetConfirmation, ResetRequest
from tests.chargebox.site_samples import site_config

RESET_BODY = "<o:resetRequest><o:type>Hard</o:type></o:resetRequest>"
PROTOCOLS = [pytest.param(SOAP15, id="1.5"), pytest.param(SOAP16, id="1.6")]


async def reset(request: Request) -> Confirmation:
    assert request == ResetRequest(type=ResetType.HARD)
    return ResetConfirmation(status=ResetStatus.ACCEPTED)


def endpoint(protocol: SoapProtocol) -> ChargePointEndpoint:
    return ChargePointEndpoint("CB-1", reset, service=charge_point_service(protocol))


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("action", ["{ns}Reset", "/Reset", "Reset", "{ns}/Reset"])
async def test_the_action_may_be_fully_qualified(protocol: SoapProtocol, action: str) -> None:
    """Central Systems write wsa:Action as the WSDL does (/Reset), bare, or qualified by the service's
    namespace (issue 17): all name Reset."""
    namespace = protocol.cp_namespace
    body = request_xml(RESET_BODY, action=action.format(ns=namespace), namespace=namespace)
    async with serving(endpoint(protocol)) as url:
        status, answer = await post(url, body)
    assert status == 200, answer
    reply = envelope.parse(answer, protocol.cp_namespace)
    assert reply.headers.action == "/ResetResponse"
    assert reply.body is not None and reply.body.findtext(f"{{{protocol.cp_namespace}}}status") == "Accepted"


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("action", ["{ns}RemoteStartTransaction", "{other}Reset", "urn://Ocpp/Reset"])
async def test_an_action_naming_another_operation_is_a_fault_in_the_versions_namespace(
        protocol: SoapProtocol, action: str) -> None:
    """Another operation, or Reset under another namespace, is still no Reset: Sender/ProtocolError, its
    subcode in the version's namespace (1.5 8.2; OCPP-S 1.6 chapter 4 and errata 3.3)."""
    other = SOAP16 if protocol is SOAP15 else SOAP15
    body = request_xml(RESET_BODY, action=action.format(ns=protocol.cp_namespace, other=other.cp_namespace),
                       namespace=protocol.cp_namespace)
    async with serving(endpoint(protocol)) as url:
        status, answer = await post(url, body)
    assert status == 400
    assert fault_of(answer, protocol) == ("Sender", "ProtocolError")


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_request_in_the_other_versions_namespace_is_refused(protocol: SoapProtocol) -> None:
    other = SOAP16 if protocol is SOAP15 else SOAP15
    async with serving(endpoint(protocol)) as url:
        status, answer = await post(url, request_xml(RESET_BODY, action="/Reset",
                                                     namespace=other.cp_namespace))
    assert status == 400
    assert fault_of(answer, protocol) == ("Sender", "ProtocolError")


def test_the_versions_differ_only_in_their_description() -> None:
    assert (SOAP16.cs_namespace, SOAP16.cp_namespace, SOAP16.fault_namespace) == (
        "urn://Ocpp/Cs/2015/10/", "urn://Ocpp/Cp/2015/10/", "urn://Ocpp/Cs/2015/10/")
    assert (SOAP15.cs_namespace, SOAP15.cp_namespace, SOAP15.fault_namespace) == (
        "urn://Ocpp/Cs/2012/06/", "urn://Ocpp/Cp/2012/06/", "urn://Ocpp/2012/02/")
    assert set(SOAP16.version.charge_point_operations) - set(SOAP15.version.charge_point_operations) == {
        "ClearChargingProfile", "GetCompositeSchedule", "SetChargingProfile", "TriggerMessage"}


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_site_config_builds_the_binding_of_its_protocol(tmp_path: Path,
                                                                protocol: SoapProtocol) -> None:
    """central_system.protocol "ocpp1.6-soap" takes the same keys as 1.5 SOAP and builds 1.6's client and
    endpoint (README, Configuration)."""
    path = tmp_path / "box.toml"
    path.write_text(site_config(f'protocol = "{protocol.name}"\nurl = "http://127.0.0.1:9/"\n'
                                "allow_plain_http = true\ncompression = \"deflate\""), encoding="utf-8")
    config = load(path)
    assert config.protocol == protocol.name
    client = configured.client(config)
    try:
        body, _ = client.encode(HeartbeatRequest())
    finally:
        await client.close()
    sent = envelope.parse(body, protocol.cs_namespace).body
    assert sent is not None and sent.tag == f"{{{protocol.cs_namespace}}}heartbeatRequest"
    box = configured.endpoint(config, reset, client)
    async with serving(box) as url:
        status, answer = await post(url, request_xml(RESET_BODY, action="/Reset",
                                                     namespace=protocol.cp_namespace))
    assert status == 200, answer


def test_json_keys_do_not_apply_to_16_soap(tmp_path: Path) -> None:
    path = tmp_path / "box.toml"
    path.write_text(site_config('protocol = "ocpp1.6-soap"\nurl = "http://127.0.0.1:9/"\n'
                                "allow_plain_http = true\nping_interval = 30"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert str(caught.value) == (f"{path}: central_system.ping_interval: does not apply to "
                                 "central_system.protocol 'ocpp1.6-soap'; it applies only to "
                                 '"ocpp1.6-json"')
