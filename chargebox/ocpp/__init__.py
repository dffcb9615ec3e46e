"""OCPP as typed Python, in no version's terms: the enumerations, data types and messages of 1.6 with what
only 1.5 has (the engine's vocabulary), what each version has of it (:mod:`.versions`), the codec, the 1.6
JSON schemas (:mod:`.schemas`) and the protocol errors (:mod:`.errors`).

No wire format lives here; the bindings (``chargebox.binding``) convert these to and from the wire.
"""
