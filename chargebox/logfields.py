"""Structured log fields, idTag and password masking, for any module that logs (the engine first of all).

A log call names what it is about with ``extra=fields(...)``; under systemd each field becomes a
journal field (``CONNECTOR=1``, ``TRANSACTION=42``, ``ID_TAG=…E680``), so ``journalctl
CONNECTOR=1`` shows one connector's story; on a terminal they follow the message as
``[connector=1 transaction=42]``. Nothing here depends on the service package: the daemon only
switches masking on or off at start (``[log] mask_id_tags``).

    log.info("card %s not authorized: %s", mask_id_tag(tag), status, extra=fields(connector=1, id_tag=tag))

An exception whose message may repeat what came in (a request's idTag, a configuration value) is
logged through :func:`traceback_of`, never with ``exc_info``.
"""

from __future__ import annotations

import re
import traceback

_masking = {"enabled": True}

#: How many trailing characters of an idTag stay readable when masked: enough to tell two cards
#: apart on the phone with the driver, too few to clone one (idTags are up to 20 characters, 7.13).
VISIBLE = 4

_USERINFO_PASSWORD = re.compile(r"(//[^/@:]*):[^@/]*@")


def set_id_tag_masking(enabled: bool) -> None:
    """Called once by the daemon from the site config; masking is on until told otherwise."""
    _masking["enabled"] = enabled


def mask_id_tag(tag: str | None) -> str | None:
    """The idTag as it may appear in a log: ``"…E680"`` when masking is on, else unchanged.

    The masked form does not reveal the tag's length; a tag too short to keep anything is all hidden.
    """
    if tag is None or not _masking["enabled"]:
        return tag
    return "…" + tag[-VISIBLE:] if len(tag) >= 2 * VISIBLE else "…"


def mask_url(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***`` (for logs and archives)."""
    return _USERINFO_PASSWORD.sub(r"\1:***@", text)


def fields(*, connector: int | None = None, transaction: int | None = None, local_tx: int | None = None,
           id_tag: str | None = None, action: str | None = None) -> dict[str, object]:
    """``extra=`` for a log record: the given fields only, the idTag already masked.

    ``transaction`` is the Central System's transactionId, ``local_tx`` the journal's own id (known
    before the Central System answers), ``action`` an OCPP action name such as ``StartTransaction``.
    """
    given = {"connector": connector, "transaction": transaction, "local_tx": local_tx,
             "id_tag": mask_id_tag(id_tag), "action": action}
    return {key: value for key, value in given.items() if value is not None}


def traceback_of(err: BaseException) -> str:
    """``err``'s traceback as Python prints it, its causes and contexts included, with each exception
    shown by its type alone: the cause of a failure (what, where) without its message, which may
    repeat request values such as an idTag in full. Frames show file, line, function and source."""
    chain: list[tuple[BaseException, str]] = [(err, "")]  # err, then each exception that led to the one before
    while True:
        newer = chain[-1][0]
        if newer.__cause__ is not None:
            older, how = newer.__cause__, "The above exception was the direct cause of the following exception:"
        elif newer.__context__ is not None and not newer.__suppress_context__:
            older, how = newer.__context__, "During handling of the above exception, another exception occurred:"
        else:
            break
        if any(older is known for known, _ in chain):
            break
        chain.append((older, how))
    parts: list[str] = []
    for exc, how in reversed(chain):
        kind = type(exc)
        name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
        frames = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
        parts.append(f"Traceback (most recent call last):\n{frames}{name} (message not logged)\n")
        if how:
            parts.append(f"\n{how}\n\n")
    return "".join(parts).rstrip("\n")
