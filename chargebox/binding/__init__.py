"""Protocol bindings: the only places that know a wire format (DESIGN.md, data flow).

A binding turns typed messages from ``chargebox.ocpp`` into wire traffic and back. The engine sees
only typed messages and the two outcomes of a call: a confirmation, or one of the errors of
``chargebox.ocpp.errors``, which the binding maps to and from its wire form.
"""
