"""ComputeManager: runs the instance lifecycle through a driver and keeps the records honest.

Concurrency: every change to one instance (record and guest) happens under that instance's
lock (:func:`.locks.instance_lock`), and the record is re-read under it, so two commands never
interleave on one instance; the store serialises the records themselves.
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from nova_common.compute.capacity import AllocationRatios, check_fits
from nova_common.compute.errors import BootFailed, Interrupted, NoCapacity
from nova_common.compute.flavors import FLAVORS, get_flavor
from nova_common.compute.locks import instance_lock, lock_file
from nova_common.compute.names import is_uuid, validate_image_id, validate_name
from nova_common.compute.signals import Interrupts
from nova_common.compute.store import InstanceStore, Row
from nova_common.driver import ComputeDriver
from nova_common.exception import InstanceNotFound, NotSupported
from nova_common.objects import (
    Flavor,
    HostResources,
    ImageMeta,
    Instance,
    InstanceInfo,
    NetworkInfo,
    PowerState,
    RebootType,
    VMState,
)

__all__ = ["BOOT_STEPS", "ComputeManager", "Deleted", "StateChange"]

LOG = logging.getLogger(__name__)

#: The vm_state an instance settles in for each power state the hypervisor reports.
_VM_STATE_FOR = {
    PowerState.RUNNING: VMState.ACTIVE,
    PowerState.PAUSED: VMState.PAUSED,
    PowerState.SUSPENDED: VMState.SUSPENDED,
    PowerState.SHUTDOWN: VMState.STOPPED,
    PowerState.CRASHED: VMState.ERROR,
    PowerState.NOSTATE: VMState.ERROR,
}

#: The boundaries of a boot, in order (see :meth:`ComputeManager.boot`).
BOOT_STEPS = ("validated", "record committed", "guest spawned", "record active")


@dataclass(frozen=True)
class StateChange:
    """One correction made (or, in a dry run, proposed) by :meth:`ComputeManager.sync_power_states`."""

    instance: str
    field: str
    old: str
    new: str
    reason: str


@dataclass(frozen=True)
class Deleted:
    """What :meth:`ComputeManager.delete` removed."""

    name: str
    uuid: str
    flavor: str
    record: str
    guest: str


class ComputeManager:
    """The lifecycle of instances on one host, driven through one driver."""

    def __init__(
        self,
        driver: ComputeDriver,
        store: InstanceStore,
        host: str,
        *,
        interrupts: Interrupts | None = None,
        ratios: AllocationRatios | None = None,
    ) -> None:
        self.driver = driver
        self.store = store
        self.host = host
        self.interrupts = interrupts or Interrupts()
        self.ratios = ratios or AllocationRatios()

    def _lock(self, uuid: str) -> AbstractContextManager[None]:
        return instance_lock(self.store.path.parent, uuid, self.interrupts.check)

    def boot(self, name: str, flavor: str, image: str) -> Instance:
        """Create a record, spawn the guest, and mark it active, in the steps of ``BOOT_STEPS``.

        An interrupt (SIGINT/SIGTERM under :class:`Interrupts`) before the guest is spawned rolls
        the boot back and raises ``Interrupted``; one arriving later lets the boot complete. If the
        driver fails, the guest is destroyed and the record removed before ``BootFailed`` is
        raised. Either way a boot leaves nothing half-done in the database or on the hypervisor.
        """
        instance = Instance(
            uuid=str(uuidlib.uuid4()),
            name=validate_name(name),
            flavor=get_flavor(flavor),
            image_ref=image,
            host=self.host,
        )
        steps = self.interrupts
        steps.step_done(0)
        steps.check()
        with self._lock(instance.uuid):
            self.store.add(instance, claim=lambda building: self._claim(instance.flavor, building))
            steps.step_done(1)
            try:
                steps.check()
                self.driver.spawn(instance, ImageMeta(id=image, name=image), NetworkInfo())
            except Interrupted:
                self._roll_back(instance)
                raise
            except Exception as e:
                self._roll_back(instance)
                raise BootFailed(name=repr(name), reason=str(e) or type(e).__name__) from e
            except BaseException:  # not under Interrupts (library use): Ctrl-C mid-boot rolls back too
                self._roll_back(instance)
                raise
            steps.step_done(2)
            try:
                self._refresh(instance)
            except Exception as e:
                self._roll_back(instance)
                raise BootFailed(name=repr(name), reason=str(e) or type(e).__name__) from e
            steps.step_done(3)
        return instance

    def _claim(self, flavor: Flavor, building: list[Instance]) -> None:
        on_hypervisor = set(self.driver.list_instances())
        pending = [i.flavor for i in building if i.uuid not in on_hypervisor]
        refusals: list[NoCapacity] = []
        for node in self.driver.get_available_nodes(refresh=True):
            try:
                check_fits(flavor, self.driver.get_available_resource(node), pending, self.ratios)
                return  # fits on this node (the driver places the guest)
            except NoCapacity as e:
                refusals.append(e)
        if refusals:
            raise refusals[0]

    def _roll_back(self, instance: Instance) -> None:
        try:
            self.driver.destroy(instance, NetworkInfo())
        except Exception:
            LOG.exception("cleaning up the guest of failed boot %s", instance.uuid)
        self.store.delete(instance.uuid)

    def delete(self, ref: str) -> Deleted:
        """Destroy the guest (if any) and remove the record, even one whose data is unreadable."""
        uuid = self.store.find(ref).uuid
        with self._lock(uuid):
            row = self.store.find_uuid(uuid)
            instance = row.instance or _stand_in(row)
            guest = "was already missing"
            if is_uuid(uuid):  # a damaged record's malformed uuid names no guest; drivers refuse it
                guest = "destroyed" if self._exists(instance) else guest
                self.driver.destroy(instance, NetworkInfo())  # also when missing: leftovers go too
            self.store.delete(uuid)
            lock_file(self.store.path.parent, uuid).unlink(missing_ok=True)  # waiters re-read and find no record
        return Deleted(row.name, uuid, instance.flavor.name if row.instance else "?", "removed", guest)

    def show(self, ref: str) -> tuple[Instance, InstanceInfo | None]:
        """The record and what the hypervisor reports (``None`` if the guest is missing)."""
        instance = self.store.get(ref)
        try:
            return instance, self.driver.get_info(instance)
        except InstanceNotFound:
            return instance, None

    def instances(self) -> list[Instance]:
        """Every readable instance record, by name."""
        return self.store.list()

    def reboot(self, ref: str, hard: bool = False) -> Instance:
        kind = RebootType.HARD if hard else RebootType.SOFT
        return self._change(ref, lambda i: self.driver.reboot(i, NetworkInfo(), kind))

    def stop(self, ref: str) -> Instance:
        return self._change(ref, self.driver.power_off)

    def start(self, ref: str) -> Instance:
        return self._change(ref, lambda i: self.driver.power_on(i, NetworkInfo()))

    def pause(self, ref: str) -> Instance:
        self._require("supports_pause", "pause")
        return self._change(ref, self.driver.pause)

    def unpause(self, ref: str) -> Instance:
        self._require("supports_pause", "unpause")
        return self._change(ref, self.driver.unpause)

    def _change(self, ref: str, operation: Callable[[Instance], object]) -> Instance:
        uuid = self.store.find(ref).uuid
        with self._lock(uuid):
            instance = self.store.find_uuid(uuid).require()
            operation(instance)
            return self._refresh(instance)

    def snapshot(self, ref: str, image_id: str) -> ImageMeta:
        """Capture the instance's disk as image ``image_id`` (``supports_snapshot``)."""
        self._require("supports_snapshot", "snapshot")
        validate_image_id(image_id)
        uuid = self.store.find(ref).uuid
        with self._lock(uuid):
            return self.driver.snapshot(self.store.find_uuid(uuid).require(), image_id)

    def console_output(self, ref: str) -> str:
        """The guest's console log (``supports_console_output``)."""
        instance = self.store.get(ref)
        self._require("supports_console_output", "get_console_output")
        return self.driver.get_console_output(instance)

    def host_resources(self) -> list[HostResources]:
        return [self.driver.get_available_resource(n) for n in self.driver.get_available_nodes(refresh=True)]

    def sync_power_states(self, dry_run: bool = False) -> list[StateChange]:
        """Reconcile every record with the hypervisor and say what changed (or would, ``dry_run``).

        The hypervisor is the truth: a record gets its guest's power state; a record whose guest
        vanished gets ``nostate``/``error``; a ``building`` record without a guest and without a
        boot in progress (its boot was killed) is removed; a guest of this driver without a record
        is adopted under the name ``adopted-<uuid prefix>``. Unreadable records are reported.
        """
        changes: list[StateChange] = []
        for row in self.store.rows():
            with self._lock(row.uuid):
                changes += self._sync_record(row.uuid, dry_run)
        for orphan in sorted(self.driver.list_instances()):
            with self._lock(orphan):
                changes += self._adopt(orphan, dry_run)
        return changes

    def _sync_record(self, uuid: str, dry_run: bool) -> list[StateChange]:
        rows = [r for r in self.store.rows() if r.uuid == uuid]
        if not rows:
            return []  # deleted meanwhile
        row = rows[0]
        if row.instance is None:
            return [StateChange(row.name, "record", "unreadable", "-", f"{row.error}; 'delete {uuid}' removes it")]
        instance = row.instance
        try:
            power = self.driver.get_info(instance).state
            reason = "hypervisor reports it"
        except InstanceNotFound:
            if instance.vm_state is VMState.BUILDING:
                if not dry_run:
                    self.store.delete(uuid)
                return [
                    StateChange(
                        instance.name, "record", "building", "removed", "its boot was killed before a guest existed"
                    )
                ]
            power = PowerState.NOSTATE
            reason = "guest is missing on the hypervisor"
        vm_state = _VM_STATE_FOR[power]
        changes = [
            StateChange(instance.name, field, old, new, reason)
            for field, old, new in (
                ("power_state", instance.power_state.value, power.value),
                ("vm_state", instance.vm_state.value, vm_state.value),
            )
            if old != new
        ]
        if changes and not dry_run:
            instance.power_state, instance.vm_state = power, vm_state
            self.store.save(instance)
        return changes

    def _adopt(self, uuid: str, dry_run: bool) -> list[StateChange]:
        if any(r.uuid == uuid for r in self.store.rows()):
            return []  # a boot that was in progress owns it
        stand_in = Instance(uuid=uuid, name=f"adopted-{uuid[:8]}", flavor=get_flavor("m1.nano"), image_ref="unknown")
        try:
            info = self.driver.get_info(stand_in)
        except InstanceNotFound:
            return []  # destroyed meanwhile
        flavor = next(
            (get_flavor(f.name) for f in FLAVORS.values() if (f.vcpus, f.memory_mb) == (info.vcpus, info.memory_mb)),
            Flavor(name="adopted", vcpus=info.vcpus, memory_mb=info.memory_mb, root_gb=0),
        )
        if any(r.name == stand_in.name for r in self.store.rows()):
            stand_in.name = f"adopted-{uuid}"
        adopted = Instance(
            uuid=uuid,
            name=stand_in.name,
            flavor=flavor,
            image_ref="unknown",
            host=self.host,
            power_state=info.state,
            vm_state=_VM_STATE_FOR[info.state],
        )
        if not dry_run:
            self.store.add(adopted)
        return [
            StateChange(adopted.name, "record", "-", "adopted", f"guest {uuid} had no record; flavor {flavor.name}")
        ]

    def _exists(self, instance: Instance) -> bool:
        try:
            self.driver.get_info(instance)
        except InstanceNotFound:
            return False
        return True

    def _refresh(self, instance: Instance) -> Instance:
        instance.power_state = self.driver.get_info(instance).state
        instance.vm_state = _VM_STATE_FOR[instance.power_state]
        self.store.save(instance)
        return instance

    def _require(self, flag: str, operation: str) -> None:
        if not getattr(self.driver.capabilities, flag):
            raise NotSupported(driver=self.driver.name, operation=operation)


def _stand_in(row: Row) -> Instance:
    """An instance to hand the driver for a record whose data is unreadable (drivers find guests by uuid)."""
    return Instance(uuid=row.uuid, name=row.name, flavor=get_flavor("m1.nano"), image_ref="unknown")
