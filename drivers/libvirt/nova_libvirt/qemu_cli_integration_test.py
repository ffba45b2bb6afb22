"""nova-compute on real QEMU guests: every command a fresh process, as an operator runs it.

Each ``nova-compute`` call is a new process with its own embedded libvirt on the same root (the
QEMU processes outlive it and the next one reconnects, as after a restart of a compute service);
records come back from SQLite, guests from libvirt, and the two agree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import nova_common.compute.cli  # noqa: F401  (run below as ``python -m``; a dependency)
import nova_libvirt.driver  # noqa: F401  (named by the entry point below; a dependency)
from nova_common.testing.distributions import install_distribution
from nova_libvirt.qemu_fixture import BOOT_TIMEOUT, QemuHost, qemu_host, qemu_processes


@pytest.fixture
def host(tmp_path: Path) -> Iterator[QemuHost]:
    with qemu_host(tmp_path) as h:
        yield h


class NovaCompute:
    """Runs ``nova-compute --driver libvirt --driver-opt ...`` in a fresh process per command."""

    def __init__(self, host: QemuHost, tmp_path: Path) -> None:
        site = tmp_path / "site"
        entry_point = {"nova.compute.drivers": {"libvirt": "nova_libvirt.driver:LibvirtDriver"}}
        install_distribution(site, "nova-libvirt", "1.0.0", entry_point)
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
        self.base = [sys.executable, "-m", "nova_common.compute.cli", "--driver", "libvirt"]
        self.base += [f"--driver-opt={k}={v}" for k, v in host.options().items()]
        self.base += ["--state-dir", str(tmp_path / "state")]

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.base, *argv], capture_output=True, text=True, env=self.env, timeout=300)

    def json(self, *argv: str) -> list[dict[str, str]]:
        proc = self.run("--format", "json", *argv)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == ""
        return json.loads(proc.stdout) if proc.stdout.strip() else []

    def console_until(self, name: str, text: str, count: int = 1) -> str:
        deadline = time.monotonic() + BOOT_TIMEOUT
        while True:
            proc = self.run("console", name)
            assert proc.returncode == 0, proc.stderr
            if proc.stdout.count(text) >= count:
                return proc.stdout
            assert time.monotonic() < deadline, f"no {text!r} (x{count}) on {name}'s console:\n{proc.stdout[-2000:]}"
            time.sleep(2)


def _marker(console: str) -> str:
    return next(line.split()[-1] for line in console.splitlines() if "nova-guest: marker " in line)


def test_boot_reboot_stop_start_snapshot_delete_real_guests(host: QemuHost, tmp_path: Path) -> None:
    nova = NovaCompute(host, tmp_path)
    [web1] = nova.json("boot", "web1", "--flavor", "m1.nano")
    assert (web1["vm_state"], web1["power_state"]) == ("active", "running")
    console = nova.console_until("web1", "nova-guest: ready")
    assert "Linux version" in console and "nova-guest: marker written" in console
    marker = _marker(console)

    [rebooted] = nova.json("reboot", "web1", "--hard")
    assert rebooted["power_state"] == "running"
    nova.console_until("web1", "nova-guest: ready", count=2)

    [stopped] = nova.json("stop", "web1")
    assert stopped["power_state"] == "shutdown"
    assert qemu_processes(host.root) == []
    [listed] = nova.json("list")
    assert (listed["name"], listed["power_state"]) == ("web1", "shutdown")
    [started] = nova.json("start", "web1")
    assert started["power_state"] == "running"
    console = nova.console_until("web1", "nova-guest: ready", count=3)
    assert f"nova-guest: marker found {marker}" in console

    [image] = nova.json("snapshot", "web1", "web1-snap")
    assert (image["image"], image["disk_format"]) == ("web1-snap", "qcow2")
    assert (host.image_dir / "web1-snap").is_file()
    [web2] = nova.json("boot", "web2", "--flavor", "m1.nano", "--image", "web1-snap")
    assert f"nova-guest: marker found {marker}" in nova.console_until("web2", "nova-guest: ready")

    assert {r["name"]: r["power_state"] for r in nova.json("list")} == {"web1": "running", "web2": "running"}
    assert nova.run("sync").stdout.strip() == "in sync: nothing changed"
    [hostrow] = nova.json("host")
    assert hostrow["hypervisor"].startswith("QEMU ")
    assert len(qemu_processes(host.root)) == 2

    # `console` is the tail of a long log: web2's boot text scrolls out once more has been written
    # (QEMU appends to the log, append="on"; web2 is stopped so nothing writes beside the test)
    nova.json("stop", "web2")
    log = tmp_path / "state" / "instances" / web2["uuid"] / "console.log"
    with open(log, "a") as f:
        f.write("".join(f"line {n:06d} of a long-running guest's console\n" for n in range(4000)) + "the end\n")
    tail = nova.run("console", "web2").stdout
    assert tail.endswith("line 003999 of a long-running guest's console\nthe end\n"), tail[-200:]
    assert "Linux version" not in tail and len(tail.encode()) <= 100 * 1024 < log.stat().st_size, len(tail)

    nova.json("delete", "web1")
    nova.json("delete", "web2")
    assert nova.json("list") == []
    assert qemu_processes(host.root) == []
    assert not list((tmp_path / "state" / "instances").iterdir())


def test_missing_image_is_one_line(host: QemuHost, tmp_path: Path) -> None:
    nova = NovaCompute(host, tmp_path)
    proc = nova.run("boot", "web1", "--image", "no-such-image")
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "no-such-image" in proc.stderr and "put the image" in proc.stderr
    assert nova.json("list") == []
