"""The real-QEMU test tier's peer: an isolated embedded libvirt, its guest and its guests' consoles.

:func:`qemu_host` gives a private ``qemu:///embed?root=DIR`` (libvirt's QEMU driver inside the test
process: no daemon, no shared state; QEMU runs as root under TCG) with an image directory holding
the guest of :mod:`.guest_image` as image ``cirros-0.6`` (the id the factories use), and driver
options that boot it. No QEMU process outlives it:

* a reaper process started in a session of its own waits for its stdin pipe to close: when the
  context exits, or when the test process dies however it dies (SIGKILL too). Then it kills
  every process whose command line names the host's libvirt root (QEMU's do: monitor socket,
  pid file, master key) and removes it and the image directory.

:class:`Console` reads a guest's serial log and waits for the ``nova-guest:`` lines its /init
prints (see :data:`.guest_image.GUEST_INIT`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from nova_libvirt.guest_image import GuestImage, build_guest_image

__all__ = ["BOOT_TIMEOUT", "Console", "QemuHost", "qemu_host", "qemu_processes"]

#: Seconds a TCG guest gets to reach a console line; generous, as CI machines are shared.
BOOT_TIMEOUT = 180.0
#: The image id the guest is stored under (the factories' default image).
IMAGE_ID = "cirros-0.6"

# Run by ``python -c ROOT FILES`` in its own session: wait for the test process's pipe to close,
# then kill every process naming ROOT on its command line, and remove both directories.
_REAPER = r"""
import os, shutil, signal, sys, time
root = sys.argv[1]
sys.stdin.buffer.read()
def named():
    pids = []
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if root.encode() + b"/" in f.read():
                        pids.append(int(pid))
            except OSError:
                pass
    return pids
for _ in range(50):
    pids = named()
    if not pids:
        break
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    time.sleep(0.1)
for path in sys.argv[1:]:
    shutil.rmtree(path, ignore_errors=True)
"""

_QEMU_CONF = """# Written by nova_libvirt.qemu_fixture: a private embedded QEMU driver for tests.
user = "root"
group = "root"
stdio_handler = "file"
remember_owner = 0
"""


def qemu_processes(root: Path) -> list[int]:
    """Pids of QEMU processes whose command line names ``root`` (the guests of that libvirt)."""
    needle = str(root).encode() + b"/"
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.startswith(b"/usr/bin/qemu-system") or b"qemu-system-" in cmdline.split(b"\0")[0]:
            if needle in cmdline:
                pids.append(int(entry.name))
    return pids


@dataclass(frozen=True)
class QemuHost:
    """An isolated embedded libvirt and what the driver needs to boot the test guest on it."""

    root: Path
    image_dir: Path
    guest: GuestImage

    @property
    def uri(self) -> str:
        return f"qemu:///embed?root={self.root}"

    def options(self, **extra: str) -> dict[str, str]:
        """Driver options: this libvirt, TCG, the image directory, the guest's kernel and initrd."""
        return {
            "uri": self.uri,
            "virt_type": "qemu",
            "image_dir": str(self.image_dir),
            "kernel": str(self.guest.kernel),
            "initrd": str(self.guest.initrd),
            "cmdline": self.guest.cmdline,
            **extra,
        }


@contextmanager
def qemu_host(base: Path | None = None) -> Iterator[QemuHost]:
    """Build the guest (once per machine), start a reaper, yield the host; clean up after.

    Images go under ``base`` (default: the temp dir); libvirt's root is a short directory of the
    temp dir of its own, as QEMU's monitor socket paths under it must stay under 108 bytes.
    """
    guest = build_guest_image()
    root = Path(tempfile.mkdtemp(prefix="nq-"))
    files = Path(tempfile.mkdtemp(prefix="nova-qemu-", dir=base))
    (root / "etc").mkdir()
    (root / "etc" / "qemu.conf").write_text(_QEMU_CONF)
    image_dir = files / "images"
    image_dir.mkdir()
    shutil.copy(guest.base_disk, image_dir / IMAGE_ID)
    reaper = subprocess.Popen(
        [sys.executable, "-c", _REAPER, str(root), str(files)],
        stdin=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        yield QemuHost(root=root, image_dir=image_dir, guest=guest)
    finally:
        # The reaper does the clean-up in every case: killing QEMU is what libvirt's destroy does.
        assert reaper.stdin is not None
        reaper.stdin.close()
        reaper.wait(timeout=60)


class Console:
    """A guest's serial console log (appended across boots) and waits on its lines."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def text(self) -> str:
        try:
            return self.path.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def lines(self) -> list[str]:
        """The ``nova-guest:`` lines so far, without the prefix."""
        return [line.split("nova-guest: ", 1)[1].strip() for line in self.text().splitlines() if "nova-guest: " in line]

    def count(self, pattern: str) -> int:
        return sum(1 for line in self.lines() if re.fullmatch(pattern, line))

    def wait_for(self, pattern: str, *, occurrence: int = 1, timeout: float = BOOT_TIMEOUT) -> re.Match[str]:
        """The ``occurrence``-th guest line matching ``pattern`` in full, waiting for it."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in (re.fullmatch(pattern, line) for line in self.lines()) if m]
            if len(found) >= occurrence:
                return found[occurrence - 1]
            if time.monotonic() > deadline:
                tail = "\n".join(self.text().splitlines()[-15:])
                raise AssertionError(
                    f"no guest line {pattern!r} (#{occurrence}) after {timeout}s; console tail:\n{tail}"
                )
            time.sleep(0.2)

    def last_tick(self) -> int:
        ticks = [int(line.split()[1]) for line in self.lines() if re.fullmatch(r"tick \d+", line)]
        return ticks[-1] if ticks else 0
