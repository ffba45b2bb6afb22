"""Redfish-managed real QEMU guests for the tests: sushy-tools' emulator over an embedded libvirt.

This is how Ironic's own CI gets "bare metal" without hardware: ``sushy-tools``' Redfish emulator
(PyPI) serves each libvirt domain as a Redfish ``ComputerSystem``, and Ironic's ``redfish`` power
interface turns it on and off through ``ComputerSystem.Reset``. Here:

* the emulator runs from a virtualenv of its own (``sushy-tools`` and ``libvirt-python``, pinned,
  built once per machine in the peer cache like the Ironic server's, see
  :func:`.ironic_fixture.build_peer_venv`); ``libvirt-python`` compiles against ``libvirt-dev``
  (``drivers/ironic/bindep.txt``);
* its libvirt is ``qemu:///embed?root=DIR`` inside the emulator's own process (an embedded
  connection belongs to one process, so the tests see the guests through the emulator, QEMU's
  command lines and the guests' serial logs), with a private root under
  ``~/.cache/nova-split/peers/sushy-run-*/`` (CI's stray-peer check looks for that name); QEMU
  runs as root under TCG;
* each guest is a 1 MiB raw disk whose boot sector (:data:`BOOT_SECTOR`) prints
  :data:`BOOT_LINE` on the first serial port and halts, so the serial log (appended across
  boots) counts the guest's boots. It has no operating system: it ignores the ACPI power
  button, so graceful power off and graceful restart are requests it does not obey;
* nothing outlives the fixture: the emulator dies with the test process (``PR_SET_PDEATHSIG``)
  and a reaper in a session of its own, waiting for its stdin pipe to close (at exit, or when the
  test process dies however it dies), kills every process whose command line names the root
  (the emulator and every QEMU: their disks and logs live there) and removes the root.

libvirt probes QEMU's capabilities the first time a root is used (tens of seconds under TCG on a
loaded machine); the probe's result is kept in the peer cache and seeded into later roots, where
libvirt revalidates it (a changed QEMU or libvirt is probed again).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from nova_ironic.ironic_fixture import PeerError, build_peer_venv, free_port

__all__ = [
    "BOOT_LINE",
    "BOOT_SECTOR",
    "SUSHY_CONSTRAINTS",
    "SUSHY_REQUIREMENTS",
    "RedfishHost",
    "redfish_host",
    "run_redfish_host",
]

#: What the emulator's virtualenv holds. Changing it builds a new virtualenv (the hash names it).
SUSHY_REQUIREMENTS = ("sushy-tools==2.2.0", "libvirt-python==12.8.0")
#: Everything sushy-tools 2.2.0 pulled in when this peer was verified, pinned.
SUSHY_CONSTRAINTS = """
bcrypt==5.0.0 blinker==1.9.0 certifi==2026.10.19.post1 charset-normalizer==3.5.3 click==8.5.1
Flask==3.1.3 idna==3.20 itsdangerous==2.2.0 Jinja2==3.1.6 MarkupSafe==3.0.4 pbr==7.1.3
requests==2.34.2 tenacity==9.2.1 urllib3==2.8.0 WebOb==1.8.11 Werkzeug==3.1.9
""".split()

#: What the guest prints on its serial console each time it boots.
BOOT_LINE = "nova-guest: boot"
# 16-bit real mode at 0x7c00: cli; xor ax,ax; mov ds,ax; cld; mov si,msg; mov dx,0x3f8;
# next: lodsb; test al,al; jz halt; out dx,al; jmp next; halt: hlt; jmp halt; msg: ...
_CODE = bytes.fromhex("fa 31c0 8ed8 fc be177c baf803 ac 84c0 7403 ee ebf8 f4 ebfd")
#: The guest's whole "operating system": a boot sector that prints :data:`BOOT_LINE` and halts.
BOOT_SECTOR = (_CODE + BOOT_LINE.encode() + b"\r\n\0").ljust(510, b"\0") + b"\x55\xaa"

#: Seconds the emulator gets to answer (the first QEMU capability probe is slow under load).
_START_TIMEOUT = 300.0

_QEMU_CONF = """# Written by nova_ironic.redfish_fixture: a private embedded QEMU driver for tests.
user = "root"
group = "root"
stdio_handler = "file"
remember_owner = 0
"""

_DOMAIN = """<domain type='qemu'>
  <name>{name}</name>
  <uuid>{uuid}</uuid>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/></features>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/><source file='{disk}'/><target dev='vda' bus='virtio'/>
    </disk>
    <serial type='file'><source path='{console}' append='on'/></serial>
  </devices>
</domain>
"""

# Run by the emulator virtualenv's python: ROOT PORT DOMAIN_XML... . The embedded QEMU driver
# needs an event loop; one connection serves the whole process.
_EMULATOR = r"""
import sys, threading, libvirt
root, port, xmls = sys.argv[1], sys.argv[2], sys.argv[3:]
libvirt.virEventRegisterDefaultImpl()
def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
uri = "qemu:///embed?root=" + root
conn = libvirt.open(uri)
for path in xmls:
    with open(path) as f:
        conn.defineXML(f.read())
# sushy-tools opens a connection per request; every open of an embedded URI registers the QEMU
# driver with libvirt anew until "Too many drivers, cannot register QEMU": share this one.
from sushy_tools.emulator.resources.systems import libvirtdriver
libvirtdriver.libvirt_open.__enter__ = lambda self: conn
libvirtdriver.libvirt_open.__exit__ = lambda self, *exc: None
from sushy_tools.emulator import main
sys.argv = ["sushy-emulator", "--interface", "127.0.0.1", "--port", port, "--libvirt-uri", uri]
sys.exit(main.main())
"""

# Run by ``python -c`` in its own session: wait for the test process's pipe to close, then kill
# every process naming ROOT/ on its command line (the emulator, QEMU) and remove ROOT.
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
for _ in range(100):
    pids = named()
    if not pids:
        break
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    time.sleep(0.1)
shutil.rmtree(root, ignore_errors=True)
"""


def _cache_root() -> Path:
    return Path.home() / ".cache" / "nova-split" / "peers"


def _die_with_parent() -> None:
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@dataclass
class RedfishHost:
    """A running Redfish emulator and the guests it serves (by name)."""

    url: str
    root: Path
    log: Path
    guests: dict[str, str]  # name -> libvirt domain uuid = Redfish system id

    def driver_info(self, guest: str) -> dict[str, str]:
        """An Ironic node's ``driver_info`` for the redfish power interface of ``guest``.

        ``redfish_verify_ca`` must be given (any value but true) on a ``fake-hardware`` node:
        without it Ironic looks up ``verify_ca`` in a configuration group named after the node's
        hardware type (``ironic/drivers/utils.py``, ``get_verify_ca``), and there is no
        ``[fake-hardware]`` group: validation fails with "no such option fake-hardware in group
        [DEFAULT]". The emulator speaks plain HTTP, so there is no certificate to verify."""
        return {
            "redfish_address": self.url,
            "redfish_system_id": f"/redfish/v1/Systems/{self.guests[guest]}",
            "redfish_verify_ca": "false",
        }

    def console(self, guest: str) -> Path:
        return self.root / "guests" / f"{guest}.log"

    def boots(self, guest: str) -> int:
        """How many times the guest has booted (lines in its serial log)."""
        path = self.console(guest)
        return path.read_text(errors="replace").count(BOOT_LINE) if path.exists() else 0

    def qemu_pids(self, guest: str) -> list[int]:
        """The QEMU processes running ``guest`` (at most one, unless something is wrong)."""
        needle = f"guest={guest},".encode()
        disk = str(self.root / "guests" / f"{guest}.img").encode()
        pids = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if needle in cmdline and disk in cmdline:
                pids.append(int(pid))
        return pids

    def power_state(self, guest: str) -> str:
        """The Redfish ``PowerState`` the emulator reports for ``guest``."""
        with urllib.request.urlopen(f"{self.url}/redfish/v1/Systems/{self.guests[guest]}", timeout=30) as answer:
            return str(json.load(answer)["PowerState"])

    def force_off(self, guest: str) -> None:
        """Power ``guest`` off behind Ironic's back (between tests)."""
        request = urllib.request.Request(
            f"{self.url}/redfish/v1/Systems/{self.guests[guest]}/Actions/ComputerSystem.Reset",
            data=json.dumps({"ResetType": "ForceOff"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with contextlib.suppress(urllib.error.HTTPError):  # already off
            urllib.request.urlopen(request, timeout=30).close()


def wait_until(predicate: object, what: str, timeout: float = 120.0) -> None:
    """Poll ``predicate()`` until it is true; fail the test naming ``what`` after ``timeout``."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


@contextlib.contextmanager
def run_redfish_host(guests: tuple[str, ...] = ("node0",)) -> Iterator[RedfishHost]:
    """Start the emulator with ``guests`` defined (powered off); stop it and every guest after."""
    if shutil.which("qemu-system-x86_64") is None:
        raise PeerError("the Redfish test peer needs QEMU: install qemu-system-x86 (see drivers/ironic/bindep.txt)")
    venv = build_peer_venv("sushy", SUSHY_REQUIREMENTS, SUSHY_CONSTRAINTS)
    _cache_root().mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="sushy-run-", dir=_cache_root()))
    reaper = subprocess.Popen(
        [str(venv / "bin" / "python"), "-c", _REAPER, str(root)],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        yield _start(venv, root, guests)
    finally:
        assert reaper.stdin is not None
        reaper.stdin.close()
        reaper.wait(timeout=60)


def _start(venv: Path, root: Path, names: tuple[str, ...]) -> RedfishHost:
    (root / "etc").mkdir()
    (root / "etc" / "qemu.conf").write_text(_QEMU_CONF)
    seed = _cache_root() / "sushy-qemu-capabilities"
    caps = root / "cache" / "qemu" / "capabilities"
    if seed.is_dir():
        shutil.copytree(seed, caps)
    (root / "guests").mkdir()
    guests = {}
    xmls = []
    for name in names:
        disk = root / "guests" / f"{name}.img"
        disk.write_bytes(BOOT_SECTOR.ljust(1 << 20, b"\0"))
        guests[name] = str(uuid.uuid4())
        xml = root / "guests" / f"{name}.xml"
        xml.write_text(_DOMAIN.format(name=name, uuid=guests[name], disk=disk, console=root / "guests" / f"{name}.log"))
        xmls.append(str(xml))
    port = free_port()
    log = root / "emulator.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(venv / "bin" / "python"), "-c", _EMULATOR, str(root), str(port), *xmls],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + _START_TIMEOUT
    while True:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise PeerError(f"the Redfish emulator exited with status {proc.returncode} at start: {' | '.join(tail)}")
        try:
            with urllib.request.urlopen(url + "/redfish/v1/Systems", timeout=5) as answer:
                if answer.status == 200:
                    break
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise PeerError(f"the Redfish emulator did not answer on {url} within {_START_TIMEOUT:.0f} s; see {log}")
        time.sleep(0.2)
    _keep_capabilities(caps, seed)
    return RedfishHost(url=url, root=root, log=log, guests=guests)


def _keep_capabilities(caps: Path, seed: Path) -> None:
    """Keep libvirt's QEMU capability probe for the next root (atomically: a rename)."""
    if seed.is_dir() or not caps.is_dir():
        return
    tmp = Path(tempfile.mkdtemp(prefix=".sushy-qemu-capabilities-", dir=seed.parent))
    shutil.copytree(caps, tmp, dirs_exist_ok=True)
    try:
        os.rename(tmp, seed)
    except OSError:  # another test process kept its copy first
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def redfish_host() -> Iterator[RedfishHost]:
    """One emulator per test process, serving guests ``node0`` and ``node1``."""
    with run_redfish_host(("node0", "node1")) as host:
        yield host
