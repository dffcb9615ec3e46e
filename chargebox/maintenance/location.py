"""ftp:// and ftps:// locations (spec chapter 8, "Firmware download" and "Diagnostics upload").

The form is ``ftp://user:password@host:port/path``, where ``user:password@``, ``:password`` and
``:port`` may be left out (then user ``anonymous`` and port 21). ``ftps://`` is FTP with explicit
TLS (RFC 4217: AUTH TLS on the usual port, then a protected data channel). As in RFC 1738 the path
is relative to the login directory. A path with a ``..`` segment, or with control characters that
could smuggle a second FTP command, is refused.

Passwords never reach a log: :attr:`Location.masked` and :func:`chargebox.logfields.mask_url` replace
them with ``***``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from chargebox.logfields import mask_url
from chargebox.maintenance.errors import BadLocation

DEFAULT_PORT = 21
SCHEMES = ("ftp", "ftps")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Location:
    scheme: str
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    #: The remote path, percent-decoded, relative to the login directory; "" for the directory itself.
    path: str

    @property
    def tls(self) -> bool:
        return self.scheme == "ftps"

    @property
    def name(self) -> str:
        """The file name: the path's last segment."""
        return self.path.rpartition("/")[2]

    @property
    def masked(self) -> str:
        userinfo = f"{self.user}:***@" if self.password else f"{self.user}@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{userinfo}{host}:{self.port}/{self.path}"

    def __str__(self) -> str:
        return self.masked

    def child(self, name: str) -> Location:
        """The file ``name`` inside this location taken as a directory (GetDiagnostics, 6.21)."""
        _check_segment(name, name)
        return Location(self.scheme, self.host, self.port, self.user, self.password,
                        f"{self.path.rstrip('/')}/{name}".lstrip("/"))

    def with_suffix(self, suffix: str) -> Location:
        """The file beside this one with ``suffix`` appended (``.sha256``, ``.sig``)."""
        return Location(self.scheme, self.host, self.port, self.user, self.password, self.path + suffix)


def _check_segment(segment: str, url: str) -> None:
    if segment in ("..", "."):
        raise BadLocation(f"{mask_url(url)}: the path leaves its directory ({segment!r} is not allowed)")
    if _CONTROL.search(segment):
        raise BadLocation(f"{mask_url(url)}: control characters in the path")


def parse_location(url: str) -> Location:
    """The location ``url`` names; :class:`BadLocation` says what is wrong with it."""
    shown = mask_url(url)
    if _CONTROL.search(url):
        raise BadLocation(f"{shown!r}: control characters in the URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise BadLocation(f"{shown}: malformed URL ({err})") from err
    if not parts.scheme or "//" not in url:
        raise BadLocation(f"{shown!r}: malformed URL; expected ftp://user:password@host:port/path")
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise BadLocation(f"{shown}: unsupported scheme {scheme!r}; expected ftp:// or ftps:// (chapter 8)")
    if not parts.hostname:
        raise BadLocation(f"{shown}: no host")
    if parts.query or parts.fragment:
        raise BadLocation(f"{shown}: a query or fragment has no meaning in an FTP location")
    # Decoded first: %2E%2E and %2F must not get a ".." past the check.
    path = "/".join(unquote(segment) for segment in parts.path.split("/"))
    for segment in path.split("/"):
        _check_segment(segment, url)
    path = path.lstrip("/")
    return Location(scheme, parts.hostname, port or DEFAULT_PORT, unquote(parts.username or "anonymous"),
                    unquote(parts.password or ""), path)
