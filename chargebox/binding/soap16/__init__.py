"""The OCPP 1.6 SOAP binding's service descriptions (issue 17).

``wsdl/`` holds the project's own OCPP 1.6 WSDLs, written from the 1.6 specification (edition 2, ch. 4-7)
and its errata sheet: ``ocpp16_centralsystem.wsdl`` (namespace ``urn://Ocpp/Cs/2015/10/``, the operations a
charge point initiates) and ``ocpp16_chargepoint.wsdl`` (``urn://Ocpp/Cp/2015/10/``, the operations a Central
System initiates), SOAP 1.2 document/literal with WS-Addressing and the ``chargeBoxIdentity`` header as in
1.5. They are shipped as package data; tests/chargebox/binding/soap16/test_wsdl16_oracle.py checks their wire
form against the official 1.6 WSDLs where those are present.
"""
