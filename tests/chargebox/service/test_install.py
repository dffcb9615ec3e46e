"""The installer's decisions, without installing: the target's Python read from an image, the pip
command for another interpreter or architecture, and the mistakes refused before anything is written."""

from __future__ import annotations

import marshal
import shutil
import sys
from pathlib import Path

import pytest

from chargebox.service.install import (
    PREFIX,
    RETIRED,
    STAGING,
    TREE,
    InstallError,
    Plan,
    compile_bytecode,
    main,
    parse,
    pip_command,
    python_version,
)

HOST_VERSION = f"{sys.version_info[0]}.{sys.version_info[1]}"


def image_with_python(tmp_path: Path, links: dict[str, str]) -> Path:
    root = tmp_path / "image"
    (root / "usr/bin").mkdir(parents=True)
    for name, target in links.items():
        (root / "usr/bin" / name).symlink_to(target)
    (root / "usr/bin/python3.12").write_text("")
    return root


def test_the_images_python_version_is_read_from_where_its_python3_leads(tmp_path: Path) -> None:
    assert python_version(image_with_python(tmp_path, {"python3": "python3.12"}), "/usr/bin/python3") == "3.12"


def test_an_absolute_link_is_followed_inside_the_image_not_on_the_host(tmp_path: Path) -> None:
    root = image_with_python(tmp_path, {"python3": "/usr/bin/py", "py": "/usr/bin/python3.12"})
    assert python_version(root, "/usr/bin/python3") == "3.12"


def test_an_image_whose_python_says_nothing_asks_for_the_version(tmp_path: Path) -> None:
    root = image_with_python(tmp_path, {"python3": "python"})
    with pytest.raises(InstallError, match="give --python-version"):
        python_version(root, "/usr/bin/python3")


def test_on_the_box_the_interpreter_is_asked() -> None:
    assert python_version(Path("/"), sys.executable) == HOST_VERSION


def plan(tmp_path: Path, **changes: object) -> Plan:
    values: dict[str, object] = {
        "root": tmp_path, "wheels": tmp_path / "wheels", "extras": (), "python": "/usr/bin/python3",
        "python_version": HOST_VERSION, "platforms": (), "system_site_packages": False, "no_deps": False,
        "config": TREE / "config" / "raspberry-pi.toml", "start": False}
    values.update(changes)
    return Plan(**values)  # type: ignore[arg-type]


def test_an_image_install_is_offline_and_leaves_no_cache(tmp_path: Path) -> None:
    command = pip_command(plan(tmp_path, extras=("gpiod",)), tmp_path / "site")
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    assert ["--target", str(tmp_path / "site")] == command[5:7]
    assert "--no-index" in command and "--no-cache-dir" in command
    assert command[command.index("--find-links") + 1] == str(tmp_path / "wheels")
    assert command[-1] == "chargebox[gpiod]"
    assert "--only-binary=:all:" not in command  # same interpreter: sources may be built, bytecode compiled


def test_another_python_or_architecture_takes_wheels_only(tmp_path: Path) -> None:
    command = pip_command(plan(tmp_path, python_version="3.13", platforms=("manylinux_2_36_aarch64",)), tmp_path)
    for flag in (["--python-version", "3.13"], ["--platform", "manylinux_2_36_aarch64"], ["--implementation", "cp"]):
        assert command[command.index(flag[0]):command.index(flag[0]) + 2] == flag
    assert "--only-binary=:all:" in command


def test_from_the_source_tree_the_tree_is_the_requirement(tmp_path: Path) -> None:
    command = pip_command(plan(Path("/"), wheels=None, extras=("systemd", "gpiod")), tmp_path)
    assert command[-1] == f"{TREE}[systemd,gpiod]"
    assert "--no-index" not in command and "--no-cache-dir" not in command


@pytest.mark.parametrize(("args", "message"), [
    (["--root", "/nonexistent/image"], "--root /nonexistent/image: not a directory"),
    (["--wheels", "/nonexistent/wheels"], "--wheels /nonexistent/wheels: not a directory"),
    (["--config", "/nonexistent.toml"], "--config /nonexistent.toml: no such file"),
    (["--start"], "--start is for the box itself"),
    (["--python", "python3"], "--python python3: expected an absolute path on the target"),
    (["--python-version", "3.9"], "chargebox needs Python 3.11 or newer; the target has 3.9"),
    (["--python-version", "three"], "expected MAJOR.MINOR like 3.11, got 'three'"),
    # pip would judge the image's dependency markers by this interpreter (pypa/pip#11010).
    (["--python-version", "3.99"], "the target has Python 3.99, this installer runs on"),
])
def test_mistakes_are_refused_before_anything_is_written(tmp_path: Path, args: list[str], message: str) -> None:
    root = tmp_path / "image"
    root.mkdir()
    with pytest.raises(InstallError, match=message.replace("(", r"\(").replace(".", r"\.")):
        parse(["--root", str(root), *args])
    assert list(root.iterdir()) == []


def test_the_installer_parses_a_complete_image_command(tmp_path: Path) -> None:
    got = parse(["--root", str(tmp_path), "--wheels", str(tmp_path), "--python-version", HOST_VERSION, "--extras", "gpiod, rpi",
                 "--platform", "manylinux_2_36_aarch64", "--system-site-packages"])
    assert (got.root, got.wheels, got.extras, got.python, got.python_version, got.platforms) == (
        tmp_path, tmp_path, ("gpiod", "rpi"), "/usr/bin/python3", HOST_VERSION, ("manylinux_2_36_aarch64",))
    assert got.system_site_packages and not got.on_box


def test_a_failed_install_leaves_the_previous_environment_and_no_half_made_one(tmp_path: Path) -> None:
    root, wheels = tmp_path / "image", tmp_path / "wheels"
    wheels.mkdir()  # no chargebox wheel in it: pip fails
    (root / PREFIX).mkdir(parents=True)
    (root / PREFIX / "previous").write_text("the running version")
    args = ["--root", str(root), "--wheels", str(wheels), "--python", sys.executable, "--python-version", HOST_VERSION]
    assert main(args) == 1
    assert [p.name for p in (root / PREFIX).iterdir()] == ["previous"]
    assert sorted(p.name for p in (root / PREFIX).parent.iterdir()) == ["chargebox"]
    # A run killed between moving the running environment aside and the new one in: it comes back.
    (root / PREFIX).rename(root / RETIRED)
    (root / STAGING).mkdir()
    assert main(args) == 1
    assert [p.name for p in (root / PREFIX).iterdir()] == ["previous"]
    assert sorted(p.name for p in (root / PREFIX).parent.iterdir()) == ["chargebox"]
    shutil.rmtree(root / PREFIX)
    assert main(args) == 1
    assert list((root / PREFIX).parent.iterdir()) == []  # nothing at all where there was nothing


def test_bytecode_is_compiled_for_the_targets_python_whatever_its_platform_named_by_its_place_there(
        tmp_path: Path) -> None:
    staging = tmp_path / "image" / STAGING
    site = staging / "lib" / "site-packages"
    site.mkdir(parents=True)
    (site / "module.py").write_text("def where():\n    raise RuntimeError\n")
    compile_bytecode(site, staging)
    compiled = sorted((site / "__pycache__").glob("module.*.pyc"))
    # Level 0 for the tools, level 2 for the daemon (cli.DAEMON_RUNTIME's PYTHONOPTIMIZE=2).
    assert [path.name.split(".")[2:-1] for path in compiled] == [["opt-2"], []]
    for path in compiled:
        code = marshal.loads(path.read_bytes()[16:])  # after the header (PEP 552)
        assert code.co_filename == f"/{PREFIX}/lib/site-packages/module.py"
