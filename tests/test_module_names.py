"""pytest imports test modules by their base name (rootdir "prepend" mode, no packages under
tests/): two test or helper modules with one name stop the whole collection with "import file
mismatch". conftest.py files are pytest's own and may repeat."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_no_two_test_modules_share_a_name() -> None:
    names = Counter(path.name for path in TESTS.rglob("*.py") if "node_modules" not in path.parts)
    assert [name for name, count in names.items() if count > 1 and name != "conftest.py"] == []
