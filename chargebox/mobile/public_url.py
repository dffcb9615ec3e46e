"""The URL the box advertises in wsa:From (8.3): fixed, or built from the current address of a
network interface, the modem's, whose address the carrier may change at any reconnection.

The client calls the provider on every request (see
:class:`~chargebox.binding.soap.client.CentralSystemClient`), so the URL the Central System learns
is the box's address at that moment; a wake-up SMS (:mod:`chargebox.mobile.wakeup`) makes the box
send one at once.
"""

from __future__ import annotations

import errno
import fcntl
import ipaddress
import logging
import socket
import struct
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

#: The placeholder a public URL template holds for the interface's address.
ADDRESS = "{address}"
#: ioctl(2) request for an interface's (primary) IPv4 address (linux/sockios.h).
SIOCGIFADDR = 0x8915
#: Where Linux lists interface IPv6 addresses: address, index, prefix length, scope, flags, name.
IF_INET6 = Path("/proc/net/if_inet6")
_GLOBAL_SCOPE = 0x00
_TENTATIVE_OR_DEPRECATED = 0x40 | 0x20


def interface_address(name: str) -> str | None:
    """The interface's IPv4 address, else its first global IPv6 address; ``None`` when it has none
    or does not exist (a modem's interface comes and goes with its connection)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            answer = fcntl.ioctl(sock.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
            return socket.inet_ntoa(answer[20:24])  # struct ifreq: name[16], sockaddr_in (family, port, addr)
        except OSError as err:
            if err.errno not in (errno.EADDRNOTAVAIL, errno.ENODEV):
                raise
    try:
        table = IF_INET6.read_text()
    except OSError:
        return None  # no IPv6 on this kernel
    for line in table.splitlines():
        fields = line.split()
        if len(fields) == 6 and fields[5] == name and int(fields[3], 16) == _GLOBAL_SCOPE \
                and not int(fields[4], 16) & _TENTATIVE_OR_DEPRECATED:
            return str(ipaddress.IPv6Address(bytes.fromhex(fields[0])))
    return None


class InterfaceUrl:
    """``template`` (e.g. ``"https://{address}:8180/"``) with the current address of ``interface``;
    ``None`` while it has none. A changed address is logged once, when it is first used."""

    def __init__(self, interface: str, template: str,
                 lookup: Callable[[str], str | None] = interface_address) -> None:
        if ADDRESS not in template:
            raise ValueError(f"the public URL template {template!r} has no {ADDRESS} to put the address in")
        self.interface = interface
        self.template = template
        self._lookup = lookup
        self._address: str | None = None

    def __call__(self) -> str | None:
        address = self._lookup(self.interface)
        if address != self._address:
            log.info("%s: address %s (was %s); advertising it in wsa:From", self.interface, address or "none",
                     self._address or "none")
            self._address = address
        if address is None:
            return None
        host = f"[{address}]" if ":" in address else address
        return self.template.replace(ADDRESS, host)


def advertised_url(public_url: str, interface: str | None) -> Callable[[], str | None]:
    """What the client calls for wsa:From: ``public_url`` as it is, or, with ``interface``, the
    template filled with that interface's current address."""
    if interface is None:
        return lambda: public_url
    return InterfaceUrl(interface, public_url)
