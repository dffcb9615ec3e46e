"""Memory handed back to the system after a large message, so that the daemon's resident memory returns
to where it was (issue 19): both bindings use it, the SOAP endpoint after a request body and the OCPP-J
client after a frame from the Central System."""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable

#: Request bodies (SOAP) or frames (OCPP-J) of this many bytes or more leave much memory behind once
#: handled (a SendLocalList of 50,000 entries is about 6 MB of XML and a tree of it): it is handed back
#: to the system after them.
#: 256 KiB: a list of 7,000 entries (under 1 MiB) kept 10 MB, +20 % of the idle daemon (issue 19).
LARGE_BODY = 1 << 18


@functools.cache
def malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, which returns the free memory at the top and in the middle of the heap to
    the system (Python's own free() keeps it for later); None where the C library has none (musl).
    Looked up at the first large body: ctypes is not worth its memory to an idle daemon (issue 19)."""
    import ctypes

    try:  # the C library the interpreter is linked with; no find_library, which runs ldconfig
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def give_back_memory() -> None:
    """After a large body: the cycles of its objects collected, the freed memory back to the system,
    so the daemon's resident memory returns to where it was (issue 19)."""
    gc.collect()
    trim = malloc_trim()
    if trim is not None:
        trim(0)
