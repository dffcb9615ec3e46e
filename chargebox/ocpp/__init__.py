"""OCPP 1.5 as typed Python: enumerations, data types, the messages of all 25 operations and the
protocol errors (:mod:`.errors`).

No wire format lives here; the bindings (``chargebox.binding``) convert these to and from the wire.
"""
