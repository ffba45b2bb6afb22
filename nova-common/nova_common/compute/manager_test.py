import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nova_common.compute.capacity import AllocationRatios
from nova_common.compute.errors import (
    BadRecord,
    BootFailed,
    DatabaseDamaged,
    DatabaseMissing,
    DatabaseTooNew,
    InstanceNameInUse,
    InvalidName,
    NoCapacity,
    StateDirInUse,
    UnknownFlavor,
    UnknownInstance,
)
from nova_common.compute.identity import identity, legacy_identity
from nova_common.compute.manager import ComputeManager
from nova_common.compute.names import safe
from nova_common.compute.store import SCHEMA_VERSION, InstanceStore
from nova_common.exception import NotSupported
from nova_common.fake_driver import FakeDriver
from nova_common.objects import (
    BlockDeviceInfo,
    Capabilities,
    HostResources,
    ImageMeta,
    Instance,
    NetworkInfo,
    PowerState,
    VMState,
)
from nova_common.testing.factories import RecordingVirtAPI, make_instance


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


def _manager(
    tmp_path: Path, cls: type[FakeDriver] = FakeDriver, ratios: AllocationRatios | None = None, **options: str
) -> ComputeManager:
    driver = cls(RecordingVirtAPI(tmp_path), options)
    driver.init_host("host1")
    return ComputeManager(driver, InstanceStore(tmp_path / "instances.sqlite", "fake"), "host1", ratios=ratios)


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
    deleted = manager.delete("web1")
    assert (deleted.name, deleted.uuid, deleted.record, deleted.guest) == ("web1", inst.uuid, "removed", "destroyed")
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


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty or blank"),
        ("   ", "empty or blank"),
        ("x" * 256, "256 characters long, the limit is 255"),
        ("evil\x1b[2Jname", "control or other non-printable"),
        ("two\nlines", "control or other non-printable"),
        ("tab\there", "control or other non-printable"),
        (" web1", "starts or ends with whitespace"),
        ("0b7c1a4e-4ab5-4d8e-9a55-7d2d1f0f3c11", "looks like a UUID"),
        ("0B7C1A4E-4AB5-4D8E-9A55-7D2D1F0F3C11", "looks like a UUID"),
    ],
)
def test_bad_names_are_refused_on_one_line(manager: ComputeManager, name: str, reason: str) -> None:
    with pytest.raises(InvalidName, match=reason) as caught:
        manager.boot(name, "m1.tiny", "cirros")
    assert "\n" not in str(caught.value) and "\x1b" not in str(caught.value)
    assert manager.instances() == [] and manager.driver.list_instances() == []


def test_good_names_are_accepted(manager: ComputeManager) -> None:
    for name in ("web 1", "x" * 255, "données", "0b7c1a4e-4ab5-4d8e-9a55-7d2d1f0f3c1"):
        assert manager.boot(name, "m1.nano", "cirros").name == name


@pytest.mark.parametrize(("image_id", "reason"), [("", "empty"), ("a\nb", "non-printable"), (" x", "whitespace")])
def test_snapshot_image_ids_are_validated_like_names(manager: ComputeManager, image_id: str, reason: str) -> None:
    manager.boot("web1", "m1.nano", "cirros")
    with pytest.raises(InvalidName, match=f"invalid image id {re.escape(repr(image_id))}: .*{reason}"):
        manager.snapshot("web1", image_id)
    uuid = "6f1d3c5e-0b7a-4c11-9a55-3e2f1c0d9b8a"  # image ids, unlike names, may be UUIDs
    assert manager.snapshot("web1", uuid).id == uuid


def test_a_uuid_reference_never_matches_a_name(manager: ComputeManager) -> None:
    victim = manager.boot("victim", "m1.nano", "cirros")
    # A record named like the victim's uuid (an old database could hold one: names were not validated).
    impostor = make_instance(name=victim.uuid.upper())
    manager.store.add(impostor)
    manager.driver.spawn(impostor, ImageMeta(id="x", name="x"), NetworkInfo())
    assert manager.delete(victim.uuid).name == "victim"
    assert [i.uuid for i in manager.instances()] == [impostor.uuid]
    assert manager.driver.list_instances() == [impostor.uuid]


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


def test_capacity_follows_the_drivers_free_resources_and_ratios(tmp_path: Path) -> None:
    manager = _manager(tmp_path, vcpus="2", memory_mb="4096", disk_gb="50")
    manager.boot("a", "m1.small", "cirros")  # 1 vCPU, 2048 MB, 20 GB
    manager.boot("b", "m1.small", "cirros")
    manager.ratios = AllocationRatios(cpu=1.0)
    with pytest.raises(NoCapacity, match=r"needs 1 vCPUs, 0 free \(2 x allocation ratio 1 - 2 used\)") as caught:
        manager.boot("c", "m1.tiny", "cirros")
    assert "raise --cpu-allocation-ratio" in str(caught.value)
    manager.ratios = AllocationRatios()
    with pytest.raises(NoCapacity, match="needs 2048 MB of memory, 0 free"):
        manager.boot("c", "m1.small", "cirros")
    manager.ratios = AllocationRatios(ram=2.0)
    with pytest.raises(NoCapacity, match="needs 20 GB of disk, 10 free"):
        manager.boot("c", "m1.small", "cirros")
    assert [i.name for i in manager.instances()] == ["a", "b"]


def test_a_huge_allocation_ratio_means_room_for_anything(tmp_path: Path) -> None:
    manager = _manager(tmp_path, vcpus="2", memory_mb="1", disk_gb="1", ratios=AllocationRatios(1e308, 1e308, 1e308))
    manager.boot("big", "m1.medium", "cirros")  # 2 x 1e308 is inf: room for anything, not an OverflowError
    assert [i.name for i in manager.instances()] == ["big"]


@pytest.mark.parametrize("ratio", [0.0, -1.0, float("nan"), float("inf")])
def test_allocation_ratios_must_be_positive_and_finite(ratio: float) -> None:
    with pytest.raises(ValueError, match="cpu allocation ratio must be a positive, finite number"):
        AllocationRatios(cpu=ratio)


def test_capacity_counts_boots_whose_guest_does_not_exist_yet(tmp_path: Path) -> None:
    manager = _manager(tmp_path, vcpus="1")
    manager.store.add(make_instance(name="half-booted"))  # record committed, spawn not yet done
    manager.ratios = AllocationRatios(cpu=1.0)
    with pytest.raises(NoCapacity, match=r"0 free \(1 x allocation ratio 1 - 1 used\)"):
        manager.boot("next", "m1.nano", "cirros")


def test_sync_reconciles_and_reports(manager: ComputeManager) -> None:
    a = manager.boot("a", "m1.tiny", "cirros")
    b = manager.boot("b", "m1.tiny", "cirros")
    assert manager.sync_power_states() == []
    manager.driver.power_off(a)  # behind the service's back
    manager.driver.destroy(b, NetworkInfo())
    expected = {
        ("a", "power_state", "running", "shutdown"),
        ("a", "vm_state", "active", "stopped"),
        ("b", "power_state", "running", "nostate"),
        ("b", "vm_state", "active", "error"),
    }
    assert {(c.instance, c.field, c.old, c.new) for c in manager.sync_power_states(dry_run=True)} == expected
    assert manager.store.get("a").vm_state is VMState.ACTIVE  # a dry run changes nothing
    assert {(c.instance, c.field, c.old, c.new) for c in manager.sync_power_states()} == expected
    assert manager.store.get("a").vm_state is VMState.STOPPED
    assert manager.sync_power_states() == []


def test_sync_adopts_guests_without_records(manager: ComputeManager) -> None:
    inst = manager.boot("a", "m1.small", "cirros")
    manager.store.delete(inst.uuid)
    [change] = manager.sync_power_states(dry_run=True)
    assert manager.instances() == []
    assert manager.sync_power_states() == [change]
    assert (change.field, change.new) == ("record", "adopted") and inst.uuid in change.reason
    [adopted] = manager.instances()
    assert (adopted.uuid, adopted.name, adopted.flavor.name) == (inst.uuid, f"adopted-{inst.uuid[:8]}", "m1.small")
    assert (adopted.vm_state, adopted.power_state) == (VMState.ACTIVE, PowerState.RUNNING)
    assert manager.sync_power_states() == []


def test_sync_removes_records_of_killed_boots(manager: ComputeManager) -> None:
    manager.store.add(make_instance(name="killed-mid-boot"))  # building, no guest, nobody booting it
    [change] = manager.sync_power_states()
    assert (change.instance, change.old, change.new) == ("killed-mid-boot", "building", "removed")
    assert manager.instances() == []


def test_unreadable_record_is_reported_and_deletable(manager: ComputeManager) -> None:
    good = manager.boot("good", "m1.nano", "cirros")
    bad = manager.boot("bad", "m1.nano", "cirros")
    db = sqlite3.connect(manager.store.path)
    db.execute('UPDATE instances SET data = \'{"nova_object.name": "Instance"}\' WHERE uuid = ?', (bad.uuid,))
    db.commit()
    db.close()
    assert [i.name for i in manager.instances()] == ["good"]
    with pytest.raises(BadRecord, match=f"'nova-compute delete {bad.uuid}' removes it"):
        manager.show("bad")
    [change] = manager.sync_power_states()
    assert (change.instance, change.old) == ("bad", "unreadable")
    deleted = manager.delete("bad")
    assert (deleted.uuid, deleted.guest) == (bad.uuid, "destroyed")
    assert manager.driver.list_instances() == [good.uuid]


def _refuse_malformed(method: Callable[..., Any]) -> Callable[..., Any]:
    def refusing(instance: Instance, *args: Any) -> Any:
        if instance.uuid == "not-a-uuid":
            raise RuntimeError("Invalid UUID")
        return method(instance, *args)

    return refusing


@pytest.mark.parametrize("ref", ["not-a-uuid", "junk"])
def test_a_record_with_a_malformed_uuid_is_deletable_by_uuid_or_name(manager: ComputeManager, ref: str) -> None:
    manager.boot("good", "m1.nano", "cirros")
    # Like libvirt, which refuses to look up a malformed uuid at all.
    manager.driver.get_info = _refuse_malformed(manager.driver.get_info)  # type: ignore[method-assign]
    manager.driver.destroy = _refuse_malformed(manager.driver.destroy)  # type: ignore[method-assign]
    db = sqlite3.connect(manager.store.path)
    db.execute("INSERT INTO instances (uuid, name, data) VALUES ('not-a-uuid', 'junk', '[]')")
    db.commit()
    db.close()
    [change] = manager.sync_power_states()
    assert (change.instance, change.old) == ("junk", "unreadable") and "'delete not-a-uuid'" in change.reason
    deleted = manager.delete(ref)
    assert (deleted.uuid, deleted.name, deleted.guest) == ("not-a-uuid", "junk", "was already missing")
    assert [r.name for r in manager.store.rows()] == ["good"]


def test_records_survive_reopening_and_stay_bound_to_their_hypervisor(tmp_path: Path) -> None:
    store = InstanceStore(tmp_path / "db.sqlite", "driver 'fake'")
    manager = ComputeManager(FakeDriver(RecordingVirtAPI(tmp_path), {}), store, "h")
    manager.boot("web1", "m1.small", "cirros")
    store.close()
    reopened = InstanceStore(tmp_path / "db.sqlite", "driver 'fake'")
    [record] = reopened.list()
    assert (record.name, record.flavor.memory_mb) == ("web1", 2048)
    reopened.close()
    with pytest.raises(StateDirInUse, match="belongs to driver 'fake', not driver 'libvirt'"):
        InstanceStore(tmp_path / "db.sqlite", "driver 'libvirt'")
    (tmp_path / "db.sqlite").unlink()
    with pytest.raises(StateDirInUse):  # the directory remembers, even without its database
        InstanceStore(tmp_path / "db.sqlite", "driver 'fake' with vcpus=4")


def test_a_directory_an_earlier_version_bound_with_a_password_is_adopted_and_wiped(tmp_path: Path) -> None:
    """Earlier versions wrote every option, credentials too, as the directory's identity."""
    options = {"url": "https://h", "password": "S3cret-pw"}
    old, new = legacy_identity("xen", options), identity("xen", options)
    assert old is not None and "S3cret-pw" in old and "S3cret-pw" not in new
    store = InstanceStore(tmp_path / "db.sqlite", old)  # as the earlier version left it
    manager = ComputeManager(FakeDriver(RecordingVirtAPI(tmp_path), {}), store, "h")
    manager.boot("web1", "m1.small", "cirros")
    store.close()

    # A new password: still the earlier identity on disk; refused, and the refusal hides it.
    with pytest.raises(StateDirInUse) as refused:
        InstanceStore(tmp_path / "db.sqlite", new, previous_owner=legacy_identity("xen", {**options, "password": "x"}))
    assert "S3cret-pw" not in str(refused.value) and "password=***" in str(refused.value)

    # The same options: adopted, rewritten, the password gone from every file of the directory.
    store = InstanceStore(tmp_path / "db.sqlite", new, previous_owner=old)
    assert [r.name for r in store.list()] == ["web1"]
    store.close()
    for path in (p for p in tmp_path.rglob("*") if p.is_file()):
        assert b"S3cret-pw" not in path.read_bytes(), path.name
    InstanceStore(tmp_path / "db.sqlite", new).close()  # bound to the new identity now
    assert (tmp_path / "hypervisor").read_text() == new + "\n"


def test_a_lost_database_is_refused_until_sync_rebuilds_it(tmp_path: Path) -> None:
    InstanceStore(tmp_path / "db.sqlite", "o").close()
    (tmp_path / "db.sqlite").unlink()
    with pytest.raises(DatabaseMissing, match="run 'nova-compute sync' to rebuild"):
        InstanceStore(tmp_path / "db.sqlite", "o")
    InstanceStore(tmp_path / "db.sqlite", "o", rebuild=True).close()
    InstanceStore(tmp_path / "db.sqlite", "o").close()


_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE instances (uuid TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
INSERT INTO meta VALUES ('driver', 'fake');
"""


def test_unversioned_database_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "instances.sqlite"
    old = make_instance(name="old")
    db = sqlite3.connect(path)
    db.executescript(_V1)
    data = json.dumps(old.obj_to_primitive())
    db.execute("INSERT INTO instances VALUES (?, ?, ?)", (old.uuid, old.name, data))
    db.commit()
    db.close()
    store = InstanceStore(path, "driver 'fake'")
    assert [i.uuid for i in store.list()] == [old.uuid]
    store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    with pytest.raises(StateDirInUse, match="belongs to driver 'fake', not driver 'libvirt'"):
        InstanceStore(path, "driver 'libvirt'")


def _damaged(path: Path, how: str) -> None:
    store = InstanceStore(path, "o")
    for n in range(40):  # enough pages that a truncation cuts records
        store.add(make_instance(name=f"vm{n}", metadata={"pad": "x" * 500}))
    store.close()
    data = path.read_bytes()
    if how == "garbage":
        path.write_bytes(b"this is not sqlite" * 100)
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 3])
    elif how == "zero-byte":
        path.write_bytes(b"")
    elif how in ("newer", "negative"):
        db = sqlite3.connect(path)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1 if how == 'newer' else -1}")
        db.close()


@pytest.mark.parametrize(
    ("how", "error", "message"),
    [
        ("garbage", DatabaseDamaged, "is damaged .*mv .*instances.sqlite.bad.*nova-compute sync"),
        ("truncated", DatabaseDamaged, "is damaged .*nova-compute sync"),
        ("zero-byte", DatabaseDamaged, r"empty \(0 bytes\), the records are lost.*nova-compute sync"),
        ("newer", DatabaseTooNew, f"schema version {SCHEMA_VERSION + 1}, newer .*upgrade nova-common"),
        ("negative", DatabaseDamaged, r"is damaged \(schema version -1 is not a version nova-compute writes\)"),
    ],
)
def test_damaged_database_is_refused_and_left_as_is(
    tmp_path: Path, how: str, error: type[Exception], message: str
) -> None:
    path = tmp_path / "instances.sqlite"
    _damaged(path, how)
    before = path.read_bytes()
    with pytest.raises(error, match=message) as caught:
        InstanceStore(path, "o")
    assert "\n" not in str(caught.value)
    assert path.read_bytes() == before


def test_safe_output_escapes_control_characters() -> None:
    assert safe("a\x1b[2Jb\nc") == "a\\x1b[2Jb\\nc"
    assert safe("données") == "données"


class _TwoNodeDriver(FakeDriver):
    """Two nodes, like ironic: ``full`` has no room left, ``roomy`` has."""

    def get_available_nodes(self, refresh: bool = False) -> list[str]:
        return ["full", "roomy"]

    def get_available_resource(self, nodename: str) -> HostResources:
        used = 4 if nodename == "full" else 0
        return HostResources(
            hypervisor_type="fake",
            hypervisor_version="1",
            hypervisor_hostname=nodename,
            vcpus=4,
            vcpus_used=used,
            memory_mb=4096,
            memory_mb_used=used * 1024,
            local_gb=10,
            local_gb_used=0,
        )


def test_a_flavor_fits_if_any_node_has_room(tmp_path: Path) -> None:
    manager = _manager(tmp_path, _TwoNodeDriver)
    assert manager.boot("a", "m1.tiny", "cirros").vm_state is VMState.ACTIVE
    with pytest.raises(
        NoCapacity,
        match=r"does not fit node full: needs 2048 MB of memory, 0 free \(4096 x allocation ratio 1 - 4096 used\)",
    ):
        manager.boot("b", "m1.small", "cirros")
