"""nova-compute with the vmware driver, found by its entry point, against a real vcsim."""

from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

import nova_vmware.driver  # noqa: F401  (named by the wheel's entry point; a dependency)
from nova_common.testing.cli import installed_drivers, installed_wheel, run_error, run_json
from nova_vmware.vcsim_fixture import Vcsim

_installed = installed_wheel("nova-vmware")


def _argv(vcsim: Vcsim, state: Path, *argv: str) -> list[str]:
    opts = [f"url=http://{vcsim.username}:{vcsim.password}@{vcsim.url.split('://', 1)[1]}", "cluster=DC0_C0"]
    driver = ["--driver", "vmware", *(a for o in opts for a in ("--driver-opt", o))]
    return ["--state-dir", str(state), "--format", "json", *driver, *argv]


def _json(capsys: pytest.CaptureFixture[str], vcsim: Vcsim, state: Path, *argv: str) -> list[dict[str, Any]]:
    return run_json(capsys, *_argv(vcsim, state, *argv))


def test_boot_list_reboot_stop_start_delete_across_restarts(
    tmp_path: Path, vcsim: Vcsim, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    [booted] = _json(capsys, vcsim, state, "boot", "web1")
    assert (booted["vm_state"], booted["power_state"]) == ("active", "running")
    _json(capsys, vcsim, state, "boot", "web2", "--flavor", "m1.small")
    [stopped] = _json(capsys, vcsim, state, "stop", "web2")
    assert stopped["power_state"] == "shutdown"

    # Every main() call is a fresh compute service and a fresh vSphere session: records come
    # from SQLite, VMs from vcsim; the two agree.
    listed = {r["name"]: r for r in _json(capsys, vcsim, state, "list")}
    assert set(listed) == {"web1", "web2"}
    assert (listed["web1"]["power_state"], listed["web2"]["power_state"]) == ("running", "shutdown")
    assert _json(capsys, vcsim, state, "sync") == []

    [rebooted] = _json(capsys, vcsim, state, "reboot", "web1")
    assert rebooted["power_state"] == "running"
    [rebooted] = _json(capsys, vcsim, state, "reboot", "web1", "--hard")
    assert rebooted["power_state"] == "running"
    [shown] = _json(capsys, vcsim, state, "show", "web1")
    assert shown["hypervisor"] == "running" and shown["hypervisor_id"].startswith("vm-")
    [host] = _json(capsys, vcsim, state, "host")
    assert host["node"] == "DC0_C0" and host["hypervisor"] == "VMware vCenter Server 6.5.0"
    assert (host["memory_mb_used"], host["memory_mb"], host["vcpus_used"], host["vcpus"]) == (2560, 12286, 2, 6)

    [started] = _json(capsys, vcsim, state, "start", "web2")
    assert started["power_state"] == "running"
    _json(capsys, vcsim, state, "delete", "web1")
    _json(capsys, vcsim, state, "delete", "web2")
    assert _json(capsys, vcsim, state, "list") == []
    [host] = _json(capsys, vcsim, state, "host")
    assert (host["memory_mb_used"], host["memory_mb"]) == (0, 12286)


def test_vmware_is_installed_as_a_driver(capsys: pytest.CaptureFixture[str]) -> None:
    assert installed_drivers(capsys)["vmware"] == f"nova-vmware {version('nova-vmware')}"


def test_pause_is_refused_as_unsupported(tmp_path: Path, vcsim: Vcsim, capsys: pytest.CaptureFixture[str]) -> None:
    _json(capsys, vcsim, tmp_path / "state", "boot", "web1")
    assert (
        run_error(capsys, *_argv(vcsim, tmp_path / "state", "pause", "web1"))
        == "driver 'vmware' does not support pause"
    )
    _json(capsys, vcsim, tmp_path / "state", "delete", "web1")


def test_expected_failures_print_one_line(tmp_path: Path, vcsim: Vcsim, capsys: pytest.CaptureFixture[str]) -> None:
    state = str(tmp_path / "state")
    assert run_error(capsys, "--state-dir", state, "--driver", "vmware", "list") == (
        "invalid option 'url' for driver 'vmware': required: the vSphere SDK URL, e.g. https://vcenter.example.org/sdk"
    )
    argv = ["--state-dir", state, "--driver", "vmware", "--driver-opt", "url=http://u:p@127.0.0.1:1/sdk", "list"]
    assert run_error(capsys, *argv).startswith("vmware failed to connect to http://127.0.0.1:1/sdk: ")
