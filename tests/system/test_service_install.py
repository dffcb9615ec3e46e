"""The installer, end to end: into an OEM image's root filesystem, offline from a wheel, without
touching the build host; then the image's own tools on the result (systemd-sysusers,
systemd-tmpfiles, ``systemd-analyze verify`` with its warnings as errors), where the host has them.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chargebox.service.install import COMMAND, CONFIG, POLKIT, PREFIX, SYSUSERS, TMPFILES, TREE, UNIT, WANTS

pytestmark = pytest.mark.system
HOST_VERSION = f"{sys.version_info[0]}.{sys.version_info[1]}"
# What the installer writes on a box; none of it may appear on the build host.
HOST_PATHS = [Path("/") / path for path in (PREFIX, UNIT, WANTS, SYSUSERS, TMPFILES, POLKIT, CONFIG, COMMAND)]
UNTRACKED = shutil.ignore_patterns(".git", ".venv", "node_modules", "*_cache", ".benchmarks", "build", "dist", "*.egg-info",
                                   "__pycache__", "*.db", "*.db-*")


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The chargebox wheel, built once, from a copy of the tree (a build writes into its source)."""
    work = tmp_path_factory.mktemp("wheel")
    shutil.copytree(TREE, work / "src", ignore=UNTRACKED)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check",
                            "-w", str(work / "wheels"), str(work / "src")], check=False, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    return work / "wheels"


def readme_block(after: str) -> list[str]:
    """The commands of the first ``sh`` block after the heading ``after``: one per line, comments
    and trailing comments dropped."""
    text = (TREE / "README.md").read_text()
    section = text[text.index(after):]
    block = section[section.index("```sh\n") + len("```sh\n"):section.index("\n```", section.index("```sh\n"))]
    commands = [re.sub(r"\s+#[^\"']*$", "", line) for line in block.splitlines() if not line.startswith("#")]
    return [command for command in commands if command.strip()]


def host_state() -> dict[str, object]:
    return {**{str(path): path.exists() for path in HOST_PATHS},
            **{name: Path(name).read_bytes() for name in ("/etc/passwd", "/etc/group") if Path(name).exists()}}


@pytest.fixture
def image(tmp_path: Path, wheels: Path) -> Iterator[Path]:
    """An image root with chargebox installed into it, the build host checked unchanged."""
    root = tmp_path / "image"
    root.mkdir()
    before = host_state()
    # --python: the host's interpreter stands in for the image's, so this test can run the result;
    # --system-site-packages and --no-deps: the dependencies are this environment's, not downloaded.
    done = subprocess.run([sys.executable, "-m", "chargebox.service.install", "--root", str(root), "--wheels", str(wheels),
                           "--python", sys.executable, "--python-version", HOST_VERSION, "--system-site-packages",
                           "--no-deps"], check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert host_state() == before
    yield root


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_the_image_gets_the_venv_the_unit_its_companions_the_command_and_the_config(image: Path) -> None:
    prefix = image / PREFIX
    assert os.readlink(prefix / "bin" / "python") == sys.executable
    assert (prefix / "pyvenv.cfg").read_text() == (
        f"home = {Path(sys.executable).parent}\ninclude-system-site-packages = true\nversion = {HOST_VERSION}\n")
    site = prefix / "lib" / f"python{HOST_VERSION}" / "site-packages"
    assert (site / "chargebox" / "service" / "install.py").is_file()
    assert not (site / "bin").exists()  # console scripts with the build host's #! line are gone
    assert not (site / "hwsim").exists()  # the simulator is no part of a box
    assert not (image / "opt" / ".chargebox.new").exists()  # built aside, then moved into place
    # The unit's Documentation= is chargebox's own, and in the image (not systemd's man page).
    (documentation,) = re.findall(r"^Documentation=file:(/\S+)$", (image / UNIT).read_text(), re.MULTILINE)
    assert (image / documentation.lstrip("/")).read_text() == (TREE / "README.md").read_text()
    for installed, source in ((UNIT, "chargebox.service"), (SYSUSERS, "chargebox.sysusers"),
                              (TMPFILES, "chargebox.tmpfiles"), (POLKIT, "chargebox.polkit.rules")):
        assert (image / installed).read_text() == (TREE / "systemd" / source).read_text()
        assert mode(image / installed) == 0o644
    assert os.readlink(image / WANTS) == "/etc/systemd/system/chargebox.service"  # enabled
    assert (image / CONFIG).read_text() == (TREE / "config" / "raspberry-pi.toml").read_text()
    assert mode(image / CONFIG) == 0o640
    assert mode(image / COMMAND) == 0o755
    assert (image / COMMAND).read_text() == '#!/bin/sh\nexec /opt/chargebox/bin/python -m chargebox.cli "$@"\n'


def test_the_installed_package_runs_from_the_image(image: Path, tmp_path: Path) -> None:
    python = image / PREFIX / "bin" / "python"
    # Run elsewhere than the source tree, whose chargebox/ would come first on sys.path.
    where = subprocess.run([python, "-c", "import chargebox; print(chargebox.__file__)"], capture_output=True,
                           text=True, check=True, cwd=tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(image / PREFIX / "lib")
    tool = subprocess.run([python, "-m", "chargebox.cli", "status", "--socket", str(tmp_path / "none.sock")],
                          check=False, capture_output=True, text=True, cwd=tmp_path)
    assert tool.returncode == 1 and "no such socket" in tool.stderr


def test_a_second_install_keeps_the_sites_config(image: Path, wheels: Path) -> None:
    (image / CONFIG).write_text("# edited on site\n")
    again = subprocess.run([sys.executable, "-m", "chargebox.service.install", "--root", str(image), "--wheels",
                            str(wheels), "--python", sys.executable, "--python-version", HOST_VERSION, "--no-deps"],
                           check=False, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"kept the existing {image / CONFIG}" in again.stdout
    assert (image / CONFIG).read_text() == "# edited on site\n"


@pytest.mark.skipif(shutil.which("systemd-sysusers") is None or shutil.which("systemd-tmpfiles") is None,
                    reason="systemd-sysusers and systemd-tmpfiles are not installed")
def test_at_first_boot_the_user_exists_in_its_groups_and_owns_the_config(image: Path) -> None:
    subprocess.run(["systemd-sysusers", f"--root={image}"], check=True, capture_output=True)
    users = {line.split(":")[0]: line.split(":") for line in (image / "etc/passwd").read_text().splitlines()}
    groups = {line.split(":")[0]: line.split(":") for line in (image / "etc/group").read_text().splitlines()}
    user = users["chargebox"]
    assert (user[5], user[6]) == ("/var/lib/chargebox", "/usr/sbin/nologin")
    assert "chargebox" in groups["gpio"][3].split(",") and "chargebox" in groups["dialout"][3].split(",")
    subprocess.run(["systemd-tmpfiles", f"--root={image}", "--create"], check=True, capture_output=True)
    config = (image / CONFIG).stat()
    assert (config.st_uid, config.st_gid, stat.S_IMODE(config.st_mode)) == (0, int(groups["chargebox"][2]), 0o640)


def verify(root: Path, unit: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemd-analyze", "verify", f"--root={root}", unit],
                          check=False, capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None or not Path("/usr/lib/systemd/system").is_dir(),
                    reason="systemd-analyze or the system's units are not installed")
def test_systemd_analyze_verify_finds_nothing_to_warn_about(image: Path) -> None:
    # What a Debian image holds besides chargebox: systemd's own units, and the interpreter the
    # venv points at (here a stand-in: verify checks that ExecStart= can be executed).
    shutil.copytree("/usr/lib/systemd/system", image / "usr/lib/systemd/system", symlinks=True)
    interpreter = image / sys.executable.lstrip("/")
    interpreter.parent.mkdir(parents=True, exist_ok=True)
    interpreter.write_text("#!/bin/sh\n")
    interpreter.chmod(0o755)
    clean = verify(image, "chargebox.service")
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "", "")
    # The check bites: an unknown key is only a warning to systemd-analyze, and an error here.
    broken = image / "etc/systemd/system/broken.service"
    broken.write_text((image / UNIT).read_text().replace("[Service]\n", "[Service]\nWatchdogSecs=30\n"))
    warned = verify(image, "broken.service")
    assert re.search(r"Unknown key.*'WatchdogSecs'", warned.stderr), warned.stderr


@pytest.mark.network
def test_the_readmes_download_for_an_arm64_image_finds_every_dependency(wheels: Path, tmp_path: Path) -> None:
    """The README's ``pip download`` for the image, verbatim: pip matches platform tags exactly, so
    with one manylinux tag no wheel of lxml, aiohttp, multidict or yarl matched. Needs PyPI."""
    commands = readme_block("## Building an OEM image")
    script = [c for c in commands if c.startswith("platforms=")] + [c for c in commands if c.startswith("pip download")]
    assert len(script) == 2, commands
    shutil.copytree(wheels, tmp_path / "wheels")  # the README's folder: chargebox's wheel, then its dependencies
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", "\n".join(script)], cwd=tmp_path,
                          capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    downloaded = {path.name.split("-")[0].lower(): path.name for path in (tmp_path / "wheels").glob("*.whl")}
    for name in ("lxml", "aiohttp", "multidict", "yarl", "frozenlist"):
        assert name in downloaded and downloaded[name].endswith("aarch64.whl"), (name, sorted(downloaded.values()))
