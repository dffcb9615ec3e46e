"""OCPP 1.6 over JSON and WebSocket (OCPP-J 1.6): the box as the WebSocket client of its Central System.

``frames`` reads and writes the RPC frames (section 4), ``connection`` keeps the WebSocket open
(sections 3 and 5, the security profiles of the 1.6 security whitepaper), ``client`` is what the
engine calls and what answers the Central System's requests, ``configured`` builds it from a site config.
"""
