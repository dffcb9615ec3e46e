"""Structured log fields and idTag masking, for any module that logs (the engine first of all).

A log call names what it is about with ``extra=fields(...)``; under systemd each field becomes a
journal field (``CONNECTOR=1``, ``TRANSACTION=42``, ``ID_TAG=…E680``), so ``journalctl
CONNECTOR=1`` shows one connector's story; on a terminal they follow the message as
``[connector=1 transaction=42]``. Nothing here depends on the service package: the daemon only
switches masking on or off at start (``[log] mask_id_tags``).

    log.info("card %s not authorized: %s", mask_id_tag(tag), status, extra=fields(connector=1, id_tag=tag))
"""

from __future__ import annotations

_masking = {"enabled": True}

#: How many trailing characters of an idTag stay readable when masked: enough to tell two cards
#: apart on the phone with the driver, too few to clone one (idTags are up to 20 characters, 7.13).
VISIBLE = 4


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


def fields(*, connector: int | None = None, transaction: int | None = None, local_tx: int | None = None,
           id_tag: str | None = None, action: str | None = None) -> dict[str, object]:
    """``extra=`` for a log record: the given fields only, the idTag already masked.

    ``transaction`` is the Central System's transactionId, ``local_tx`` the journal's own id (known
    before the Central System answers), ``action`` an OCPP action name such as ``StartTransaction``.
    """
    given = {"connector": connector, "transaction": transaction, "local_tx": local_tx,
             "id_tag": mask_id_tag(id_tag), "action": action}
    return {key: value for key, value in given.items() if value is not None}
