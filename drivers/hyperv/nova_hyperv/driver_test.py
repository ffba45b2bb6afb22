"""hyperv-specific behaviour and failure paths, against the os-win contract fake and the real os-win."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from os_win import constants, utilsfactory
from os_win import exceptions as os_win_exc

from nova_common.exception import InstanceExists, InstanceNotFound, InvalidPowerState
from nova_common.objects import PowerState, RebootType
from nova_common.testing.factories import RecordingVirtAPI, make_flavor, make_image, make_instance, make_network_info
from nova_hyperv import driver as driver_module
from nova_hyperv.config import HyperVConfig
from nova_hyperv.driver import HyperVDriver, vm_name
from nova_hyperv.exception import HyperVConfigError, HyperVError, HyperVUnavailable
from nova_hyperv.oswin_fake import FakeUtilsFactory


def _driver(tmp_path: Path, factory: FakeUtilsFactory, **options: str) -> HyperVDriver:
    drv = HyperVDriver(RecordingVirtAPI(tmp_path), options, utils_factory=factory)
    drv.init_host("h")
    return drv


def test_real_os_win_off_windows_is_one_clear_error(tmp_path: Path) -> None:
    # The default factory is the real os_win.utilsfactory; its WMI connection is None here.
    assert driver_module.utils_factory is utilsfactory
    drv = HyperVDriver(RecordingVirtAPI(tmp_path), {})
    with pytest.raises(HyperVUnavailable) as exc:
        drv.init_host("h")
    assert str(exc.value) == (
        f"os-win needs Windows/WMI; it cannot reach Hyper-V on this {sys.platform} host "
        "(AttributeError: 'NoneType' object has no attribute 'Win32_OperatingSystem')"
    )


def test_vm_carries_the_uuid_in_its_notes_and_the_flavor_size(tmp_path: Path) -> None:
    factory = FakeUtilsFactory()
    drv = _driver(tmp_path, factory, instances_path="D:\\Hyper-V", vm_generation="2")
    inst = make_instance(flavor=make_flavor(vcpus=2, memory_mb=1024))
    drv.spawn(inst, make_image(), make_network_info())
    [vm] = factory.vmutils.vms
    assert (vm.name, vm.notes, vm.generation) == (vm_name(inst.uuid), [inst.uuid], constants.VM_GEN_2)
    assert vm.instance_path == f"D:\\Hyper-V\\nova-{inst.uuid}"
    info = drv.get_info(inst)
    assert (info.state, info.memory_mb, info.vcpus, info.internal_id) == (PowerState.RUNNING, 1024, 2, vm.vm_id)
    factory.hostutils.volumes["D:"] = (100 * 1024**3, 1)
    res = drv.get_available_resource(drv.get_available_nodes()[0])
    assert (res.vcpus, res.vcpus_used, res.memory_mb, res.memory_mb_used, res.local_gb) == (8, 2, 16384, 1024, 100)


def test_vms_survive_a_new_driver(tmp_path: Path) -> None:
    factory = FakeUtilsFactory()
    first = _driver(tmp_path, factory)
    paused, saved = make_instance(name="p"), make_instance(name="s")
    for inst in (paused, saved):
        first.spawn(inst, make_image(), make_network_info())
    first.pause(paused)
    first.suspend(saved)
    second = _driver(tmp_path, factory)
    assert sorted(second.list_instances()) == sorted([paused.uuid, saved.uuid])
    assert second.get_info(paused).state is PowerState.PAUSED
    assert second.get_info(saved).state is PowerState.SUSPENDED
    second.power_on(saved, make_network_info())  # Hyper-V restores a saved VM on Enabled
    assert second.get_info(saved).state is PowerState.RUNNING


def test_foreign_vms_are_ignored(tmp_path: Path) -> None:
    factory = FakeUtilsFactory()
    inst = make_instance()
    # Someone else's VMs: one without notes, one named like ours but noted otherwise.
    factory.vmutils.create_vm("dc01", False, constants.VM_GEN_2, "C:\\VMs")
    factory.vmutils.create_vm(vm_name(inst.uuid), False, constants.VM_GEN_1, "C:\\VMs", notes=["not nova"])
    drv = _driver(tmp_path, factory)
    assert drv.list_instances() == []
    with pytest.raises(InstanceNotFound):
        drv.get_info(inst)
    with pytest.raises(InstanceExists):
        drv.spawn(inst, make_image(), make_network_info())
    drv.destroy(inst, make_network_info())
    assert len(factory.vmutils.vms) == 2


def test_refused_transitions_are_invalid_power_state_not_silence(tmp_path: Path) -> None:
    factory = FakeUtilsFactory()
    drv = _driver(tmp_path, factory)
    inst = make_instance()
    drv.spawn(inst, make_image(), make_network_info())
    drv.power_off(inst)
    with pytest.raises(InvalidPowerState, match=f"cannot pause instance {inst.uuid} while it is shutdown"):
        drv.pause(inst)
    with pytest.raises(InvalidPowerState, match="cannot resume .* while it is shutdown"):
        drv.resume(inst, make_network_info())
    assert factory.vmutils.state_requests[-1][1] == constants.HYPERV_VM_STATE_DISABLED


def test_power_off_asks_the_guest_then_forces(tmp_path: Path) -> None:
    factory = FakeUtilsFactory()
    drv = _driver(tmp_path, factory)
    polite, deaf = make_instance(name="polite"), make_instance(name="deaf")
    for inst in (polite, deaf):
        drv.spawn(inst, make_image(), make_network_info())
    requests = len(factory.vmutils.state_requests)
    drv.power_off(polite, timeout=5)
    assert drv.get_info(polite).state is PowerState.SHUTDOWN
    assert len(factory.vmutils.state_requests) == requests  # the guest shut itself down
    next(v for v in factory.vmutils.vms if v.name == vm_name(deaf.uuid)).integration_services = False
    drv.power_off(deaf, timeout=1, retry_interval=0)
    assert drv.get_info(deaf).state is PowerState.SHUTDOWN
    assert factory.vmutils.state_requests[-1] == (vm_name(deaf.uuid), constants.HYPERV_VM_STATE_DISABLED)


def test_soft_reboot_is_a_hyperv_reboot(tmp_path: Path) -> None:
    factory = FakeUtilsFactory()
    drv = _driver(tmp_path, factory)
    inst = make_instance()
    drv.spawn(inst, make_image(), make_network_info())
    drv.reboot(inst, make_network_info(), RebootType.SOFT)
    assert factory.vmutils.state_requests[-1] == (vm_name(inst.uuid), constants.HYPERV_VM_STATE_REBOOT)


def test_failed_sizing_leaves_no_vm(tmp_path: Path) -> None:
    factory = FakeUtilsFactory()
    drv = _driver(tmp_path, factory)
    inst = make_instance()
    factory.vmutils._fail_next(
        "update_vm",
        os_win_exc.WMIJobFailed(error_code=4096, job_state=10, error_summ_desc="out of memory", error_desc="x"),
    )
    with pytest.raises(HyperVError, match=f"Hyper-V failed to size the VM of {inst.uuid}: WMI job failed"):
        drv.spawn(inst, make_image(), make_network_info())
    assert factory.vmutils.vms == [] and drv.list_instances() == []


def test_unknown_volume_is_a_driver_error(tmp_path: Path) -> None:
    drv = _driver(tmp_path, FakeUtilsFactory(), instances_path="Q:\\VMs")
    with pytest.raises(HyperVError, match="Hyper-V failed to read volume Q:: no such volume"):
        drv.get_available_resource(drv.get_available_nodes()[0])


def test_calls_before_init_host_are_a_driver_error(tmp_path: Path) -> None:
    drv = HyperVDriver(RecordingVirtAPI(tmp_path), {}, utils_factory=FakeUtilsFactory())
    with pytest.raises(HyperVError, match="init_host"):
        drv.list_instances()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"instances_path": "/var/lib/vms"}, "'instances_path'.*not an absolute path"),
        ({"instances_path": "C:relative"}, "'instances_path'.*not an absolute path"),
        ({"vm_generation": "3"}, "'vm_generation'.*1 or 2"),
        ({"host": ""}, "'host'.*empty"),
        ({"url": "x"}, "'url'.*unknown option"),
    ],
)
def test_bad_options_name_the_option(options: dict[str, str], message: str) -> None:
    with pytest.raises(HyperVConfigError, match=message):
        HyperVConfig.from_options(options)


def test_option_defaults() -> None:
    cfg = HyperVConfig.from_options({})
    assert (cfg.instances_path, cfg.drive, cfg.vm_generation, cfg.host) == ("C:\\OpenStack\\Instances", "C:", 1, ".")


def test_smoke_options_parse_without_a_peer(tmp_path: Path) -> None:
    """`release cut`'s install check (docs/releases.md) loads the driver with these: nothing connects."""
    from nova_common.virtapi import LocalVirtAPI
    from nova_hyperv.driver import HyperVDriver

    assert "parsed" in HyperVDriver.smoke_check()
    driver = HyperVDriver(LocalVirtAPI(tmp_path), HyperVDriver.smoke_options)
    assert driver.name == "hyperv"


def test_loading_the_driver_prints_no_warnings_of_its_libraries() -> None:
    """os-win's eventlet and pkg_resources deprecation notices are not shown on every command."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    env.pop("PYTHONWARNINGS", None)
    loaded = subprocess.run(
        [sys.executable, "-c", "import nova_hyperv.driver"], env=env, capture_output=True, text=True, timeout=120
    )
    assert (loaded.returncode, loaded.stderr) == (0, "")
