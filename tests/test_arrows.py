"""The arrows of DESIGN.md point down only: chargebox -> hal, hwsim -> hal. Inside chargebox the engine
sees no wire format and neither a binding nor the site config (issue 16), a binding sees no business
rules, and no part of chargebox imports one that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Libraries of a wire format (XML, JSON, HTTP, WebSocket): a binding's business, never the engine's.
WIRE_FORMATS = {"xml", "lxml", "zeep", "json", "aiohttp", "websockets"}


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


def chargebox_imports(root: Path, *, type_only: bool = True) -> dict[str, set[str]]:
    """The chargebox modules each module of ``root/chargebox`` imports, by dotted name: relative
    imports resolved, ``from a import b`` counted as module ``a.b`` where that is one. Imports inside
    functions count; those under ``if TYPE_CHECKING:`` count unless ``type_only`` is false."""
    paths = {
        ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__"): path
        for path in (root / "chargebox").rglob("*.py")
    }
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        tree = ast.parse(path.read_text(), str(path))
        skipped: set[int] = set()
        if not type_only:
            skipped = {id(inner) for node in ast.walk(tree)
                       if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
                       for statement in node.body for inner in ast.walk(statement)}
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1])
                    base = f"{parent}.{base}" if base else parent
                targets |= {f"{base}.{alias.name}" if f"{base}.{alias.name}" in paths else base
                            for alias in node.names}
        graph[module] = {target for target in targets if target in paths and target != module}
    return graph


def part(module: str) -> str:
    """The subpackage or top-level module of chargebox that ``module`` belongs to (``engine``, ``config``)."""
    return module.split(".")[1] if "." in module else module


def part_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The module graph folded onto chargebox's parts: ``engine -> ocpp`` if any engine module imports ocpp."""
    folded: dict[str, set[str]] = {part(module): set() for module in graph}
    for module, targets in graph.items():
        folded[part(module)] |= {part(target) for target in targets} - {part(module)}
    return folded


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import circle of ``graph`` as the edges inside it (``"a -> b"``), sorted; [] for none."""
    reachable: dict[str, set[str]] = {}
    for start in graph:
        seen: set[str] = set()
        todo = list(graph[start])
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(graph.get(node, ()))
        reachable[start] = seen
    groups = {frozenset(node for node in reachable[start] if start in reachable[node])
              for start in graph if start in reachable[start]}
    return sorted(sorted(f"{a} -> {b}" for a in group for b in graph[a] if b in group) for group in groups)


@pytest.mark.parametrize(("folder", "forbidden"), [
    ("hal", {"chargebox", "hwsim"}),
    ("hw-sim/hwsim", {"chargebox"}),
])
def test_layers_import_only_downwards(folder: str, forbidden: set[str]) -> None:
    modules = imported_packages(ROOT / folder)
    assert modules, f"no modules found under {folder}"
    offenders = {path: sorted(names & forbidden) for path, names in modules.items() if names & forbidden}
    assert offenders == {}


@pytest.mark.parametrize(("inside", "forbidden"), [
    # Issue 16: the engine runs on any binding, so it knows none, nor the site config that chooses one.
    ("engine", {"binding", "config", "daemon", "cli"}),
    # DESIGN.md: a binding never sees business rules; it reads the site config for its transport only.
    ("binding", {"engine", "store", "maintenance", "mobile", "service", "daemon", "cli"}),
    # The typed messages and protocol errors every binding and the engine share depend on neither.
    ("ocpp", {"binding", "engine", "config", "store", "maintenance", "mobile", "service", "daemon", "cli"}),
])
def test_a_part_of_chargebox_imports_none_above_it(inside: str, forbidden: set[str]) -> None:
    graph = chargebox_imports(ROOT)
    modules = {module: targets for module, targets in graph.items() if part(module) == inside}
    assert modules, f"no modules found in chargebox.{inside}"
    offenders = {module: sorted(target for target in targets if part(target) in forbidden)
                 for module, targets in modules.items()}
    assert {module: found for module, found in offenders.items() if found} == {}


def test_the_engine_sees_no_wire_format() -> None:
    modules = imported_packages(ROOT / "chargebox" / "engine")
    offenders = {path: sorted(names & WIRE_FORMATS) for path, names in modules.items() if names & WIRE_FORMATS}
    assert offenders == {}


def test_no_part_of_chargebox_imports_one_that_imports_it_back() -> None:
    """Type-only imports count too: a circle of parts is one layer, whatever runs first."""
    assert circles(part_graph(chargebox_imports(ROOT))) == []


def test_no_module_of_chargebox_imports_itself_back_at_run_time() -> None:
    """Only ``if TYPE_CHECKING:`` imports may close a circle of modules (the engine's command modules
    name the ChargePoint they are given)."""
    assert circles(chargebox_imports(ROOT, type_only=False)) == []


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("from chargebox.engine import connector\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert imported_packages(tmp_path) == {"bad.py": {"chargebox"}}
    finally:
        ROOT = saved


def test_the_checks_resolve_imports_and_see_a_circle(tmp_path: Path) -> None:
    package = tmp_path / "chargebox"
    for folder in ("engine", "binding"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "tls.py").write_text("")
    (package / "config.py").write_text("from chargebox import tls\nfrom .binding import soap\n")
    (package / "binding" / "soap.py").write_text("from ..engine.box import Box\n")
    (package / "engine" / "box.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from chargebox.config import Config\n")
    graph = chargebox_imports(tmp_path)
    assert graph["chargebox.config"] == {"chargebox.tls", "chargebox.binding.soap"}
    assert circles(part_graph(graph)) == [["binding -> engine", "config -> binding", "engine -> config"]]
    assert circles(chargebox_imports(tmp_path, type_only=False)) == []
    (package / "engine" / "box.py").write_text("import chargebox.config\n")
    assert circles(chargebox_imports(tmp_path, type_only=False)) == [
        ["chargebox.binding.soap -> chargebox.engine.box", "chargebox.config -> chargebox.binding.soap",
         "chargebox.engine.box -> chargebox.config"]]


def test_no_module_of_the_engine_imports_one_that_imports_it_back_even_for_types() -> None:
    """Issue 16: the runtime shell knows none of the handlers it is given (management installs them)."""
    graph = chargebox_imports(ROOT)
    engine = {module: {t for t in targets if part(t) == "engine"}
              for module, targets in graph.items() if part(module) == "engine"}
    assert len(engine) > 10
    assert circles(engine) == []
