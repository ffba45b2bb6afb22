from collections.abc import Iterator
from pathlib import Path

import pytest

from nova_common.compute.errors import BootFailed, InstanceNameInUse, StateDirInUse, UnknownFlavor, UnknownInstance
from nova_common.compute.manager import ComputeManager
from nova_common.compute.store import InstanceStore
from nova_common.exception import NotSupported
from nova_common.fake_driver import FakeDriver
from nova_common.objects import BlockDeviceInfo, Capabilities, ImageMeta, Instance, NetworkInfo, PowerState, VMState
from nova_common.testing.factories import RecordingVirtAPI


class _FailingSpawnDriver(FakeDriver):
    """Creates the guest, then fails: the worst case for cleanup."""

    def spawn(
        self,
        instance: Instance,
        image_meta: ImageMeta,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        super().spawn(instance, image_meta, network_info, block_device_info)
        raise RuntimeError("hypervisor exploded")


class _NoPauseDriver(FakeDriver):
    capabilities = Capabilities()


def _manager(tmp_path: Path, cls: type[FakeDriver] = FakeDriver) -> ComputeManager:
    driver = cls(RecordingVirtAPI(tmp_path), {})
    driver.init_host("host1")
    return ComputeManager(driver, InstanceStore(tmp_path / "instances.sqlite", "fake"), "host1")


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[ComputeManager]:
    m = _manager(tmp_path)
    yield m
    m.store.close()


def test_lifecycle_updates_records(manager: ComputeManager) -> None:
    inst = manager.boot("web1", "m1.tiny", "cirros")
    assert (inst.vm_state, inst.power_state) == (VMState.ACTIVE, PowerState.RUNNING)
    assert [i.name for i in manager.instances()] == ["web1"]
    assert manager.stop("web1").vm_state is VMState.STOPPED
    assert manager.start(inst.uuid).power_state is PowerState.RUNNING
    assert manager.pause("web1").vm_state is VMState.PAUSED
    assert manager.unpause("web1").vm_state is VMState.ACTIVE
    assert manager.reboot("web1", hard=True).power_state is PowerState.RUNNING
    record, info = manager.show("web1")
    assert info is not None and info.state is PowerState.RUNNING and record.flavor.name == "m1.tiny"
    manager.delete("web1")
    assert manager.instances() == [] and manager.driver.list_instances() == []
    with pytest.raises(UnknownInstance):
        manager.show("web1")


def test_names_are_unique_and_flavors_known(manager: ComputeManager) -> None:
    manager.boot("web1", "m1.tiny", "cirros")
    with pytest.raises(InstanceNameInUse):
        manager.boot("web1", "m1.tiny", "cirros")
    with pytest.raises(UnknownFlavor, match="known flavors: m1.nano"):
        manager.boot("web2", "m9.huge", "cirros")
    assert [i.name for i in manager.instances()] == ["web1"]


def test_failed_boot_leaves_no_record_and_no_guest(tmp_path: Path) -> None:
    manager = _manager(tmp_path, _FailingSpawnDriver)
    with pytest.raises(BootFailed, match="hypervisor exploded"):
        manager.boot("doomed", "m1.tiny", "cirros")
    assert manager.instances() == []
    assert manager.driver.list_instances() == []


def test_capability_is_checked_before_calling_the_driver(tmp_path: Path) -> None:
    manager = _manager(tmp_path, _NoPauseDriver)
    manager.boot("web1", "m1.tiny", "cirros")
    with pytest.raises(NotSupported, match="does not support pause"):
        manager.pause("web1")


def test_sync_reconciles_and_reports(manager: ComputeManager) -> None:
    a = manager.boot("a", "m1.tiny", "cirros")
    b = manager.boot("b", "m1.tiny", "cirros")
    assert manager.sync_power_states() == []
    manager.driver.power_off(a)  # behind the service's back
    manager.driver.destroy(b, NetworkInfo())
    changes = {(c.instance, c.field, c.old, c.new) for c in manager.sync_power_states()}
    assert changes == {
        ("a", "power_state", "running", "shutdown"),
        ("a", "vm_state", "active", "stopped"),
        ("b", "power_state", "running", "nostate"),
        ("b", "vm_state", "active", "error"),
    }
    assert manager.store.get("a").vm_state is VMState.STOPPED
    assert manager.sync_power_states() == []


def test_sync_reports_guests_without_records(manager: ComputeManager) -> None:
    inst = manager.boot("a", "m1.tiny", "cirros")
    manager.store.delete(inst.uuid)
    [change] = manager.sync_power_states()
    assert change.instance == inst.uuid and "no record" in change.reason
    assert manager.driver.list_instances() == [inst.uuid]


def test_records_survive_reopening_and_stay_bound_to_their_driver(tmp_path: Path) -> None:
    store = InstanceStore(tmp_path / "db.sqlite", "fake")
    manager = ComputeManager(FakeDriver(RecordingVirtAPI(tmp_path), {}), store, "h")
    manager.boot("web1", "m1.small", "cirros")
    store.close()
    reopened = InstanceStore(tmp_path / "db.sqlite", "fake")
    [record] = reopened.list()
    assert (record.name, record.flavor.memory_mb) == ("web1", 2048)
    reopened.close()
    with pytest.raises(StateDirInUse, match="belongs to driver 'fake', not 'libvirt'"):
        InstanceStore(tmp_path / "db.sqlite", "libvirt")
