"""nova-compute with the libvirt driver, found by its entry point, on the embedded test hypervisor."""

from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

import nova_libvirt.driver  # noqa: F401  (named by the wheel's entry point; a dependency)
from nova_common.testing.cli import installed_drivers, installed_wheel, run_error, run_json

_installed = installed_wheel("nova-libvirt")


def _json(capsys: pytest.CaptureFixture[str], state: Path, *argv: str) -> list[dict[str, Any]]:
    # libvirt is the default driver: no --driver, no driver options.
    return run_json(capsys, "--state-dir", str(state), "--format", "json", *argv)


def test_boot_list_reboot_delete_across_restarts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    [booted] = _json(capsys, tmp_path / "state", "boot", "web1")
    assert (booted["vm_state"], booted["power_state"]) == ("active", "running")
    _json(capsys, tmp_path / "state", "boot", "web2", "--flavor", "m1.small")
    _json(capsys, tmp_path / "state", "stop", "web2")

    # Every main() call is a fresh compute service: records come from SQLite, guests from the
    # persisted test hypervisor; the two agree.
    listed = {r["name"]: r for r in _json(capsys, tmp_path / "state", "list")}
    assert set(listed) == {"web1", "web2"}
    assert listed["web2"]["power_state"] == "shutdown"
    assert _json(capsys, tmp_path / "state", "sync") == []

    [rebooted] = _json(capsys, tmp_path / "state", "reboot", "web1", "--hard")
    assert rebooted["power_state"] == "running"
    [shown] = _json(capsys, tmp_path / "state", "show", "web1")
    assert (shown["hypervisor"], shown["hypervisor_id"]) == ("running", booted["uuid"])
    [host] = _json(capsys, tmp_path / "state", "host")
    assert (host["memory_mb"], host["memory_mb_used"], host["disk_gb"]) == (16384, 2560, 100)
    assert host["hypervisor"].startswith("TEST ")

    _json(capsys, tmp_path / "state", "delete", "web1")
    _json(capsys, tmp_path / "state", "delete", "web2")
    assert _json(capsys, tmp_path / "state", "list") == []


def test_libvirt_is_installed_as_a_driver(capsys: pytest.CaptureFixture[str]) -> None:
    assert installed_drivers(capsys)["libvirt"] == f"nova-libvirt {version('nova-libvirt')}"


def test_reboot_of_stopped_instance_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _json(capsys, tmp_path / "state", "boot", "web1")
    _json(capsys, tmp_path / "state", "stop", "web1")
    err = run_error(capsys, "--state-dir", str(tmp_path / "state"), "reboot", "web1")
    assert err.startswith("cannot reboot instance ") and err.endswith("while it is shutdown")
