"""A contract fake of the os-win utility classes the hyperv driver uses.

os-win drives Hyper-V through WMI, which exists only on Windows, and no Hyper-V can run on
Linux, so the driver's tests run against this instead. It implements exactly the os-win methods
the driver calls, with the same names and signatures as the real classes (``oswin_fake_test``
checks them against the installed os-win with ``inspect.signature``), and behaves as os-win
does on a Hyper-V host:

* ``set_vm_state`` maps os-win's ``HYPERV_VM_STATE_*`` request to Hyper-V's
  ``RequestStateChange``; a transition Hyper-V refuses returns 32775 ("invalid state for this
  operation"), which os-win accepts as success: the VM's state simply does not change. An
  unknown requested state is a ``KeyError`` (os-win indexes its state map).
* A missing VM raises ``os_win.exceptions.HyperVVMNotFoundException``; Hyper-V allows duplicate
  VM names, and os-win's lookups then raise ``HyperVException('Duplicate VM name found: ...')``.
* ``update_vm`` on a running VM and ``destroy_vm`` on a VM that is not off fail with
  ``WMIJobFailed`` (error code 32775). This is stricter than Hyper-V may be for ``destroy_vm``;
  the driver turns VMs off first, as Nova's Hyper-V driver did.
* ``soft_shutdown_vm`` turns a running VM off when its guest has the shutdown integration service
  (``FakeVM.integration_services``); without it, or when the VM is not running, there is no
  shutdown component and os-win returns without doing anything.
* ``get_volume_info`` of an unknown drive is an ``IndexError`` (os-win indexes the empty WMI
  query result).
"""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any

from os_win import constants
from os_win import exceptions as os_win_exc

__all__ = ["FakeHostUtils", "FakeUtilsFactory", "FakeVM", "FakeVMUtils"]

_INVALID_STATE = 32775

# Requested state -> the Hyper-V states it is allowed from.
_ALLOWED_FROM: dict[int, tuple[int, ...]] = {
    constants.HYPERV_VM_STATE_ENABLED: (
        constants.HYPERV_VM_STATE_DISABLED,
        constants.HYPERV_VM_STATE_PAUSED,
        constants.HYPERV_VM_STATE_SUSPENDED,
    ),
    constants.HYPERV_VM_STATE_DISABLED: (
        constants.HYPERV_VM_STATE_ENABLED,
        constants.HYPERV_VM_STATE_PAUSED,
        constants.HYPERV_VM_STATE_SUSPENDED,
    ),
    constants.HYPERV_VM_STATE_REBOOT: (constants.HYPERV_VM_STATE_ENABLED,),
    constants.HYPERV_VM_STATE_PAUSED: (constants.HYPERV_VM_STATE_ENABLED,),
    constants.HYPERV_VM_STATE_SUSPENDED: (constants.HYPERV_VM_STATE_ENABLED, constants.HYPERV_VM_STATE_PAUSED),
}


@dataclass
class FakeVM:
    """One Hyper-V VM (a realized ``Msvm_VirtualSystemSettingData`` and its computer system)."""

    name: str
    notes: list[str] | None
    generation: int
    instance_path: str
    vm_id: str = field(default_factory=lambda: str(uuidlib.uuid4()).upper())
    state: int = constants.HYPERV_VM_STATE_DISABLED
    memory_mb: int = 512
    vcpus: int = 1
    integration_services: bool = True
    uptime_ms: int = 0


def _job_failed(code: int) -> os_win_exc.WMIJobFailed:
    return os_win_exc.WMIJobFailed(error_code=code, job_state=None, error_summ_desc=None, error_desc=None)


class FakeVMUtils:
    """The ``os_win.utils.compute.vmutils.VMUtils`` methods the driver calls, over memory."""

    def __init__(self, host: str = ".") -> None:
        self.vms: list[FakeVM] = []
        self.state_requests: list[tuple[str, int]] = []
        self._faults: dict[str, Exception] = {}

    def _fail_next(self, method: str, error: Exception) -> None:
        """Make the next call of ``method`` raise ``error`` (an os-win exception), for failures the
        model cannot produce itself (a WMI job failing on the host)."""
        self._faults[method] = error

    def _fault(self, method: str) -> None:
        error = self._faults.pop(method, None)
        if error is not None:
            raise error

    # os-win's private lookups, with its errors
    def _lookup(self, vm_name: str) -> FakeVM | None:
        found = [v for v in self.vms if v.name == vm_name]
        if len(found) > 1:
            raise os_win_exc.HyperVException(f"Duplicate VM name found: {vm_name}")
        return found[0] if found else None

    def _lookup_check(self, vm_name: str) -> FakeVM:
        vm = self._lookup(vm_name)
        if vm is None:
            raise os_win_exc.HyperVVMNotFoundException(vm_name=vm_name)
        return vm

    def vm_exists(self, vm_name: str) -> bool:
        return self._lookup(vm_name) is not None

    def create_vm(
        self, vm_name: str, vnuma_enabled: bool, vm_gen: int, instance_path: str, notes: list[str] | None = None
    ) -> None:
        # Hyper-V accepts a second VM with the same name; lookups then fail as duplicates.
        self.vms.append(FakeVM(name=vm_name, notes=notes, generation=vm_gen, instance_path=instance_path))

    def update_vm(
        self,
        vm_name: str,
        memory_mb: int,
        memory_per_numa_node: int | None,
        vcpus_num: int,
        vcpus_per_numa_node: int | None,
        limit_cpu_features: bool,
        dynamic_mem_ratio: float,
        configuration_root_dir: str | None = None,
        snapshot_dir: str | None = None,
        host_shutdown_action: int | None = None,
        vnuma_enabled: bool | None = None,
        snapshot_type: int | None = None,
        is_planned_vm: bool = False,
        chassis_asset_tag: str | None = None,
    ) -> None:
        self._fault("update_vm")
        vm = self._lookup_check(vm_name)
        if vm.state != constants.HYPERV_VM_STATE_DISABLED:
            # Static memory and processor count cannot change while the VM runs.
            raise _job_failed(_INVALID_STATE)
        vm.memory_mb = int(memory_mb)
        vm.vcpus = int(vcpus_num)

    def set_vm_state(self, vm_name: str, req_state: int) -> None:
        vm = self._lookup_check(vm_name)
        allowed = _ALLOWED_FROM[req_state]  # KeyError for a state os-win does not know, as os-win
        self.state_requests.append((vm_name, req_state))
        if vm.state not in allowed:
            return  # Hyper-V answers 32775, which os-win accepts: nothing changes
        if req_state == constants.HYPERV_VM_STATE_REBOOT:
            vm.uptime_ms = 0
            return
        vm.state = req_state
        if req_state == constants.HYPERV_VM_STATE_DISABLED:
            vm.uptime_ms = 0

    def soft_shutdown_vm(self, vm_name: str) -> None:
        vm = self._lookup_check(vm_name)
        if vm.state == constants.HYPERV_VM_STATE_ENABLED and vm.integration_services:
            vm.state = constants.HYPERV_VM_STATE_DISABLED
            vm.uptime_ms = 0

    def get_vm_summary_info(self, vm_name: str) -> dict[str, Any]:
        vm = self._lookup_check(vm_name)
        running = vm.state != constants.HYPERV_VM_STATE_DISABLED
        return {
            "NumberOfProcessors": vm.vcpus,
            "EnabledState": vm.state,
            "MemoryUsage": vm.memory_mb if running else None,
            "UpTime": vm.uptime_ms if running else None,
        }

    def get_vm_memory_info(self, vm_name: str) -> dict[str, Any]:
        vm = self._lookup_check(vm_name)
        return {
            "DynamicMemoryEnabled": False,
            "Reservation": vm.memory_mb,
            "Limit": vm.memory_mb,
            "Weight": 5000,
            "MaxMemoryBlocksPerNumaNode": vm.memory_mb,
        }

    def get_vm_id(self, vm_name: str) -> str:
        return self._lookup_check(vm_name).vm_id

    def destroy_vm(self, vm_name: str) -> None:
        vm = self._lookup_check(vm_name)
        if vm.state != constants.HYPERV_VM_STATE_DISABLED:
            raise _job_failed(_INVALID_STATE)
        self.vms.remove(vm)

    def list_instance_notes(self) -> list[tuple[str, list[str]]]:
        return [(v.name, [n for n in v.notes if n]) for v in self.vms if v.notes is not None and v.name]

    def get_instance_uuid(self, vm_name: str) -> str | None:
        notes = [n for n in (self._lookup_check(vm_name).notes or []) if n]
        if notes and _is_uuid_like(notes[0]):
            return notes[0]
        return None


class FakeHostUtils:
    """The ``os_win.utils.hostutils.HostUtils`` methods the driver calls: a modest host."""

    def __init__(self) -> None:
        self.cpus = [
            {
                "Architecture": 9,
                "Name": "Fake Xeon",
                "Manufacturer": "GenuineIntel",
                "MaxClockSpeed": 2400,
                "NumberOfCores": 4,
                "NumberOfLogicalProcessors": 8,
            }
        ]
        self.memory_kb = (16 * 1024 * 1024, 12 * 1024 * 1024)
        self.volumes = {"C:": (200 * 1024**3, 150 * 1024**3)}
        self.windows_version = "10.0.20348"

    def get_cpus_info(self) -> list[dict[str, Any]]:
        return [dict(c) for c in self.cpus]

    def get_memory_info(self) -> tuple[int, int]:
        return self.memory_kb

    def get_volume_info(self, drive: str) -> tuple[int, int]:
        matches = [v for d, v in self.volumes.items() if d.lower() == drive.lower()]
        return matches[0]  # IndexError for an unknown drive, as os-win's [0] on an empty query

    def get_windows_version(self) -> str:
        return self.windows_version


class FakeUtilsFactory:
    """Stands in for the ``os_win.utilsfactory`` module; hands out one shared host's utilities."""

    def __init__(self) -> None:
        self.vmutils = FakeVMUtils()
        self.hostutils = FakeHostUtils()

    def get_vmutils(self, host: str = ".") -> FakeVMUtils:
        return self.vmutils

    def get_hostutils(self) -> FakeHostUtils:
        return self.hostutils


def _is_uuid_like(value: str) -> bool:
    try:
        return str(uuidlib.UUID(value)) == value.lower()
    except ValueError:
        return False
