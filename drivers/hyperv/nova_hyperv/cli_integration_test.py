"""nova-compute with the hyperv driver, found by its entry point, against the os-win contract fake."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import nova_hyperv.driver  # noqa: F401  (named by the entry point below; a dependency)
from nova_common.compute.cli import main
from nova_common.testing.distributions import install_distribution
from nova_hyperv.oswin_fake import FakeUtilsFactory


@pytest.fixture(autouse=True)
def _installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    site = tmp_path / "site"
    entry_point = {"nova.compute.drivers": {"hyperv": "nova_hyperv.driver:HyperVDriver"}}
    install_distribution(site, "nova-hyperv", "1.0.0", entry_point)
    monkeypatch.syspath_prepend(str(site))
    yield


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
    assert main(list(argv)) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    return json.loads(out) if out.strip().startswith("[") else []


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
    assert main(["--format", "json", "drivers"]) == 0
    drivers = {d["driver"]: d["distribution"] for d in json.loads(capsys.readouterr().out)}
    assert drivers["hyperv"] == "nova-hyperv 1.0.0"


def test_real_os_win_on_linux_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # No seam override: the real os_win.utilsfactory, which needs Windows.
    assert main(["--driver", "hyperv", "--state-dir", str(tmp_path / "state"), "list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nova-compute: error: os-win needs Windows/WMI; it cannot reach Hyper-V on this ")
    assert err.count("\n") == 1


def test_suspend_of_stopped_instance_fails_cleanly(
    tmp_path: Path, host: FakeUtilsFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    _json(capsys, tmp_path / "state", "boot", "web1")
    _json(capsys, tmp_path / "state", "stop", "web1")
    argv = ["--driver", "hyperv", "--driver-opt", "vm_generation=2", "--state-dir", str(tmp_path / "state")]
    argv += ["pause", "web1"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("nova-compute: error: cannot pause instance ") and err.endswith("while it is shutdown\n")
