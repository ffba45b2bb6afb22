"""vcsim, govmomi's vCenter simulator, as a test peer: built once, started per test session.

``vcsim/main.go`` (a Pants ``files`` target the tests depend on) wraps govmomi's ``simulator``
package, VPX model: 1 datacenter, a 3-host cluster, a standalone host, 4 VMs of its own. It is built
with the Go toolchain and govmomi sources from Debian on first use and cached under
``~/.cache/nova-split/peers/vcsim-<sha256 of main.go>/vcsim`` (flock-serialized, atomic rename).
Each process runs on a free loopback port the Go program picks and prints, in its own process
group, and dies with its parent (PR_SET_PDEATHSIG, stdin closing, and its own parent watch).
"""

from __future__ import annotations

import atexit
import ctypes
import fcntl
import hashlib
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

__all__ = ["DEBIAN_PACKAGES", "Vcsim", "VcsimUnavailable", "build_vcsim", "find_main_go", "running_vcsim"]

DEBIAN_PACKAGES = "golang-go golang-github-vmware-govmomi-dev"
# Where Debian's golang-*-dev packages install Go sources (a GOPATH, used with GO111MODULE=off).
_DEBIAN_GOPATH = "/usr/share/gocode"
_GOVMOMI = "src/github.com/vmware/govmomi/simulator"
USERNAME = "nova"
PASSWORD = "vcsim-secret"
_PR_SET_PDEATHSIG = 1


class VcsimUnavailable(RuntimeError):
    """vcsim cannot be built or started on this machine."""


@dataclass(frozen=True)
class Vcsim:
    """A running vcsim: its SDK URL (no login in it) and the login it accepts."""

    url: str
    username: str
    password: str
    process: subprocess.Popen[bytes]

    def options(self, **extra: str) -> dict[str, str]:
        """Driver options for this vcsim."""
        return {"url": self.url, "username": self.username, "password": self.password, **extra}


def find_main_go() -> Path:
    """``vcsim/main.go`` beside the ``nova_vmware`` package, relative to this file.

    That is the same place in the monorepo, in a Pants sandbox (the ``:vcsim-src`` files target)
    and in the driver's directory alone (``tox``), so neither the working directory nor the
    repository root matters. It is not in the wheel: tests run from the source tree.
    """
    path = Path(__file__).resolve().parent.parent / "vcsim" / "main.go"
    if not path.is_file():
        raise VcsimUnavailable(f"vcsim's main.go not found at {path}; the tests run from the driver's source tree")
    return path


def build_vcsim(main_go: Path, search_path: str | None = None) -> Path:
    """The vcsim binary for ``main_go``, built and cached on first use."""
    digest = hashlib.sha256(main_go.read_bytes()).hexdigest()
    peers = Path.home() / ".cache" / "nova-split" / "peers"
    binary = peers / f"vcsim-{digest}" / "vcsim"
    if binary.is_file():
        return binary
    go = shutil.which("go", path=search_path if search_path is not None else os.environ.get("PATH", os.defpath))
    if go is None or not (Path(_DEBIAN_GOPATH) / _GOVMOMI).is_dir():
        missing = "the 'go' command" if go is None else "govmomi's Go sources"
        raise VcsimUnavailable(
            f"cannot build vcsim: {missing} is missing; install the Debian packages {DEBIAN_PACKAGES} "
            f"(apt-get install {DEBIAN_PACKAGES})"
        )
    binary.parent.mkdir(parents=True, exist_ok=True)
    with open(binary.parent / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if binary.is_file():  # built by a concurrent test process while we waited
            return binary
        with tempfile.TemporaryDirectory(dir=binary.parent, prefix="build-") as tmp:
            out = Path(tmp) / "vcsim"
            shutil.copy(main_go, Path(tmp) / "main.go")
            env = {
                **os.environ,
                "GO111MODULE": "off",
                "GOPATH": _DEBIAN_GOPATH,
                "GOCACHE": str(peers / "go-build-cache"),
                "GOFLAGS": "",
                "CGO_ENABLED": "0",
            }
            proc = subprocess.run(
                [go, "build", "-o", str(out), "main.go"], cwd=tmp, env=env, capture_output=True, text=True
            )
            if proc.returncode != 0:
                raise VcsimUnavailable(f"'go build' of vcsim failed: {proc.stderr.strip()}")
            os.replace(out, binary)
    return binary


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the test process dies, however it dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _read_url(stdout: IO[bytes], proc: subprocess.Popen[bytes], deadline: float) -> str:
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stdout], [], [], 0.1)
        if ready:
            line = stdout.readline().decode().strip()
            if line:
                return line
        if proc.poll() is not None:
            break
    raise VcsimUnavailable(f"vcsim did not print its URL (exit status {proc.poll()})")


def _wait_until_answering(url: str, deadline: float) -> None:
    versions = url.rstrip("/") + "/vimServiceVersions.xml"
    while True:
        try:
            with urllib.request.urlopen(versions, timeout=1) as reply:
                if reply.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        if time.monotonic() > deadline:
            raise VcsimUnavailable(f"vcsim did not answer at {versions}")
        time.sleep(0.05)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    if proc.stdin is not None:
        proc.stdin.close()
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextmanager
def running_vcsim(timeout: float = 30.0) -> Iterator[Vcsim]:
    """Build (once) and start vcsim on a free loopback port; stop it afterwards."""
    binary = build_vcsim(find_main_go())
    proc = subprocess.Popen(
        [str(binary), "-listen", "127.0.0.1:0", "-username", USERNAME, "-password", PASSWORD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    atexit.register(_stop, proc)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout
        printed = urllib.parse.urlsplit(_read_url(proc.stdout, proc, deadline))
        url = printed._replace(netloc=printed.netloc.rpartition("@")[2]).geturl()
        _wait_until_answering(url, deadline)
        yield Vcsim(url=url, username=USERNAME, password=PASSWORD, process=proc)
    finally:
        _stop(proc)
        atexit.unregister(_stop)
