"""The fake itself, driven through the real XenAPI client: does it answer like xapi?"""

import socket
import xmlrpc.client
from collections.abc import Iterator
from typing import Any

import pytest
import XenAPI

from nova_xen.xenapi_fake import FakeXenServer, running_fake


@pytest.fixture
def fake() -> Iterator[FakeXenServer]:
    with running_fake() as f:
        yield f


@pytest.fixture
def session(fake: FakeXenServer) -> Iterator[Any]:
    s = XenAPI.Session(fake.url)
    s.login_with_password("root", "xenroot", "2.0", "test")
    yield s
    s.xenapi.session.logout()


def _new_vm(session: Any) -> str:
    record: dict[str, Any] = {field: "" for field in ("name_label", "name_description", "user_version", "affinity")}
    record.update(
        is_a_template=False,
        memory_static_max="134217728",
        memory_static_min="134217728",
        memory_dynamic_max="134217728",
        memory_dynamic_min="134217728",
        VCPUs_max="1",
        VCPUs_at_startup="1",
        VCPUs_params={},
        actions_after_shutdown="destroy",
        actions_after_reboot="restart",
        actions_after_crash="destroy",
        PV_bootloader="",
        PV_kernel="",
        PV_ramdisk="",
        PV_args="",
        PV_bootloader_args="",
        PV_legacy_args="",
        HVM_boot_policy="BIOS order",
        HVM_boot_params={},
        platform={},
        PCI_bus="",
        other_config={},
        recommendations="",
    )
    ref: str = session.xenapi.VM.create(record)
    return ref


def test_wrong_password_is_session_authentication_failed(fake: FakeXenServer) -> None:
    s = XenAPI.Session(fake.url)
    with pytest.raises(XenAPI.Failure) as exc:
        s.login_with_password("root", "wrong", "2.0", "test")
    assert exc.value.details == ["SESSION_AUTHENTICATION_FAILED", "root", "Authentication failure"]


def test_unknown_session_is_session_invalid_on_the_wire(fake: FakeXenServer) -> None:
    raw = xmlrpc.client.ServerProxy(fake.url)
    answer = getattr(raw, "VM.get_all")("OpaqueRef:not-a-session")
    assert answer == {"Status": "Failure", "ErrorDescription": ["SESSION_INVALID", "OpaqueRef:not-a-session"]}


def test_client_logs_in_again_after_session_invalid(fake: FakeXenServer, session: Any) -> None:
    fake.invalidate_sessions()
    assert fake.dom0_ref in session.xenapi.VM.get_all()
    assert fake.calls.count("session.login_with_password") == 2


def test_power_state_machine_follows_xapi(session: Any) -> None:
    ref = _new_vm(session)
    assert session.xenapi.VM.get_record(ref)["power_state"] == "Halted"
    with pytest.raises(XenAPI.Failure) as exc:
        session.xenapi.VM.pause(ref)
    assert exc.value.details == ["VM_BAD_POWER_STATE", ref, "running", "halted"]
    session.xenapi.VM.start(ref, False, False)
    session.xenapi.VM.pause(ref)
    with pytest.raises(XenAPI.Failure, match="VM_BAD_POWER_STATE"):
        session.xenapi.VM.suspend(ref)
    session.xenapi.VM.unpause(ref)
    session.xenapi.VM.suspend(ref)
    assert session.xenapi.VM.get_power_state(ref) == "Suspended"
    with pytest.raises(XenAPI.Failure, match="VM_BAD_POWER_STATE"):
        session.xenapi.VM.start(ref, False, False)
    session.xenapi.VM.resume(ref, False, False)
    with pytest.raises(XenAPI.Failure) as exc:
        session.xenapi.VM.destroy(ref)
    assert exc.value.details == ["VM_BAD_POWER_STATE", ref, "halted", "running"]
    session.xenapi.VM.hard_shutdown(ref)
    session.xenapi.VM.destroy(ref)
    with pytest.raises(XenAPI.Failure) as exc:
        session.xenapi.VM.get_record(ref)
    assert exc.value.details == ["HANDLE_INVALID", "VM", ref]


def test_control_domain_and_templates_refuse_lifecycle_calls(fake: FakeXenServer, session: Any) -> None:
    with pytest.raises(XenAPI.Failure, match="OPERATION_NOT_ALLOWED"):
        session.xenapi.VM.hard_shutdown(fake.dom0_ref)
    with pytest.raises(XenAPI.Failure) as exc:
        session.xenapi.VM.start(fake.template_ref, False, False)
    assert exc.value.details == ["VM_IS_TEMPLATE", fake.template_ref]


def test_create_needs_the_full_record(session: Any) -> None:
    with pytest.raises(XenAPI.Failure) as exc:
        session.xenapi.VM.create({"name_label": "half"})
    assert exc.value.details[0] == "FIELD_TYPE_ERROR"


def test_snapshot_is_a_template_listed_on_its_vm(session: Any) -> None:
    ref = _new_vm(session)
    snap = session.xenapi.VM.snapshot(ref, "before-upgrade")
    rec = session.xenapi.VM.get_record(snap)
    assert (rec["is_a_snapshot"], rec["is_a_template"], rec["snapshot_of"]) == (True, True, ref)
    assert session.xenapi.VM.get_record(ref)["snapshots"] == [snap]
    assert session.xenapi.VM.get_by_uuid(rec["uuid"]) == snap


def test_integers_travel_as_strings(fake: FakeXenServer, session: Any) -> None:
    host = session.xenapi.session.get_this_host(session.handle)
    assert host == fake.host_ref
    metrics = session.xenapi.host_metrics.get_record(session.xenapi.host.get_record(host)["metrics"])
    assert isinstance(metrics["memory_total"], str) and int(metrics["memory_total"]) > 0


def test_stop_releases_the_port() -> None:
    fake = FakeXenServer().start()
    port = int(fake.url.rsplit(":", 1)[1].strip("/"))
    fake.stop()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # would fail with EADDRINUSE if the fake still held it
