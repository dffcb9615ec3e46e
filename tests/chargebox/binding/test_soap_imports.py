"""The SOAP binding runs on lxml alone (issue 19): zeep, about 11 MB of the daemon's memory once
imported, is not loaded by the daemon."""

from __future__ import annotations

import subprocess
import sys


def test_the_daemon_does_not_import_zeep() -> None:
    code = "import sys, chargebox.daemon, chargebox.binding.soap.client; print('zeep' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_ctypes_is_loaded_by_the_first_memory_given_back_not_by_the_import() -> None:
    # ctypes (for glibc's malloc_trim) is 0.4 MB of an idle daemon that may never get a large body (issue 19).
    code = ("import sys, chargebox.daemon, chargebox.binding.soap.server, chargebox.binding.memory as memory; "
            "before = 'ctypes' in sys.modules; memory.give_back_memory(); print(before, 'ctypes' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False True\n"
