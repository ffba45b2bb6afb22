"""ComputeManager: runs the instance lifecycle through a driver and keeps the records honest."""

from __future__ import annotations

import logging
import uuid as uuidlib
from dataclasses import dataclass

from nova_common.compute.errors import BootFailed
from nova_common.compute.flavors import get_flavor
from nova_common.compute.store import InstanceStore
from nova_common.driver import ComputeDriver
from nova_common.exception import InstanceNotFound, NotSupported
from nova_common.objects import (
    HostResources,
    ImageMeta,
    Instance,
    InstanceInfo,
    NetworkInfo,
    PowerState,
    RebootType,
    VMState,
)

__all__ = ["ComputeManager", "StateChange"]

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


@dataclass(frozen=True)
class StateChange:
    """One correction made by :meth:`ComputeManager.sync_power_states`."""

    instance: str
    field: str
    old: str
    new: str
    reason: str


class ComputeManager:
    """The lifecycle of instances on one host, driven through one driver."""

    def __init__(self, driver: ComputeDriver, store: InstanceStore, host: str) -> None:
        self.driver = driver
        self.store = store
        self.host = host

    def boot(self, name: str, flavor: str, image: str) -> Instance:
        """Create a record, spawn the guest, and mark it active.

        If the driver fails, the guest is destroyed and the record removed before ``BootFailed``
        is raised: a failed boot leaves nothing behind in the database or on the hypervisor.
        """
        instance = Instance(
            uuid=str(uuidlib.uuid4()), name=name, flavor=get_flavor(flavor), image_ref=image, host=self.host
        )
        self.store.add(instance)
        try:
            self.driver.spawn(instance, ImageMeta(id=image, name=image), NetworkInfo())
        except Exception as e:
            self._roll_back(instance)
            raise BootFailed(name=name, reason=str(e) or type(e).__name__) from e
        except BaseException:  # Ctrl-C mid-boot: same rollback, then let it propagate.
            self._roll_back(instance)
            raise
        return self._refresh(instance)

    def _roll_back(self, instance: Instance) -> None:
        try:
            self.driver.destroy(instance, NetworkInfo())
        except Exception:
            LOG.exception("cleaning up the guest of failed boot %s", instance.uuid)
        self.store.delete(instance.uuid)

    def delete(self, ref: str) -> Instance:
        """Destroy the guest (if any) and remove the record."""
        instance = self.store.get(ref)
        self.driver.destroy(instance, NetworkInfo())
        self.store.delete(instance.uuid)
        return instance

    def show(self, ref: str) -> tuple[Instance, InstanceInfo | None]:
        """The record and what the hypervisor reports (``None`` if the guest is missing)."""
        instance = self.store.get(ref)
        try:
            return instance, self.driver.get_info(instance)
        except InstanceNotFound:
            return instance, None

    def instances(self) -> list[Instance]:
        """Every instance record, by name."""
        return self.store.list()

    def reboot(self, ref: str, hard: bool = False) -> Instance:
        instance = self.store.get(ref)
        self.driver.reboot(instance, NetworkInfo(), RebootType.HARD if hard else RebootType.SOFT)
        return self._refresh(instance)

    def stop(self, ref: str) -> Instance:
        instance = self.store.get(ref)
        self.driver.power_off(instance)
        return self._refresh(instance)

    def start(self, ref: str) -> Instance:
        instance = self.store.get(ref)
        self.driver.power_on(instance, NetworkInfo())
        return self._refresh(instance)

    def pause(self, ref: str) -> Instance:
        instance = self.store.get(ref)
        self._require("supports_pause", "pause")
        self.driver.pause(instance)
        return self._refresh(instance)

    def unpause(self, ref: str) -> Instance:
        instance = self.store.get(ref)
        self._require("supports_pause", "unpause")
        self.driver.unpause(instance)
        return self._refresh(instance)

    def snapshot(self, ref: str, image_id: str) -> ImageMeta:
        """Capture the instance's disk as image ``image_id`` (``supports_snapshot``)."""
        instance = self.store.get(ref)
        self._require("supports_snapshot", "snapshot")
        return self.driver.snapshot(instance, image_id)

    def console_output(self, ref: str) -> str:
        """The guest's console log (``supports_console_output``)."""
        instance = self.store.get(ref)
        self._require("supports_console_output", "get_console_output")
        return self.driver.get_console_output(instance)

    def host_resources(self) -> list[HostResources]:
        return [self.driver.get_available_resource(n) for n in self.driver.get_available_nodes(refresh=True)]

    def sync_power_states(self) -> list[StateChange]:
        """Reconcile every record with the hypervisor and say what changed.

        A record whose guest is running differently gets the hypervisor's power state (the
        hypervisor is the truth); a record whose guest vanished gets ``nostate``/``error``.
        Guests this driver manages without a record are reported, not touched.
        """
        changes: list[StateChange] = []
        records = self.store.list()
        for instance in records:
            try:
                power = self.driver.get_info(instance).state
                reason = "hypervisor reports it"
            except InstanceNotFound:
                power = PowerState.NOSTATE
                reason = "guest is missing on the hypervisor"
            vm_state = _VM_STATE_FOR[power]
            for field, old, new in (
                ("power_state", instance.power_state.value, power.value),
                ("vm_state", instance.vm_state.value, vm_state.value),
            ):
                if old != new:
                    changes.append(StateChange(instance.name, field, old, new, reason))
            if instance.power_state is not power or instance.vm_state is not vm_state:
                instance.power_state, instance.vm_state = power, vm_state
                self.store.save(instance)
        known = {i.uuid for i in records}
        for orphan in sorted(set(self.driver.list_instances()) - known):
            changes.append(StateChange(orphan, "record", "-", "-", "guest has no record (left alone)"))
        return changes

    def _refresh(self, instance: Instance) -> Instance:
        instance.power_state = self.driver.get_info(instance).state
        instance.vm_state = _VM_STATE_FOR[instance.power_state]
        self.store.save(instance)
        return instance

    def _require(self, flag: str, operation: str) -> None:
        if not getattr(self.driver.capabilities, flag):
            raise NotSupported(driver=self.driver.name, operation=operation)
