"""Which SMS wake the box (8.3), as the ``[wakeup]`` table says. Pure, so config checking and tests
need no modem."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hal.events import SmsReceived

#: What separates the words of a wake-up text (identities themselves hold letters, digits, - _ . etc.).
_SEPARATORS = re.compile(r"[\s,;:]+")


@dataclass(frozen=True, slots=True)
class WakeUpPolicy:
    """The ``[wakeup]`` table (README, Configuration)."""

    #: Seconds between two wake-up heartbeats at least.
    min_interval: float = 60.0
    #: Ignore an SMS that names another chargeBoxIdentity (or names none); an empty one still wakes.
    only_for_this_box: bool = False
    #: Phone numbers (international format) whose SMS may wake the box; empty: anyone's.
    allowed_senders: tuple[str, ...] = ()


def why_ignored(sms: SmsReceived, identity: str, policy: WakeUpPolicy) -> str | None:
    """``None`` when ``sms`` wakes the box, else why not (for the log; never the text itself)."""
    if policy.allowed_senders and sms.sender not in policy.allowed_senders:
        return "its sender may not wake this box"
    words = [word for word in _SEPARATORS.split(sms.text.strip()) if word]
    if not words or not policy.only_for_this_box:
        return None  # 8.3: the SMS SHOULD hold the identity, but MAY be empty
    # chargeBoxIdentity is case-insensitive (CiString, 8.1).
    if identity.casefold() in (word.casefold() for word in words):
        return None
    return "it does not name this box"
