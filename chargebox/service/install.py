"""The installer: one command puts chargebox on a box, or into an OEM image's root filesystem.

    sudo python3 -m chargebox.service.install                      # on the box, from this source tree
    sudo python3 -m chargebox.service.install --wheels DIR         # on the box, offline, from wheels
    python3 -m chargebox.service.install --root IMG --wheels DIR   # into an image, offline

Run it from a source tree (it takes the unit, its companions and the example config from there).
What it writes, under the root (``/`` on the box):

    /opt/chargebox/                          a virtual environment for the target's Python, made by
                                             hand (pyvenv.cfg and bin/python -> the target's python3)
                                             and filled by ``pip install --target``, so the build
                                             host's interpreter is never run in or linked to the image;
                                             the daemon only: the simulator (hwsim) is left out
    /usr/local/bin/chargebox                 the ``chargebox`` command for operators
    /etc/systemd/system/chargebox.service    the unit, enabled (multi-user.target.wants)
    /etc/sysusers.d/chargebox.conf           the service user and its groups
    /etc/tmpfiles.d/chargebox.conf           the config file's owner and mode
    /etc/polkit-1/rules.d/50-chargebox.rules the service user may reboot (Hard reset)
    /etc/chargebox/chargebox.toml            the example config, unless one is there already
    /usr/share/doc/chargebox/README.md       this README, the unit's Documentation=

With ``--root`` nothing on the build host changes: no user is created, no systemctl runs; the
image creates the user (systemd-sysusers) and fixes the config's owner (systemd-tmpfiles) at
boot. On the box the installer does both now and reloads systemd; ``--start`` also (re)starts
the service.

The environment is built beside its place (``opt/.chargebox.new``) and moved there only once pip
has succeeded, so a failed install leaves the previous one, or nothing, never half an environment.
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chargebox.errors import ChargeboxError

TREE = Path(__file__).resolve().parents[2]
PREFIX = Path("opt/chargebox")
STAGING = PREFIX.with_name(".chargebox.new")  # beside PREFIX: on its file system, so a rename moves it
RETIRED = PREFIX.with_name(".chargebox.old")
UNIT = Path("etc/systemd/system/chargebox.service")
WANTS = Path("etc/systemd/system/multi-user.target.wants/chargebox.service")
SYSUSERS = Path("etc/sysusers.d/chargebox.conf")
TMPFILES = Path("etc/tmpfiles.d/chargebox.conf")
POLKIT = Path("etc/polkit-1/rules.d/50-chargebox.rules")
CONFIG = Path("etc/chargebox/chargebox.toml")
COMMAND = Path("usr/local/bin/chargebox")
DOCUMENTATION = Path("usr/share/doc/chargebox/README.md")  # the unit's Documentation=
MINIMUM_PYTHON = (3, 11)

# The unit runs the interpreter, not a console script: pip writes the build host's interpreter
# into a script's #! line, which is wrong inside an image.
WRAPPER = f'#!/bin/sh\nexec /{PREFIX}/bin/python -m chargebox.cli "$@"\n'


class InstallError(ChargeboxError, RuntimeError):
    """The installation cannot go on; the message says what to change."""


@dataclass(frozen=True)
class Plan:
    root: Path
    wheels: Path | None
    extras: tuple[str, ...]
    python: str  # the target's interpreter, as a path inside the root
    python_version: str  # "3.11"
    platforms: tuple[str, ...]  # pip platform tags, for an image of another architecture
    system_site_packages: bool
    no_deps: bool
    config: Path
    start: bool

    @property
    def on_box(self) -> bool:
        return self.root == Path("/")

    def target(self, path: Path) -> Path:
        return self.root / path


def _host_version() -> str:
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def _resolve_in_root(root: Path, path: str) -> Path:
    """``path`` inside ``root`` with its symlinks followed there (an absolute link points into the
    root, not at the build host)."""
    current = root / path.lstrip("/")
    for _ in range(40):
        if not current.is_symlink():
            return current
        link = os.readlink(current)
        current = root / link.lstrip("/") if link.startswith("/") else current.parent / link
    raise InstallError(f"{root / path.lstrip('/')}: too many levels of symbolic links")


def python_version(root: Path, python: str) -> str:
    """The target's Python version, ``"3.11"``: asked of the interpreter on the box; in an image,
    read from the name its ``python3`` link leads to (``python3 -> python3.11``)."""
    if root == Path("/"):
        try:
            out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                 check=True, capture_output=True, text=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError) as err:
            raise InstallError(f"cannot run {python}: {err}; give --python") from err
        return out
    found = re.fullmatch(r"python(\d+\.\d+)", _resolve_in_root(root, python).name)
    if found is None:
        raise InstallError(f"cannot tell the Python version of {root / python.lstrip('/')} in the image; "
                           "give --python-version (the image's python3, like 3.11)")
    return found.group(1)


def _check_version(version: str) -> str:
    try:
        numbers = tuple(int(part) for part in version.split("."))
    except ValueError:
        numbers = ()
    if len(numbers) != 2:
        raise InstallError(f"--python-version: expected MAJOR.MINOR like 3.11, got {version!r}")
    if numbers < MINIMUM_PYTHON:
        raise InstallError(f"chargebox needs Python {'.'.join(map(str, MINIMUM_PYTHON))} or newer; "
                           f"the target has {version}")
    return version


def make_venv(plan: Plan, prefix: Path) -> Path:
    """The virtual environment's skeleton at ``prefix``, for the target's interpreter; returns its site-packages."""
    site = prefix / "lib" / f"python{plan.python_version}" / "site-packages"
    site.mkdir(parents=True, exist_ok=True)
    (prefix / "bin").mkdir(exist_ok=True)
    # lib64 as venv makes it, for distributions whose platlibdir is lib64.
    links = {prefix / "bin" / "python": plan.python, prefix / "bin" / "python3": "python", prefix / "lib64": "lib"}
    for link, target in links.items():
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target)
    (prefix / "pyvenv.cfg").write_text(
        f"home = {Path(plan.python).parent}\n"
        f"include-system-site-packages = {'true' if plan.system_site_packages else 'false'}\n"
        f"version = {plan.python_version}\n", encoding="utf-8")
    return site


def pip_command(plan: Plan, site: Path) -> list[str]:
    """``pip install --target`` for the target's Python version and platform; offline with wheels."""
    extras = f"[{','.join(plan.extras)}]" if plan.extras else ""
    # --no-compile: pip would write the staging folder's paths into the bytecode; compile_bytecode() does it.
    command = [sys.executable, "-m", "pip", "install", "--upgrade", "--target", str(site), "--no-compile",
               "--disable-pip-version-check", "--no-warn-script-location"]
    if plan.wheels is not None:
        command += ["--no-index", "--find-links", str(plan.wheels)]
    if not plan.on_box:
        command.append("--no-cache-dir")
    if plan.platforms:
        # pip can only install wheels for another platform.
        command += ["--python-version", plan.python_version, "--implementation", "cp", "--only-binary=:all:"]
        for platform in plan.platforms:
            command += ["--platform", platform]
    if plan.no_deps:
        command.append("--no-deps")
    command.append(f"chargebox{extras}" if plan.wheels is not None else f"{TREE}{extras}")
    return command


def compile_bytecode(site: Path, staging: Path) -> None:
    """Bytecode for the target (the host has its Python minor version, :func:`parse` checks; the format
    changes only between minor versions, not between architectures); named by the paths it will have on
    the target, so tracebacks show them. The unit's /opt is read-only: without it every start
    compiles everything again, in memory."""
    # As pip does, a file that does not compile (a package's own test data) is reported, not fatal.
    # Level 2 too: the daemon runs without docstrings (PYTHONOPTIMIZE=2, cli.DAEMON_RUNTIME), the tools at 0.
    # A list, not a generator: the second level compiles even when the first reports a file.
    if not all([compileall.compile_dir(site, quiet=1, stripdir=str(staging), prependdir=f"/{PREFIX}", workers=0,
                                       optimize=level) for level in (0, 2)]):
        print(f"some files in {site} did not compile (listed above); they run without bytecode")


def _write(path: Path, data: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data, encoding="utf-8")
    path.chmod(mode)


def install_files(plan: Plan) -> list[str]:
    """The unit, its companions, the command and the config (an existing config is kept)."""
    notes = []
    source = TREE / "systemd"
    for name, where in (("chargebox.service", UNIT), ("chargebox.sysusers", SYSUSERS),
                        ("chargebox.tmpfiles", TMPFILES), ("chargebox.polkit.rules", POLKIT)):
        _write(plan.target(where), (source / name).read_text(encoding="utf-8"), 0o644)
    _write(plan.target(COMMAND), WRAPPER, 0o755)
    _write(plan.target(DOCUMENTATION), (TREE / "README.md").read_text(encoding="utf-8"), 0o644)
    wants = plan.target(WANTS)
    wants.parent.mkdir(parents=True, exist_ok=True)
    if wants.is_symlink() or wants.exists():
        wants.unlink()
    wants.symlink_to(f"/{UNIT}")
    config = plan.target(CONFIG)
    if config.exists():
        notes.append(f"kept the existing {config}")
    else:
        _write(config, plan.config.read_text(encoding="utf-8"), 0o640)
        notes.append(f"installed {config} from {plan.config}: edit it for this site")
    return notes


def _run(command: Sequence[str]) -> None:
    print("+", " ".join(command))
    try:
        subprocess.run(command, check=True)
    except (OSError, subprocess.CalledProcessError) as err:
        raise InstallError(f"{command[0]} failed: {err}") from err


def install_venv(plan: Plan) -> None:
    """The environment, built aside and then moved into place."""
    staging, prefix, retired = plan.target(STAGING), plan.target(PREFIX), plan.target(RETIRED)
    # An earlier run that was killed: its half-made environment goes; one killed between the two
    # renames below left the previous environment retired, and it comes back.
    shutil.rmtree(staging, ignore_errors=True)
    if retired.exists() and not prefix.exists():
        retired.rename(prefix)
    shutil.rmtree(retired, ignore_errors=True)
    try:
        site = make_venv(plan, staging)
        print(f"installing chargebox for Python {plan.python_version} into {plan.target(PREFIX)}")
        _run(pip_command(plan, site))
        # pip --target puts console scripts beside the packages, with the host's interpreter in #!.
        shutil.rmtree(site / "bin", ignore_errors=True)
        # The simulator shares the distribution but has no business on a box (chargebox never imports it).
        shutil.rmtree(site / "hwsim", ignore_errors=True)
        compile_bytecode(site, staging)
        if prefix.exists():
            prefix.rename(retired)
        staging.rename(prefix)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if retired.exists() and not prefix.exists():
            retired.rename(prefix)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def install(plan: Plan) -> None:
    install_venv(plan)
    for note in install_files(plan):
        print(note)
    if not plan.on_box:
        print(f"installed into {plan.root}; at first boot the image creates the chargebox user and starts the service")
        return
    _run(["systemd-sysusers", f"/{SYSUSERS}"])
    _run(["systemd-tmpfiles", "--create", f"/{TMPFILES}"])
    _run(["systemctl", "daemon-reload"])
    check = subprocess.run([f"/{PREFIX}/bin/python", "-m", "chargebox.cli", "check-config", f"/{CONFIG}"],
                           check=False)
    if plan.start:
        _run(["systemctl", "restart", "chargebox.service"])
    elif check.returncode == 0:
        print("start it with: systemctl start chargebox; watch it with: chargebox status, journalctl -u chargebox")
    else:
        print(f"fix /{CONFIG}, then: systemctl start chargebox")


def parse(argv: Sequence[str] | None = None) -> Plan:
    parser = argparse.ArgumentParser(prog="python3 -m chargebox.service.install", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path("/"),
                        help="an image's root filesystem to install into, offline (default: this box)")
    parser.add_argument("--wheels", type=Path, help="install from the wheels in this folder only (no index)")
    parser.add_argument("--extras", default="",
                        help="comma-separated extras: gpiod, rpi, systemd (python-systemd; builds from source, "
                             "so on Raspberry Pi OS rather apt install python3-systemd and --system-site-packages)")
    parser.add_argument("--python", default="/usr/bin/python3", help="the target's interpreter (default /usr/bin/python3)")
    parser.add_argument("--python-version", help="the target's Python, like 3.11 (default: asked of --python)")
    parser.add_argument("--platform", action="append", default=[],
                        help="pip platform tag of the target, like manylinux_2_36_aarch64; pip matches tags "
                             "exactly, so give every tag the target accepts (repeat the option)")
    parser.add_argument("--system-site-packages", action="store_true",
                        help="let the venv see the system's packages (python3-systemd, python3-rpi.gpio from apt)")
    parser.add_argument("--no-deps", action="store_true", help="install chargebox alone (dependencies come from the system)")
    parser.add_argument("--config", type=Path, default=TREE / "config" / "raspberry-pi.toml",
                        help="the config installed when none exists (default: config/raspberry-pi.toml)")
    parser.add_argument("--start", action="store_true", help="on the box: (re)start the service afterwards")
    args = parser.parse_args(argv)
    if not (TREE / "systemd" / "chargebox.service").is_file():
        raise InstallError(f"run the installer from a chargebox source tree ({TREE} has no systemd/chargebox.service)")
    root = args.root.resolve()
    if not root.is_dir():
        raise InstallError(f"--root {args.root}: not a directory")
    if args.wheels is not None and not args.wheels.is_dir():
        raise InstallError(f"--wheels {args.wheels}: not a directory")
    if not args.config.is_file():
        raise InstallError(f"--config {args.config}: no such file")
    if root == Path("/") and os.geteuid() != 0:
        raise InstallError("installing on this box needs root (sudo); to fill an image, give --root")
    if args.start and root != Path("/"):
        raise InstallError("--start is for the box itself; an image starts the service at boot")
    if not args.python.startswith("/"):
        raise InstallError(f"--python {args.python}: expected an absolute path on the target")
    extras = tuple(name.strip() for name in args.extras.split(",") if name.strip())
    version = _check_version(args.python_version or python_version(root, args.python))
    if version != _host_version():
        # pip evaluates dependency markers (python_version < "3.12") with its own interpreter even under
        # --python-version (pypa/pip#11010, #13296), so the image would miss what only the target's Python needs.
        raise InstallError(f"the target has Python {version}, this installer runs on {_host_version()}: "
                           f"run it with python{version} (the same minor version as the image)")
    return Plan(
        root=root, wheels=args.wheels.resolve() if args.wheels else None, extras=extras, python=args.python,
        python_version=version,
        platforms=tuple(args.platform), system_site_packages=args.system_site_packages, no_deps=args.no_deps,
        config=args.config, start=args.start,
    )


def main(argv: Sequence[str] | None = None) -> int:
    try:
        install(parse(argv))
    except InstallError as err:
        print(f"install: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
