"""OCPP 1.5 as typed Python: enumerations, data types and the messages of all 25 operations.

No wire format lives here; the bindings (``chargebox.binding``) convert these to and from the wire.
"""
