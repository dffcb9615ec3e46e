"""The cards whose presentation is being handled: the station's part of authorization (1.6 3.5),
synchronous. The card flow around it (:mod:`~chargebox.engine.cards`: the Authorizer, Authorize.req
to the Central System) is async and stays in the shell.
"""

from __future__ import annotations


class Presentations:
    """One presentation is one action. A reader tells a card held on it from a new presentation
    only by its frames' arrival, and frames left waiting behind slow work (a meter timeout, a slow
    Authorize) would look like a second presentation: the same card presented again while its
    presentation is still handled is that same action. IdTags compare case-insensitively (7.20)."""

    def __init__(self) -> None:
        self._handling: set[str] = set()

    def begin(self, id_tag: str) -> bool:
        """A card on the reader: True when it is a new action, False while its last one is handled."""
        key = id_tag.casefold()
        if key in self._handling:
            return False
        self._handling.add(key)
        return True

    def end(self, id_tag: str) -> None:
        """The presentation of ``id_tag`` was handled: the card presented again is a new action."""
        self._handling.discard(id_tag.casefold())
