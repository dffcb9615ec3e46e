"""The arrows of DESIGN.md point down only: chargebox -> hal, hwsim -> hal."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_packages(folder: Path) -> dict[str, set[str]]:
    """Top-level package names imported by each module under ``folder``."""
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(("folder", "forbidden"), [
    ("hal", {"chargebox", "hwsim"}),
    ("hw-sim/hwsim", {"chargebox"}),
])
def test_layers_import_only_downwards(folder: str, forbidden: set[str]) -> None:
    modules = imported_packages(ROOT / folder)
    assert modules, f"no modules found under {folder}"
    offenders = {path: sorted(names & forbidden) for path, names in modules.items() if names & forbidden}
    assert offenders == {}


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("from chargebox.engine import connector\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert imported_packages(tmp_path) == {"bad.py": {"chargebox"}}
    finally:
        ROOT = saved
