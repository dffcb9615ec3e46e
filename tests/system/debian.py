"""A minimal Debian root filesystem made with debootstrap, cached, and booted with systemd-nspawn,
for system tests of the service under a real systemd.

The root is ``debootstrap --variant=minbase`` of :data:`SUITE` plus :data:`PACKAGES` from the Debian
archive, kept as a tarball in ``~/.cache/chargebox`` named by everything that makes it (suite,
variant, packages, mirror), so a second run unpacks it instead of downloading it again.

The container shares the host's network (no ``--private-network``): the daemon inside reaches the
simulator and the Central System on the host's loopback, and they reach its endpoint there.
Commands run inside through ``nsenter`` into the container's init, which needs neither D-Bus nor
systemd-machined on the host (a build container has neither).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
#: systemd and what boots it; the Python the box runs on, with apt's python-systemd (journal, sd_notify);
#: what the README's install on a Raspberry Pi asks for (pip, and sudo to run it).
PACKAGES = ("systemd", "systemd-sysv", "dbus", "python3", "python3-systemd", "python3-pip", "sudo")
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "chargebox"
#: A clean environment for commands inside (nsenter would pass on the host's).
INSIDE_ENV = ["env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
              "HOME=/root"]


def unavailable() -> str | None:
    """Why no Debian root can be made and booted here, or None."""
    if os.geteuid() != 0:
        return "debootstrap and systemd-nspawn need root"
    missing = [tool for tool in ("debootstrap", "systemd-nspawn", "nsenter", "tar") if shutil.which(tool) is None]
    if missing:
        return f"not installed: {', '.join(missing)} (apt-get install debootstrap systemd-container)"
    return None


def tarball() -> Path:
    key = hashlib.sha256(f"{SUITE} minbase {' '.join(sorted(PACKAGES))} {MIRROR}".encode()).hexdigest()[:12]
    return CACHE / f"debian-{SUITE}-minbase-{key}.tar"


def debian_root(dest: Path) -> tuple[Path, float]:
    """A fresh Debian root at ``dest``; with the seconds it took (debootstrap, or unpacking the cache)."""
    started = time.monotonic()
    cached = tarball()
    if not cached.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=CACHE, prefix="debootstrap-") as work:
            build = Path(work) / "root"
            made = subprocess.run(["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE,
                                   str(build), MIRROR], capture_output=True, text=True, check=False, timeout=900)
            assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
            shutil.rmtree(build / "var/cache/apt/archives", ignore_errors=True)
            part = Path(work) / "root.tar"
            subprocess.run(["tar", "-C", str(build), "--numeric-owner", "-cf", str(part), "."], check=True)
            part.rename(cached)  # whole or not at all: a killed run leaves no half tarball
    dest.mkdir(parents=True)
    subprocess.run(["tar", "-C", str(dest), "--numeric-owner", "-xf", str(cached)], check=True)
    return dest, time.monotonic() - started


class Container:
    """``systemd-nspawn -b`` of a root: start, run commands inside, power off."""

    def __init__(self, root: Path, name: str, log: Path) -> None:
        self.root, self.name, self.log_path = root, name, log
        self._process: subprocess.Popen[bytes] | None = None
        self.leader = 0

    def boot(self, timeout: float = 60) -> None:
        # Without systemd on the host (a build container) there is no one to register the
        # machine with or to make its scope: --register=no --keep-unit. With it, the defaults.
        host_systemd = Path("/run/systemd/system").is_dir()
        options = [] if host_systemd else ["--register=no", "--keep-unit"]
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(["systemd-nspawn", "--quiet", "--boot", f"--machine={self.name}",
                                              *options, f"--directory={self.root}"], stdin=subprocess.DEVNULL,
                                             stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not self.leader:
            assert self._process.poll() is None, f"systemd-nspawn exited: {self.log()}"
            assert time.monotonic() < deadline, "the container's init never started"
            children = Path(f"/proc/{self._process.pid}/task/{self._process.pid}/children").read_text().split()
            for child in children:
                if Path(f"/proc/{child}/comm").read_text().strip() == "systemd":
                    self.leader = int(child)
            time.sleep(0.1)
        # Blocks until the boot is done: "running", or "degraded" if some unit failed. Until the
        # manager listens on its socket, systemctl cannot connect and says so on stderr only.
        while not (state := self.run("systemctl", "is-system-running", "--wait", timeout=timeout).stdout.strip()):
            assert time.monotonic() < deadline, "the container's systemd never answered"
            time.sleep(0.1)
        assert state == "running", f"{state}: {self.run('systemctl', '--failed', '--no-pager').stdout}"

    def run(self, *command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """``command`` inside the container, as root, with a clean environment."""
        return subprocess.run(["nsenter", f"--target={self.leader}", "--all", *INSIDE_ENV, *command],
                              capture_output=True, text=True, check=False, timeout=timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def poweroff(self, timeout: float = 60) -> int:
        """systemd-nspawn turns SIGTERM into the container's clean shutdown; its exit status."""
        if self._process is None:
            return 0
        self._process.terminate()
        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            return self._process.wait()
