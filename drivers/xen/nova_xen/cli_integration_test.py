"""nova-compute with the xen driver, found by its entry point, against the wire-level XenAPI fake."""

from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest

import nova_xen.driver  # noqa: F401  (named by the wheel's entry point; a dependency)
from nova_common.testing.cli import installed_drivers, installed_wheel, run_error, run_json
from nova_xen.xenapi_fake import FakeXenServer, running_fake

_installed = installed_wheel("nova-xen")


@pytest.fixture
def fake() -> Iterator[FakeXenServer]:
    # One fake XenServer for the whole test: it outlives every main() call, like a real host.
    with running_fake() as f:
        yield f


def _argv(fake: FakeXenServer, state: Path, password: str | None = None) -> list[str]:
    return [
        "--driver", "xen",
        "--driver-opt", f"url={fake.url}",
        "--driver-opt", "username=root",
        "--driver-opt", f"password={fake.password if password is None else password}",
        "--state-dir", str(state),
        "--format", "json",
    ]  # fmt: skip


def _json(capsys: pytest.CaptureFixture[str], fake: FakeXenServer, state: Path, *argv: str) -> list[dict[str, str]]:
    return run_json(capsys, *_argv(fake, state), *argv)


def test_boot_list_reboot_stop_start_delete_across_restarts(
    tmp_path: Path, fake: FakeXenServer, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    [booted] = _json(capsys, fake, state, "boot", "web1")
    assert (booted["vm_state"], booted["power_state"]) == ("active", "running")
    # the state directory names its hypervisor by URL and user; the password is never written
    written = b"".join(f.read_bytes() for f in state.rglob("*") if f.is_file())
    assert fake.url.encode() in written and fake.password.encode() not in written
    _json(capsys, fake, state, "boot", "web2", "--flavor", "m1.small")
    _json(capsys, fake, state, "stop", "web2")

    # Every main() call is a fresh compute service and a fresh XenAPI session: records come
    # from SQLite, VMs from the fake XenServer; the two agree.
    listed = {r["name"]: r for r in _json(capsys, fake, state, "list")}
    assert set(listed) == {"web1", "web2"}
    assert listed["web2"]["power_state"] == "shutdown"
    assert _json(capsys, fake, state, "sync") == []

    [rebooted] = _json(capsys, fake, state, "reboot", "web1", "--hard")
    assert rebooted["power_state"] == "running"
    [started] = _json(capsys, fake, state, "start", "web2")
    assert started["power_state"] == "running"
    [shown] = _json(capsys, fake, state, "show", "web1")
    xen_uuid = next(v["uuid"] for v in fake.vms.values() if v["other_config"].get("nova_uuid") == booted["uuid"])
    assert (shown["hypervisor"], shown["hypervisor_id"]) == ("running", xen_uuid)
    [host] = _json(capsys, fake, state, "host")
    assert host["hypervisor"] == "XCP-ng 8.2.1" and host["node"] == "xenserver-fake"

    _json(capsys, fake, state, "delete", "web1")
    _json(capsys, fake, state, "delete", "web2")
    assert _json(capsys, fake, state, "list") == []
    assert set(fake.vms) == {fake.dom0_ref, fake.template_ref}
    assert fake.sessions == set()  # every main() logged out


def test_xen_is_installed_as_a_driver(capsys: pytest.CaptureFixture[str]) -> None:
    assert installed_drivers(capsys)["xen"] == f"nova-xen {version('nova-xen')}"


def test_wrong_password_is_one_line(tmp_path: Path, fake: FakeXenServer, capsys: pytest.CaptureFixture[str]) -> None:
    err = run_error(capsys, *_argv(fake, tmp_path / "state", password="wrong"), "list")
    assert err == f"XenAPI at {fake.url} rejected the credentials of user 'root': Authentication failure"


def test_pause_of_stopped_instance_fails_cleanly(
    tmp_path: Path, fake: FakeXenServer, capsys: pytest.CaptureFixture[str]
) -> None:
    _json(capsys, fake, tmp_path / "state", "boot", "web1")
    _json(capsys, fake, tmp_path / "state", "stop", "web1")
    err = run_error(capsys, *_argv(fake, tmp_path / "state"), "pause", "web1")
    assert err.startswith("cannot pause instance ") and err.endswith("while it is shutdown")
