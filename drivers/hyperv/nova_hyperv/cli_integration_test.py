"""nova-compute with the hyperv driver, found by its entry point, against the os-win contract fake."""

from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

import nova_hyperv.driver  # noqa: F401  (named by the wheel's entry point; a dependency)
from nova_common.testing.cli import installed_drivers, installed_wheel, run_error, run_json
from nova_hyperv.oswin_fake import FakeUtilsFactory

_installed = installed_wheel("nova-hyperv")


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> FakeUtilsFactory:
    # One fake Hyper-V host for the whole test, through the driver's seam: it outlives every
    # main() call, like a real host.
    factory = FakeUtilsFactory()
    monkeypatch.setattr(nova_hyperv.driver, "utils_factory", factory)
    return factory


def _json(capsys: pytest.CaptureFixture[str], state: Path, *argv: str) -> list[dict[str, Any]]:
    argv = (
        "--driver",
        "hyperv",
        "--driver-opt",
        "vm_generation=2",
        "--state-dir",
        str(state),
        "--format",
        "json",
        *argv,
    )
    return run_json(capsys, *argv)


def test_boot_list_reboot_stop_start_delete_across_restarts(
    tmp_path: Path, host: FakeUtilsFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    [booted] = _json(capsys, state, "boot", "web1")
    assert (booted["vm_state"], booted["power_state"]) == ("active", "running")
    _json(capsys, state, "boot", "web2", "--flavor", "m1.small")
    _json(capsys, state, "stop", "web2")

    listed = {r["name"]: r for r in _json(capsys, state, "list")}
    assert set(listed) == {"web1", "web2"}
    assert listed["web2"]["power_state"] == "shutdown"
    assert _json(capsys, state, "sync") == []

    [rebooted] = _json(capsys, state, "reboot", "web1", "--hard")
    assert rebooted["power_state"] == "running"
    [started] = _json(capsys, state, "start", "web2")
    assert started["power_state"] == "running"
    [shown] = _json(capsys, state, "show", "web1")
    vm = next(v for v in host.vmutils.vms if v.notes == [booted["uuid"]])
    assert (shown["hypervisor"], shown["hypervisor_id"]) == ("running", vm.vm_id)
    [node] = _json(capsys, state, "host")
    assert node["hypervisor"] == "hyperv 10.0.20348" and node["vcpus"] == 8

    _json(capsys, state, "delete", "web1")
    _json(capsys, state, "delete", "web2")
    assert _json(capsys, state, "list") == []
    assert host.vmutils.vms == []


def test_hyperv_is_installed_as_a_driver(capsys: pytest.CaptureFixture[str]) -> None:
    assert installed_drivers(capsys)["hyperv"] == f"nova-hyperv {version('nova-hyperv')}"


def test_real_os_win_on_linux_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # No seam override: the real os_win.utilsfactory, which needs Windows.
    err = run_error(capsys, "--driver", "hyperv", "--state-dir", str(tmp_path / "state"), "list")
    assert err.startswith("os-win needs Windows/WMI; it cannot reach Hyper-V on this ")


def test_suspend_of_stopped_instance_fails_cleanly(
    tmp_path: Path, host: FakeUtilsFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    _json(capsys, tmp_path / "state", "boot", "web1")
    _json(capsys, tmp_path / "state", "stop", "web1")
    argv = ["--driver", "hyperv", "--driver-opt", "vm_generation=2", "--state-dir", str(tmp_path / "state")]
    err = run_error(capsys, *argv, "pause", "web1")
    assert err.startswith("cannot pause instance ") and err.endswith("while it is shutdown")
