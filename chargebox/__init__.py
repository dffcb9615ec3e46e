"""chargebox: a charge point controller daemon speaking OCPP 1.5 SOAP."""

__version__ = "0.1.0"
