"""A whole site config for the tests of one table or key: they add only the tables they are about."""

from __future__ import annotations

#: The tables every site needs past [chargebox], [central_system] and [endpoint]: the store, and one
#: connector whose meter, pilot and relay are on the simulator's wires.
DEVICES = """
[storage]
path = "box.db"

[[connector]]
id = 1

[connector.meter]
backend = "modbus"
model = "sdm630"
host = "127.0.0.1"
port = 1502

[connector.pilot]
backend = "sim"
address = "127.0.0.1:7701"

[connector.relay]
backend = "sim"
address = "127.0.0.1:7701"
"""

PLAIN_CENTRAL_SYSTEM = 'url = "http://127.0.0.1:9/"\nallow_plain_http = true'
PLAIN_ENDPOINT = 'public_url = "http://127.0.0.1:8180/"\nallow_plain_http = true'


def site_config(central_system: str = PLAIN_CENTRAL_SYSTEM, endpoint: str = PLAIN_ENDPOINT) -> str:
    """The config's text; ``central_system`` and ``endpoint`` are the lines of those tables."""
    return (f'[chargebox]\nidentity = "CB-1"\n\n[central_system]\n{central_system}\n\n'
            f"[endpoint]\n{endpoint}\n{DEVICES}")
