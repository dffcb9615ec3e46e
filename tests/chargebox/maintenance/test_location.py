"""ftp:// and ftps:// locations (chapter 8): parts optional, bad ones refused with a clear reason."""

from __future__ import annotations

import pytest

from chargebox.logfields import mask_url
from chargebox.maintenance.errors import BadLocation
from chargebox.maintenance.location import Location, parse_location


def test_every_part_is_taken_and_the_optional_ones_have_defaults() -> None:
    full = parse_location("ftps://op%40cs:p%3Ass@Files.Example.com:2121/fw/box%201.bin")
    assert full == Location("ftps", "files.example.com", 2121, "op@cs", "p:ss", "fw/box 1.bin")
    assert full.tls and full.name == "box 1.bin"
    bare = parse_location("ftp://10.0.0.5/firmware.bin")
    assert (bare.user, bare.password, bare.port, bare.tls) == ("anonymous", "", 21, False)
    assert parse_location("ftp://[fd00::1]:21/").host == "fd00::1"
    assert parse_location("ftp://user@host/dir/").path == "dir/"


def test_a_diagnostics_file_goes_inside_the_location_and_a_checksum_beside_the_firmware() -> None:
    directory = parse_location("ftp://u:p@host/upload/")
    assert directory.child("CB-1-20260101T000000Z.tar.gz").path == "upload/CB-1-20260101T000000Z.tar.gz"
    assert parse_location("ftp://host").child("x.tar.gz").path == "x.tar.gz"
    assert parse_location("ftp://host/fw.bin").with_suffix(".sha256").path == "fw.bin.sha256"
    with pytest.raises(BadLocation, match="leaves its directory"):
        directory.child("..")


def test_passwords_never_show() -> None:
    location = parse_location("ftp://box:hunter2@host:2100/a/b.bin")
    assert "hunter2" not in repr(location) and "hunter2" not in str(location)
    assert location.masked == "ftp://box:***@host:2100/a/b.bin"
    assert mask_url("see ftp://box:hunter2@host/x and ftps://u:pw@h/") == "see ftp://box:***@host/x and ftps://u:***@h/"
    assert mask_url("ftp://anonymous@host/x") == "ftp://anonymous@host/x"


@pytest.mark.parametrize(("url", "reason"), [
    ("", "malformed URL"),
    ("firmware.bin", "malformed URL"),
    ("ftp:/host/fw.bin", "malformed URL"),
    ("ftp://host:99999/fw.bin", "malformed URL"),
    ("ftp://host:port/fw.bin", "malformed URL"),
    ("http://host/fw.bin", "unsupported scheme 'http'"),
    ("sftp://host/fw.bin", "unsupported scheme 'sftp'"),
    ("ftp:///fw.bin", "no host"),
    ("ftp://host/fw.bin?x=1", "query or fragment"),
    ("ftp://host/../etc/passwd", "leaves its directory"),
    ("ftp://host/fw/./../../x", "leaves its directory"),
    ("ftp://host/%2e%2e/x", "leaves its directory"),
    ("ftp://host/a%2F..%2F..%2Fx", "leaves its directory"),
    ("ftp://host/fw.bin%0D%0ADELE%20fw.bin", "control characters"),
    ("ftp://host/fw.bin\r\nDELE x", "control characters"),
])
def test_a_bad_location_is_refused_with_its_reason(url: str, reason: str) -> None:
    with pytest.raises(BadLocation, match=reason) as caught:
        parse_location(url)
    assert caught.value.permanent


def test_the_reason_of_a_bad_location_hides_its_password() -> None:
    with pytest.raises(BadLocation) as caught:
        parse_location("http://box:hunter2@host/fw.bin")
    assert "hunter2" not in str(caught.value) and "box:***@host" in str(caught.value)
