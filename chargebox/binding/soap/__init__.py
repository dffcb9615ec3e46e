"""The SOAP binding of OCPP 1.5 and 1.6, one code for both (1.5 chapters 6-8; OCPP-S 1.6): what differs
between the versions is data, a :class:`~chargebox.binding.soap.protocol.SoapProtocol` each in
:mod:`chargebox.binding.soap15` and :mod:`chargebox.binding.soap16`, beside their WSDLs."""
