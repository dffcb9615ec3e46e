"""The simulated world around the box: devices at the wire, the EV, a reference Central System.

It is the outside world: it may use ``hal`` for wire-level constants but never imports ``chargebox``.
"""
