"""Persistence in SQLite: the transaction journal, the outbox, the box's settings.

Everything that must survive a power cut is written here before it takes effect (DESIGN.md,
invariants): SQLite in WAL mode with ``synchronous=FULL``, so a committed row is on flash.
"""
