"""nova-compute with the ironic driver, found by its entry point, against a real Ironic server."""

from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

import nova_ironic.driver  # noqa: F401  (named by the wheel's entry point; a dependency)
from nova_common.testing.cli import installed_drivers, installed_wheel, run_error, run_json
from nova_ironic.ironic_fixture import IronicPeer, unique_resource_class

pytest_plugins = ["nova_ironic.ironic_fixture"]


_installed = installed_wheel("nova-ironic")


@pytest.fixture
def argv(tmp_path: Path, ironic_peer: IronicPeer) -> list[str]:
    """nova-compute's options for a compute service managing two fresh nodes."""
    rc = unique_resource_class()
    ironic_peer.enroll(rc, count=2)
    return [
        "--state-dir", str(tmp_path / "state"),
        "--driver", "ironic",
        "--driver-opt", f"url={ironic_peer.url}",
        "--driver-opt", f"resource_class={rc}",
        "--driver-opt", f"image_base_url={ironic_peer.image_base_url}",
        "--format", "json",
    ]  # fmt: skip


def _json(capsys: pytest.CaptureFixture[str], argv: list[str], *command: str) -> list[dict[str, Any]]:
    return run_json(capsys, *argv, *command)


def test_boot_list_reboot_stop_start_delete_across_restarts(
    argv: list[str], ironic_peer: IronicPeer, capsys: pytest.CaptureFixture[str]
) -> None:
    [booted] = _json(capsys, argv, "boot", "web1")
    assert (booted["vm_state"], booted["power_state"]) == ("active", "running")
    _json(capsys, argv, "boot", "web2", "--flavor", "m1.small")
    [stopped] = _json(capsys, argv, "stop", "web2")
    assert (stopped["vm_state"], stopped["power_state"]) == ("stopped", "shutdown")

    # Every main() call is a fresh compute service: records come from SQLite, nodes from Ironic.
    listed = {r["name"]: r for r in _json(capsys, argv, "list")}
    assert set(listed) == {"web1", "web2"}
    assert listed["web2"]["power_state"] == "shutdown"
    assert _json(capsys, argv, "sync") == []

    [rebooted] = _json(capsys, argv, "reboot", "web1", "--hard")
    assert rebooted["power_state"] == "running"
    [started] = _json(capsys, argv, "start", "web2")
    assert started["power_state"] == "running"
    [shown] = _json(capsys, argv, "show", "web1")
    node = ironic_peer.conn.baremetal.get_node(shown["hypervisor_id"])
    assert (shown["hypervisor"], node.instance_id) == ("running", booted["uuid"])
    hosts = _json(capsys, argv, "host")
    assert sorted((h["memory_mb_used"], h["memory_mb"]) for h in hosts) == [(8192, 8192), (8192, 8192)]
    assert {h["hypervisor"] for h in hosts} == {"ironic 1"}

    _json(capsys, argv, "delete", "web1")
    _json(capsys, argv, "delete", "web2")
    assert _json(capsys, argv, "list") == []
    assert sorted(h["memory_mb_used"] for h in _json(capsys, argv, "host")) == [0, 0]


def test_boot_without_a_free_node_fails_in_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    _json(capsys, argv, "boot", "a")
    _json(capsys, argv, "boot", "b")
    err = run_error(capsys, *argv, "boot", "c")
    # Refused before anything is created: every node's memory is taken (a baremetal node is whole).
    assert err.startswith("flavor m1.tiny does not fit node ")
    assert "needs 512 MB of memory, 0 free (8192 x allocation ratio 1 - 8192 used)" in err
    assert [r["name"] for r in _json(capsys, argv, "list")] == ["a", "b"]


def test_unreachable_ironic_fails_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from nova_ironic.ironic_fixture import free_port

    url = f"http://127.0.0.1:{free_port()}"
    err = run_error(capsys, "--state-dir", str(tmp_path), "--driver", "ironic", "--driver-opt", f"url={url}", "list")
    assert err.startswith(f"Ironic failed to reach the Ironic API at {url}: ")


def test_missing_url_names_the_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = run_error(capsys, "--state-dir", str(tmp_path), "--driver", "ironic", "list")
    assert err.startswith("invalid option 'url' for driver 'ironic': required")


def test_ironic_is_installed_as_a_driver(capsys: pytest.CaptureFixture[str]) -> None:
    assert installed_drivers(capsys)["ironic"] == f"nova-ironic {version('nova-ironic')}"
