"""VMware-specific behaviour and failure paths, against a real vcsim."""

import http.server
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pyVmomi

from nova_common.exception import InstanceExists, InstanceNotFound, InvalidPowerState
from nova_common.objects import Instance, PowerState, RebootType
from nova_common.testing.factories import RecordingVirtAPI, make_flavor, make_image, make_instance, make_network_info
from nova_vmware.config import VMwareConfig
from nova_vmware.driver import VMwareDriver
from nova_vmware.exception import VMwareConfigError, VMwareError
from nova_vmware.vcsim_fixture import DEBIAN_PACKAGES, Vcsim, VcsimUnavailable, build_vcsim, find_main_go

# Tests use the vSphere API untyped, as the driver does (pyvmomi's stubs leave constructors untyped).
vim: Any = pyVmomi.vim


def _driver(tmp_path: Path, vcsim: Vcsim, **extra: str) -> VMwareDriver:
    drv = VMwareDriver(RecordingVirtAPI(tmp_path), vcsim.options(**extra))
    drv.init_host("h")
    return drv


@pytest.fixture
def driver(tmp_path: Path, vcsim: Vcsim) -> Iterator[VMwareDriver]:
    drv = _driver(tmp_path, vcsim)
    yield drv
    for uuid in drv.list_instances():
        drv.destroy(make_instance(uuid=uuid), make_network_info())
    drv.cleanup_host("h")


def _vm(drv: VMwareDriver, inst: Instance) -> Any:
    return drv.content.searchIndex.FindByUuid(None, inst.uuid, True, True)


def _foreign_vms(drv: VMwareDriver) -> list[Any]:
    view = drv.content.viewManager.CreateContainerView(drv.content.rootFolder, [vim.VirtualMachine], True)
    try:
        return [vm for vm in view.view if not vm.name.startswith("nova-")]
    finally:
        view.Destroy()


def test_vcsims_own_vms_are_ignored(driver: VMwareDriver) -> None:
    foreign = _foreign_vms(driver)
    assert len(foreign) == 4  # the VPX model's DC0_H0_VM0 ... DC0_C0_RP0_VM1
    assert driver.list_instances() == []
    before = driver.get_available_resource(driver.get_available_nodes()[0])
    assert (before.vcpus_used, before.memory_mb_used, before.local_gb_used) == (0, 0, 0)
    # Found by uuid, yet not nova's: not found, and destroy leaves it alone.
    impostor = make_instance(uuid=foreign[0].config.instanceUuid)
    with pytest.raises(InstanceNotFound):
        driver.get_info(impostor)
    with pytest.raises(InstanceNotFound):
        driver.power_off(impostor)
    driver.destroy(impostor, make_network_info())
    assert foreign[0].runtime.powerState == "poweredOn" and len(_foreign_vms(driver)) == 4


def test_vm_carries_identity_size_disk_and_nics(driver: VMwareDriver) -> None:
    inst = make_instance(name="web1", flavor=make_flavor(vcpus=2, memory_mb=256, root_gb=3), metadata={"k": "v"})
    driver.spawn(inst, make_image(), make_network_info(count=2))
    vm = _vm(driver, inst)
    assert (vm.name, vm.config.instanceUuid) == (f"nova-{inst.uuid}", inst.uuid)
    assert (vm.config.hardware.numCPU, vm.config.hardware.memoryMB) == (2, 256)
    extra = {o.key: o.value for o in vm.config.extraConfig}
    assert (extra["nova.instance.name"], extra["nova.metadata.k"], extra["nova.flavor.root_gb"]) == ("web1", "v", "3")
    devices = vm.config.hardware.device
    assert [d.capacityInKB for d in devices if isinstance(d, vim.vm.device.VirtualDisk)] == [3 * 1024 * 1024]
    nics = [d for d in devices if isinstance(d, vim.vm.device.VirtualEthernetCard)]
    assert [n.macAddress for n in nics] == ["fa:16:3e:00:00:00", "fa:16:3e:00:00:01"]
    assert vm.resourcePool == driver._compute.resourcePool
    info = driver.get_info(inst)
    assert (info.state, info.internal_id, info.vcpus, info.memory_mb) == (PowerState.RUNNING, vm._moId, 2, 256)
    res = driver.get_available_resource("DC0_C0")
    assert (res.vcpus_used, res.memory_mb_used, res.local_gb_used) == (2, 256, 3)
    assert (res.hypervisor_type, res.vcpus, res.memory_mb) == ("VMware vCenter Server", 6, 12286)


def test_vms_and_their_states_survive_a_driver_restart(tmp_path: Path, vcsim: Vcsim, driver: VMwareDriver) -> None:
    first = _driver(tmp_path, vcsim)
    running, suspended, stopped = (make_instance(name=n) for n in ("running", "suspended", "stopped"))
    for inst in (running, suspended, stopped):
        first.spawn(inst, make_image(), make_network_info())
    first.suspend(suspended)
    first.power_off(stopped)
    first.cleanup_host("h")

    second = _driver(tmp_path, vcsim)
    assert sorted(second.list_instances()) == sorted(i.uuid for i in (running, suspended, stopped))
    assert [second.get_info(i).state for i in (running, suspended, stopped)] == [
        PowerState.RUNNING,
        PowerState.SUSPENDED,
        PowerState.SHUTDOWN,
    ]
    with pytest.raises(InstanceExists):
        second.spawn(stopped, make_image(), make_network_info())
    with pytest.raises(InvalidPowerState, match="cannot suspend .* while it is shutdown"):
        second.suspend(stopped)
    second.resume(suspended, make_network_info())
    assert second.get_info(suspended).state is PowerState.RUNNING
    second.cleanup_host("h")


def test_soft_reboot_falls_back_to_reset_on_vcsim(driver: VMwareDriver) -> None:
    # vcsim does not implement RebootGuest (MethodNotFound): the driver resets instead.
    inst = make_instance()
    driver.spawn(inst, make_image(), make_network_info())
    assert _events(driver, inst, vim.event.VmPoweredOnEvent) == 1
    driver.reboot(inst, make_network_info(), RebootType.SOFT)
    assert driver.get_info(inst).state is PowerState.RUNNING
    assert _events(driver, inst, vim.event.VmPoweredOffEvent) == 1
    assert _events(driver, inst, vim.event.VmPoweredOnEvent) == 2


def _events(drv: VMwareDriver, inst: Instance, kind: type) -> int:
    """How many events of ``kind`` vcsim recorded for the VM of ``inst``."""
    by_entity = vim.event.EventFilterSpec.ByEntity(entity=_vm(drv, inst), recursion="self")
    events = drv.content.eventManager.QueryEvents(vim.event.EventFilterSpec(entity=by_entity))
    return sum(isinstance(e, kind) for e in events)


def test_graceful_power_off_uses_the_guest_shutdown(driver: VMwareDriver) -> None:
    inst = make_instance()
    driver.spawn(inst, make_image(), make_network_info())
    driver.power_off(inst, timeout=5, retry_interval=0)
    assert driver.get_info(inst).state is PowerState.SHUTDOWN
    # vcsim records a guest shutdown as its own event, distinct from a hard power-off.
    assert _events(driver, inst, vim.event.VmGuestShutdownEvent) == 1
    driver.power_on(inst, make_network_info())
    driver.power_off(inst)
    assert _events(driver, inst, vim.event.VmGuestShutdownEvent) == 1
    assert driver.get_info(inst).state is PowerState.SHUTDOWN


def test_suspended_vm_can_be_powered_off_and_destroyed(driver: VMwareDriver) -> None:
    inst = make_instance()
    driver.spawn(inst, make_image(), make_network_info())
    driver.suspend(inst)
    driver.power_off(inst)
    assert driver.get_info(inst).state is PowerState.SHUTDOWN
    driver.power_on(inst, make_network_info())
    driver.suspend(inst)
    driver.destroy(inst, make_network_info())
    assert inst.uuid not in driver.list_instances()


def test_snapshot_is_a_real_vm_snapshot(driver: VMwareDriver) -> None:
    inst = make_instance()
    driver.spawn(inst, make_image(), make_network_info())
    image = driver.snapshot(inst, "nightly-1")
    assert (image.id, image.disk_format) == ("nightly-1", "vmdk")
    assert [s.name for s in _vm(driver, inst).snapshot.rootSnapshotList] == ["nightly-1"]


def test_destroy_without_disks_unregisters(driver: VMwareDriver) -> None:
    inst = make_instance()
    driver.spawn(inst, make_image(), make_network_info())
    driver.destroy(inst, make_network_info(), destroy_disks=False)
    assert _vm(driver, inst) is None and driver.list_instances() == []


def test_failed_power_on_leaves_no_vm(driver: VMwareDriver, monkeypatch: pytest.MonkeyPatch) -> None:
    # Powering on twice makes vcsim itself answer with a real InvalidPowerState fault.
    real = VMwareDriver._power_on_vm

    def twice(self: VMwareDriver, instance: Instance, ref: Any) -> None:
        real(self, instance, ref)
        real(self, instance, ref)

    monkeypatch.setattr(VMwareDriver, "_power_on_vm", twice)
    inst = make_instance()
    with pytest.raises(VMwareError, match=r"vmware failed to power on .*: InvalidPowerState"):
        driver.spawn(inst, make_image(), make_network_info())
    assert driver.list_instances() == [] and _vm(driver, inst) is None


def test_unknown_instance_is_not_found_everywhere(driver: VMwareDriver) -> None:
    ghost = make_instance()
    for call in (
        lambda: driver.get_info(ghost),
        lambda: driver.power_on(ghost, make_network_info()),
        lambda: driver.suspend(ghost),
        lambda: driver.resume(ghost, make_network_info()),
        lambda: driver.snapshot(ghost, "img"),
    ):
        with pytest.raises(InstanceNotFound, match=ghost.uuid):
            call()


def test_wrong_password_is_a_driver_error(tmp_path: Path, vcsim: Vcsim) -> None:
    drv = VMwareDriver(RecordingVirtAPI(tmp_path), vcsim.options(password="wrong"))
    with pytest.raises(VMwareError, match=r"log in to .* as 'nova': invalid user name or password"):
        drv.init_host("h")


def test_unreachable_url_is_a_driver_error(tmp_path: Path) -> None:
    drv = VMwareDriver(RecordingVirtAPI(tmp_path), {"url": "http://u:p@127.0.0.1:1/sdk"})
    with pytest.raises(VMwareError, match=r"vmware failed to connect to http://127.0.0.1:1/sdk: .*refused"):
        drv.init_host("h")


def test_url_that_is_not_vsphere_is_a_driver_error(tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://u:p@127.0.0.1:{server.server_address[1]}/sdk"
        drv = VMwareDriver(RecordingVirtAPI(tmp_path), {"url": url})
        with pytest.raises(VMwareError, match=r"vmware failed to connect to http://127.0.0.1:\d+/sdk: "):
            drv.init_host("h")
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_an_endpoint_that_never_answers_is_an_error_after_api_timeout(tmp_path: Path, scheme: str) -> None:
    # The kernel accepts the connection (listen backlog); nothing ever reads or answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"{scheme}://u:p@127.0.0.1:{silent.getsockname()[1]}/sdk"
        drv = VMwareDriver(RecordingVirtAPI(tmp_path), {"url": url, "insecure": "true", "api_timeout": "0.5"})
        started = time.monotonic()
        with pytest.raises(
            VMwareError, match=r"connect to .*: no answer within 0.5 s \(raise the api_timeout option\)$"
        ):
            drv.init_host("h")
        assert time.monotonic() - started < 10
        assert socket.getdefaulttimeout() is None  # the process-wide default bounded init_host only


def test_a_vcenter_that_stops_answering_mid_session_is_an_error_after_api_timeout(tmp_path: Path, vcsim: Vcsim) -> None:
    drv = _driver(tmp_path, vcsim, api_timeout="1")
    os.kill(vcsim.process.pid, signal.SIGSTOP)  # alive, connected, silent
    try:
        with pytest.raises(
            VMwareError, match=r"lost the connection to .*: no answer within 1 s \(raise the api_timeout"
        ):
            drv.list_instances()
    finally:
        os.kill(vcsim.process.pid, signal.SIGCONT)
    drv.cleanup_host("h")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("datacenter", "DC9", "'datacenter'.*no datacenter named 'DC9'; available: DC0"),
        ("cluster", "C9", "'cluster'.*no cluster named 'C9'; available: DC0_H0, DC0_C0"),
        ("datastore", "DS9", "'datastore'.*no datastore named 'DS9'; available: LocalDS_0"),
        ("network", "nowhere", "'network'.*no network named 'nowhere'; available: VM Network"),
    ],
)
def test_inventory_names_that_do_not_exist_name_the_option(
    tmp_path: Path, vcsim: Vcsim, option: str, value: str, message: str
) -> None:
    drv = VMwareDriver(RecordingVirtAPI(tmp_path), vcsim.options(**{option: value}))
    with pytest.raises(VMwareConfigError, match=message):
        drv.init_host("h")
    drv.cleanup_host("h")


def test_standalone_host_can_be_the_node(tmp_path: Path, vcsim: Vcsim) -> None:
    drv = _driver(tmp_path, vcsim, cluster="DC0_H0", datastore="LocalDS_0", network="VM Network")
    inst = make_instance()
    drv.spawn(inst, make_image(), make_network_info())
    try:
        assert _vm(drv, inst).runtime.host.name == "DC0_H0"
        assert drv.get_available_nodes() == ["DC0_H0"] and drv.get_available_resource("DC0_H0").vcpus == 2
    finally:
        drv.destroy(inst, make_network_info())
        drv.cleanup_host("h")


def test_calls_before_init_host_are_a_driver_error(tmp_path: Path, vcsim: Vcsim) -> None:
    drv = VMwareDriver(RecordingVirtAPI(tmp_path), vcsim.options())
    with pytest.raises(VMwareError, match=r"init_host\(\) was not called"):
        drv.list_instances()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "'url'.*required"),
        ({"url": "vcenter.example.org"}, "'url'.*not an http\\(s\\) URL"),
        ({"url": "http://vcenter.example.org/sdk"}, "'url'.*plain http is only allowed to a loopback"),
        ({"url": "https://h:99999/sdk"}, "'url'.*invalid port"),
        ({"url": "https://h/sdk", "password": "p"}, "'username'.*required"),
        ({"url": "https://u@h/sdk"}, "'password'.*required"),
        ({"url": "https://u:p@h/sdk", "insecure": "maybe"}, "'insecure'.*true or false"),
        ({"url": "https://u:p@h/sdk", "network": ""}, "'network'.*must not be empty"),
        ({"url": "https://u:p@h/sdk", "uri": "x"}, "'uri'.*unknown option"),
        ({"url": "https://u:p@h/sdk", "api_timeout": "soon"}, "'api_timeout'.*not a number"),
        ({"url": "https://u:p@h/sdk", "api_timeout": "-1"}, "'api_timeout'.*positive"),
    ],
)
def test_bad_options_name_the_option(options: dict[str, str], message: str) -> None:
    with pytest.raises(VMwareConfigError, match=message):
        VMwareConfig.from_options(options)


def test_login_comes_from_the_url_or_the_options() -> None:
    cfg = VMwareConfig.from_options({"url": "https://adm%40vsphere:s%3Ar@vc.example.org/sdk", "insecure": "yes"})
    assert (cfg.username, cfg.password, cfg.insecure, cfg.api_timeout) == ("adm@vsphere", "s:r", True, 60.0)
    assert (cfg.url, cfg.endpoint) == ("https://vc.example.org/sdk", "https://vc.example.org:443/sdk")
    cfg = VMwareConfig.from_options({"url": "http://x:y@[::1]:8989", "username": "a", "password": "b"})
    assert (cfg.username, cfg.password, cfg.port, cfg.path) == ("a", "b", 8989, "/sdk")


def test_missing_go_names_the_debian_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A main.go never built before, and a PATH without go: the one clear error.
    monkeypatch.setenv("HOME", str(tmp_path))
    main_go = tmp_path / "main.go"
    main_go.write_bytes(find_main_go().read_bytes() + b"// not cached yet\n")
    with pytest.raises(
        VcsimUnavailable, match=f"'go' command is missing; install the Debian packages {DEBIAN_PACKAGES}"
    ):
        build_vcsim(main_go, search_path=str(tmp_path))


def test_smoke_options_parse_without_a_peer(tmp_path: Path) -> None:
    """`release cut`'s install check (docs/releases.md) loads the driver with these: nothing connects."""
    from nova_common.virtapi import LocalVirtAPI
    from nova_vmware.driver import VMwareDriver

    assert "parsed" in VMwareDriver.smoke_check()
    driver = VMwareDriver(LocalVirtAPI(tmp_path), VMwareDriver.smoke_options)
    assert driver.name == "vmware"
