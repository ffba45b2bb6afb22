"""xen-specific behaviour and failure paths, against the wire-level XenAPI fake."""

import http.server
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nova_common.exception import InstanceNotFound, InvalidPowerState
from nova_common.objects import PowerState, RebootType
from nova_common.testing.factories import RecordingVirtAPI, make_flavor, make_image, make_instance, make_network_info
from nova_xen.config import XenConfig
from nova_xen.driver import NOVA_UUID_KEY, XenDriver
from nova_xen.exception import XenAuthError, XenConfigError, XenConnectionError, XenError
from nova_xen.xenapi_fake import FakeXenServer, running_fake


@pytest.fixture
def fake() -> Iterator[FakeXenServer]:
    with running_fake() as f:
        yield f


def _driver(tmp_path: Path, fake: FakeXenServer, **options: str) -> XenDriver:
    drv = XenDriver(RecordingVirtAPI(tmp_path), {"url": fake.url, "password": fake.password, **options})
    drv.init_host("h")
    return drv


def test_vms_are_found_again_by_a_new_driver(tmp_path: Path, fake: FakeXenServer) -> None:
    first = _driver(tmp_path, fake)
    running, paused, stopped = (make_instance(name=n) for n in ("running", "paused", "stopped"))
    for inst in (running, paused, stopped):
        first.spawn(inst, make_image(), make_network_info())
    first.pause(paused)
    first.power_off(stopped)
    first.cleanup_host("h")
    assert fake.sessions == set()  # logged out

    second = _driver(tmp_path, fake)
    assert sorted(second.list_instances()) == sorted(i.uuid for i in (running, paused, stopped))
    assert second.get_info(running).state is PowerState.RUNNING
    assert second.get_info(paused).state is PowerState.PAUSED
    assert second.get_info(stopped).state is PowerState.SHUTDOWN


def test_vm_carries_nova_uuid_and_flavor_size(tmp_path: Path, fake: FakeXenServer) -> None:
    drv = _driver(tmp_path, fake)
    inst = make_instance(name="web1", flavor=make_flavor(vcpus=2, memory_mb=512))
    drv.spawn(inst, make_image(), make_network_info())
    [(ref, rec)] = [(r, v) for r, v in fake.vms.items() if v["other_config"].get(NOVA_UUID_KEY) == inst.uuid]
    assert (rec["name_label"], rec["memory_static_max"], rec["VCPUs_max"]) == ("web1", str(512 * 2**20), "2")
    info = drv.get_info(inst)
    assert (info.memory_mb, info.vcpus, info.internal_id) == (512, 2, rec["uuid"])
    res = drv.get_available_resource(drv.get_available_nodes()[0])
    assert (res.vcpus_used, res.memory_mb_used, res.local_gb_used) == (2, 512, 1)
    assert (res.hypervisor_type, res.vcpus, res.memory_mb, res.local_gb) == ("XCP-ng", 16, 32768, 500)


def test_control_domain_templates_and_foreign_vms_are_ignored(tmp_path: Path, fake: FakeXenServer) -> None:
    # dom0 and the template even carry a nova_uuid key; a VM made by someone else has none.
    foreign = fake._add_vm({"name_label": "someone else's", "power_state": "Running", "VCPUs_max": "4"})
    drv = _driver(tmp_path, fake)
    assert drv.list_instances() == []
    assert drv.get_available_resource(drv.get_available_nodes()[0]).vcpus_used == 0
    dom0_uuid = fake.vms[fake.dom0_ref]["other_config"][NOVA_UUID_KEY]
    with pytest.raises(InstanceNotFound):
        drv.power_off(make_instance(uuid=dom0_uuid))
    drv.destroy(make_instance(uuid=dom0_uuid), make_network_info())
    assert {fake.dom0_ref, fake.template_ref, foreign} <= set(fake.vms)
    assert fake.vms[fake.dom0_ref]["power_state"] == "Running"


def test_snapshots_are_not_instances_and_go_with_their_vm(tmp_path: Path, fake: FakeXenServer) -> None:
    drv = _driver(tmp_path, fake)
    inst = make_instance()
    drv.spawn(inst, make_image(), make_network_info())
    image = drv.snapshot(inst, "nightly")
    assert image.id == "nightly"
    snaps = [v for v in fake.vms.values() if v["is_a_snapshot"]]
    assert [s["name_label"] for s in snaps] == ["nightly"]
    assert snaps[0]["other_config"][NOVA_UUID_KEY] == inst.uuid  # xapi copies other_config
    assert drv.list_instances() == [inst.uuid]
    drv.destroy(inst, make_network_info())
    assert not [v for v in fake.vms.values() if v["is_a_snapshot"]]


def test_bad_power_state_from_xapi_is_invalid_power_state(tmp_path: Path, fake: FakeXenServer) -> None:
    drv = _driver(tmp_path, fake)
    inst = make_instance()
    drv.spawn(inst, make_image(), make_network_info())
    drv.power_off(inst)
    calls = len(fake.calls)
    with pytest.raises(InvalidPowerState, match=f"cannot suspend instance {inst.uuid} while it is shutdown"):
        drv.suspend(inst)
    assert "VM.suspend" in fake.calls[calls:]  # xapi refused it, not a check in the driver
    with pytest.raises(InvalidPowerState, match="cannot unpause .* while it is shutdown"):
        drv.unpause(inst)


def test_soft_reboot_and_clean_shutdown_fall_back_without_pv_drivers(tmp_path: Path, fake: FakeXenServer) -> None:
    drv = _driver(tmp_path, fake)
    inst = make_instance()
    drv.spawn(inst, make_image(), make_network_info())
    [ref] = [r for r, v in fake.vms.items() if v["other_config"].get(NOVA_UUID_KEY) == inst.uuid]
    fake.vms[ref]["other_config"]["fake_pv_drivers"] = "false"
    drv.reboot(inst, make_network_info(), RebootType.SOFT)
    assert fake.calls[-2:] == ["VM.clean_reboot", "VM.hard_reboot"]
    drv.power_off(inst, timeout=5)
    assert fake.calls[-2:] == ["VM.clean_shutdown", "VM.hard_shutdown"]
    assert drv.get_info(inst).state is PowerState.SHUTDOWN


def test_clean_shutdown_is_used_when_the_guest_can(tmp_path: Path, fake: FakeXenServer) -> None:
    drv = _driver(tmp_path, fake)
    inst = make_instance()
    drv.spawn(inst, make_image(), make_network_info())
    drv.power_off(inst, timeout=5)
    assert fake.calls[-1] == "VM.clean_shutdown"
    drv.power_on(inst, make_network_info())
    drv.suspend(inst)
    drv.power_on(inst, make_network_info())
    assert fake.calls[-1] == "VM.resume" and drv.get_info(inst).state is PowerState.RUNNING


def test_expired_session_is_renewed_transparently(tmp_path: Path, fake: FakeXenServer) -> None:
    drv = _driver(tmp_path, fake)
    fake.invalidate_sessions()
    assert drv.list_instances() == []


def test_failed_start_leaves_no_vm(tmp_path: Path, fake: FakeXenServer) -> None:
    drv = _driver(tmp_path, fake)
    # A host without enough free memory refuses VM.start; the driver must remove the new VM.
    fake.fail_next("VM.start", "HOST_NOT_ENOUGH_FREE_MEMORY", "134217728", "0")
    inst = make_instance()
    with pytest.raises(XenError, match="XenAPI failed to start .*HOST_NOT_ENOUGH_FREE_MEMORY"):
        drv.spawn(inst, make_image(), make_network_info())
    assert drv.list_instances() == []
    assert not [v for v in fake.vms.values() if v["other_config"].get(NOVA_UUID_KEY) == inst.uuid]


def test_wrong_password_is_the_drivers_auth_error(tmp_path: Path, fake: FakeXenServer) -> None:
    drv = XenDriver(RecordingVirtAPI(tmp_path), {"url": fake.url, "password": "nope"})
    with pytest.raises(XenAuthError, match=r"rejected the credentials of user 'root': Authentication failure$"):
        drv.init_host("h")


def test_unreachable_url_is_the_drivers_connection_error(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens on the port now.
    drv = XenDriver(RecordingVirtAPI(tmp_path), {"url": f"http://127.0.0.1:{port}/", "password": "x"})
    with pytest.raises(XenConnectionError, match=f"cannot reach XenAPI at http://127.0.0.1:{port}/: .*refused"):
        drv.init_host("h")


def test_a_url_that_is_not_xenapi_is_the_drivers_connection_error(tmp_path: Path) -> None:
    # A plain web server: it answers the XML-RPC POST with an HTTP error, not an envelope.
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        drv = XenDriver(RecordingVirtAPI(tmp_path), {"url": url, "password": "x"})
        with pytest.raises(XenConnectionError, match=f"cannot reach XenAPI at {url}: .*501"):
            drv.init_host("h")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_an_endpoint_that_never_answers_is_an_error_after_api_timeout(tmp_path: Path, scheme: str) -> None:
    # The kernel accepts the connection (listen backlog); nothing ever reads or answers, so
    # the XML-RPC request (https: the TLS handshake) waits for bytes that never come.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"{scheme}://127.0.0.1:{silent.getsockname()[1]}/"
        drv = XenDriver(RecordingVirtAPI(tmp_path), {"url": url, "password": "x", "api_timeout": "0.5"})
        started = time.monotonic()
        with pytest.raises(XenConnectionError, match=r"no answer within 0.5 s \(raise the api_timeout option\)$"):
            drv.init_host("h")
        assert time.monotonic() - started < 10


@pytest.mark.parametrize(("verify", "mode"), [("true", ssl.CERT_REQUIRED), ("false", ssl.CERT_NONE)])
def test_verify_tls_decides_the_certificate_check(verify: str, mode: ssl.VerifyMode) -> None:
    from nova_xen.driver import _transport

    transport = _transport(
        XenConfig.from_options({"url": "https://xen.example", "password": "x", "verify_tls": verify})
    )
    context = transport.context  # type: ignore[attr-defined]
    assert (context.verify_mode, context.check_hostname) == (mode, mode == ssl.CERT_REQUIRED)


def test_calls_before_init_host_are_a_driver_error(tmp_path: Path) -> None:
    drv = XenDriver(RecordingVirtAPI(tmp_path), {"url": "http://127.0.0.1:1/", "password": "x"})
    with pytest.raises(XenError, match="init_host"):
        drv.list_instances()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"password": "x"}, "'url'.*required"),
        ({"url": "xen.example", "password": "x"}, "'url'.*not an http"),
        ({"url": "https://xen.example"}, "'password'.*required"),
        ({"url": "https://xen.example", "password": "x", "username": ""}, "'username'.*empty"),
        ({"url": "https://xen.example", "password": "x", "verify_tls": "maybe"}, "'verify_tls'"),
        ({"url": "https://xen.example", "password": "x", "uri": "y"}, "'uri'.*unknown option"),
        ({"url": "https://xen.example", "password": "x", "api_timeout": "soon"}, "'api_timeout'.*not a number"),
        ({"url": "https://xen.example", "password": "x", "api_timeout": "0"}, "'api_timeout'.*positive"),
        ({"url": "https://xen.example", "password": "x", "api_timeout": "nan"}, "'api_timeout'.*positive"),
    ],
)
def test_bad_options_name_the_option(options: dict[str, str], message: str) -> None:
    with pytest.raises(XenConfigError, match=message):
        XenConfig.from_options(options)


def test_options_defaults() -> None:
    cfg = XenConfig.from_options({"url": "https://xen.example", "password": "p", "verify_tls": "false"})
    assert (cfg.username, cfg.verify_tls, cfg.api_timeout) == ("root", False, 60.0)


def test_smoke_options_parse_without_a_peer(tmp_path: Path) -> None:
    """`release cut`'s install check (docs/releases.md) loads the driver with these: nothing connects."""
    from nova_common.virtapi import LocalVirtAPI
    from nova_xen.driver import XenDriver

    assert "parsed" in XenDriver.smoke_check()
    driver = XenDriver(LocalVirtAPI(tmp_path), XenDriver.smoke_options)
    assert driver.name == "xen"
