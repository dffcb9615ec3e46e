"""The SOAP binding runs on lxml alone (issue 19): zeep, about 11 MB of the daemon's memory once
imported, is not loaded by the daemon."""

from __future__ import annotations

import subprocess
import sys


def test_the_daemon_does_not_import_zeep() -> None:
    code = "import sys, chargebox.daemon, chargebox.binding.soap.client; print('zeep' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
