"""The engine: business rules of the charge box as plain, synchronous state machines.

It consumes hardware events and Central System requests and emits effects; a thin async shell
(``chargebox.engine.chargepoint``) applies them. The engine never sees XML (DESIGN.md).
"""
