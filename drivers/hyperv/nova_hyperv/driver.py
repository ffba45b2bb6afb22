"""HyperVDriver: nova's compute driver for Hyper-V, through os-win's utility classes only.

The driver never touches WMI itself: it gets ``VMUtils`` and ``HostUtils`` objects from an os-win
utils factory (by default the real :mod:`os_win.utilsfactory`) and calls their methods. The
factory is injectable, per driver (``HyperVDriver(virtapi, options, utils_factory=...)``) or for
every driver the loader builds (:data:`utils_factory`, this module's seam), so tests can supply a
fake without patching os-win internals.

Each instance is a VM named ``nova-<instance uuid>`` whose notes start with the instance uuid
(os-win's ``create_vm(..., notes=[uuid])`` / ``get_instance_uuid``, as Nova's Hyper-V driver did).
VMs without that name and note are never listed and never touched.

os-win needs Windows and WMI. On any other OS it imports, but its first call fails deep inside
(``'NoneType' object has no attribute 'Win32_OperatingSystem'``); ``init_host`` turns that into
:class:`~nova_hyperv.exception.HyperVUnavailable`.

Capabilities: pause and suspend (Hyper-V's Paused and Saved states through ``set_vm_state``).
Snapshot (Hyper-V checkpoints are not images), volumes, interfaces and console output are not
declared. VMs are created without disks or interfaces (no image handling).
"""

from __future__ import annotations

import functools
import socket
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol, TypeVar

from nova_common.api_version import APIVersionRange
from nova_common.driver import ComputeDriver
from nova_common.exception import InstanceExists, InstanceNotFound, InvalidPowerState, NodeNotFound
from nova_common.objects import (
    BlockDeviceInfo,
    Capabilities,
    HostResources,
    ImageMeta,
    Instance,
    InstanceInfo,
    NetworkInfo,
    PowerState,
    RebootType,
)
from nova_common.power import graceful_power_off
from nova_common.virtapi import VirtAPI
from nova_hyperv.config import HyperVConfig
from nova_hyperv.exception import HyperVError, HyperVUnavailable

with warnings.catch_warnings():
    # os-win 5.9 (its last release) imports eventlet, which announces its own deprecation in nine
    # lines, and pkg_resources, which setuptools deprecates: on every nova-compute command, and
    # about neither this driver nor anything its user can change.
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    warnings.filterwarnings("ignore", message=r"pkg_resources is deprecated")
    from os_win import constants, utilsfactory
    from os_win import exceptions as os_win_exc

__all__ = ["HyperVDriver", "UtilsFactory", "utils_factory", "vm_name"]

_T = TypeVar("_T")


class UtilsFactory(Protocol):
    """What the driver needs of :mod:`os_win.utilsfactory` (same names and signatures)."""

    def get_vmutils(self, host: str = ".") -> Any:
        ...

    def get_hostutils(self) -> Any:
        ...


#: The seam: the os-win utils factory every new driver uses unless given one. The real one.
utils_factory: UtilsFactory = utilsfactory

_POWER_STATE = {
    constants.HYPERV_VM_STATE_ENABLED: PowerState.RUNNING,
    constants.HYPERV_VM_STATE_DISABLED: PowerState.SHUTDOWN,
    constants.HYPERV_VM_STATE_PAUSED: PowerState.PAUSED,
    constants.HYPERV_VM_STATE_SUSPENDED: PowerState.SUSPENDED,
}


def vm_name(instance_uuid: str) -> str:
    """The Hyper-V VM name of an instance: unique, and found again from the uuid alone."""
    return f"nova-{instance_uuid}"


class HyperVDriver(ComputeDriver):
    """Options: see :class:`nova_hyperv.config.HyperVConfig`."""

    name = "hyperv"
    api_versions = APIVersionRange("1.0", "1.0")

    #: Options that parse without a peer and connect to nothing (constructing the driver never
    #: connects; ``init_host`` does). ``release cut`` installs the wheel in a fresh venv and loads
    #: the driver with them: discovery, API negotiation, import and option parsing, no peer needed.
    smoke_options: ClassVar[Mapping[str, str]] = {"host": "."}

    @classmethod
    def smoke_check(cls) -> str:
        """Parse :attr:`smoke_options` with the driver's own config, connecting to nothing; say what passed."""
        config = HyperVConfig.from_options(cls.smoke_options)
        return f"HyperVConfig parsed host={config.host}"

    capabilities = Capabilities(supports_pause=True, supports_suspend=True)

    def __init__(self, virtapi: VirtAPI, options: Mapping[str, str], utils_factory: UtilsFactory | None = None) -> None:
        super().__init__(virtapi, options)
        self.config = HyperVConfig.from_options(options)
        self._factory = utils_factory if utils_factory is not None else _module_factory()
        self._vmutils: Any = None
        self._hostutils: Any = None

    # -- connection ------------------------------------------------------------------------------

    def init_host(self, host: str) -> None:
        try:
            vmutils = self._factory.get_vmutils(self.config.host)
            hostutils = self._factory.get_hostutils()
        except os_win_exc.OSWinException as e:
            raise HyperVError(operation="load os-win's utilities", reason=str(e)) from None
        except (AttributeError, NameError, ImportError, OSError) as e:
            # What os-win does off Windows: its WMI connection is None (or `wmi` is not imported).
            raise HyperVUnavailable(platform=sys.platform, reason=f"{type(e).__name__}: {e}") from None
        self._vmutils, self._hostutils = vmutils, hostutils

    @property
    def vmutils(self) -> Any:
        if self._vmutils is None:
            raise HyperVError(operation="use os-win", reason="init_host() was not called")
        return self._vmutils

    @property
    def hostutils(self) -> Any:
        if self._hostutils is None:
            raise HyperVError(operation="use os-win", reason="init_host() was not called")
        return self._hostutils

    def _call(self, operation: str, fn: Callable[[], _T], instance: Instance | None = None) -> _T:
        """Run one os-win call, translating os-win's exceptions into the API's and the driver's."""
        try:
            return fn()
        except os_win_exc.HyperVVMNotFoundException:
            if instance is not None:
                raise InstanceNotFound(instance_uuid=instance.uuid) from None
            raise HyperVError(operation=operation, reason="the VM disappeared") from None
        except (os_win_exc.OSWinException, os_win_exc.x_wmi) as e:
            raise HyperVError(operation=operation, reason=str(e) or type(e).__name__) from None

    # -- finding nova's VMs ----------------------------------------------------------------------

    def _nova_vm_names(self) -> dict[str, str]:
        """nova uuid -> VM name, for every VM this driver created."""
        notes: list[tuple[str, list[str]]] = self._call("list VMs", self.vmutils.list_instance_notes)
        return {n[0]: name for name, n in notes if n and name == vm_name(n[0])}

    def _vm(self, instance: Instance) -> str:
        name = vm_name(instance.uuid)
        exists = self._call(f"look up {instance.uuid}", lambda: self.vmutils.vm_exists(name))
        if not exists:
            raise InstanceNotFound(instance_uuid=instance.uuid)
        owner = self._call(f"look up {instance.uuid}", lambda: self.vmutils.get_instance_uuid(name), instance)
        if owner != instance.uuid:
            # Named like ours, but not created by this driver: not ours to touch.
            raise InstanceNotFound(instance_uuid=instance.uuid)
        return name

    def _hyperv_state(self, name: str, instance: Instance) -> int:
        summary = self._call(
            f"read the state of {instance.uuid}", lambda: self.vmutils.get_vm_summary_info(name), instance
        )
        return int(summary["EnabledState"])

    def _state(self, name: str, instance: Instance) -> PowerState:
        return _POWER_STATE.get(self._hyperv_state(name, instance), PowerState.NOSTATE)

    def _require(self, instance: Instance, operation: str, state: PowerState) -> str:
        # os-win treats Hyper-V's "invalid state for this operation" (32775) as success, so a
        # refused transition would pass silently: the driver checks the state first.
        name = self._vm(instance)
        current = self._state(name, instance)
        if current is not state:
            raise InvalidPowerState(operation=operation, instance_uuid=instance.uuid, power_state=current.value)
        return name

    def _set_state(self, name: str, instance: Instance, operation: str, req_state: int) -> None:
        self._call(f"{operation} {instance.uuid}", lambda: self.vmutils.set_vm_state(name, req_state), instance)

    # -- host ------------------------------------------------------------------------------------

    def get_available_nodes(self, refresh: bool = False) -> list[str]:
        return [socket.gethostname()]

    def get_available_resource(self, nodename: str) -> HostResources:
        if nodename not in self.get_available_nodes():
            raise NodeNotFound(nodename=nodename, nodes=self.get_available_nodes())
        cpus: list[dict[str, Any]] = self._call("read host CPUs", self.hostutils.get_cpus_info)
        total_kb, _free_kb = self._call("read host memory", self.hostutils.get_memory_info)
        try:
            total_bytes, _free_bytes = self._call(
                f"read volume {self.config.drive}", lambda: self.hostutils.get_volume_info(self.config.drive)
            )
        except IndexError:
            # os-win indexes the WMI query result: an unknown drive is an empty result.
            raise HyperVError(operation=f"read volume {self.config.drive}", reason="no such volume") from None
        version = self._call("read the Windows version", self.hostutils.get_windows_version)
        vcpus_used = memory_used = 0
        for name in self._nova_vm_names().values():
            summary = self._call("read a VM summary", functools.partial(self.vmutils.get_vm_summary_info, name))
            memory = self._call("read VM memory", functools.partial(self.vmutils.get_vm_memory_info, name))
            vcpus_used += int(summary["NumberOfProcessors"])
            memory_used += int(memory["Limit"])
        return HostResources(
            hypervisor_type="hyperv",
            hypervisor_version=str(version),
            hypervisor_hostname=nodename,
            vcpus=sum(int(c["NumberOfLogicalProcessors"]) for c in cpus),
            vcpus_used=vcpus_used,
            memory_mb=int(total_kb) // 1024,
            memory_mb_used=memory_used,
            local_gb=int(total_bytes) // 1024**3,
            local_gb_used=0,  # the driver creates no disks (no image handling)
            cpu_info={k: str(cpus[0][k]) for k in ("Architecture", "Name", "Manufacturer") if cpus and k in cpus[0]},
        )

    # -- instances -------------------------------------------------------------------------------

    def list_instances(self) -> list[str]:
        return list(self._nova_vm_names())

    def get_info(self, instance: Instance) -> InstanceInfo:
        name = self._vm(instance)
        summary = self._call(f"read {instance.uuid}", lambda: self.vmutils.get_vm_summary_info(name), instance)
        memory = self._call(f"read {instance.uuid}", lambda: self.vmutils.get_vm_memory_info(name), instance)
        vm_id = self._call(f"read {instance.uuid}", lambda: self.vmutils.get_vm_id(name), instance)
        return InstanceInfo(
            state=_POWER_STATE.get(int(summary["EnabledState"]), PowerState.NOSTATE),
            internal_id=str(vm_id),
            memory_mb=int(memory["Limit"]),
            vcpus=int(summary["NumberOfProcessors"]),
        )

    def spawn(
        self,
        instance: Instance,
        image_meta: ImageMeta,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        name = vm_name(instance.uuid)
        if self._call(f"look up {instance.uuid}", lambda: self.vmutils.vm_exists(name)):
            raise InstanceExists(instance_uuid=instance.uuid)
        generation = constants.VM_GEN_2 if self.config.vm_generation == 2 else constants.VM_GEN_1
        path = self.config.instances_path.rstrip("\\") + "\\" + name
        self._call(
            f"create the VM of {instance.uuid}",
            lambda: self.vmutils.create_vm(name, False, generation, path, notes=[instance.uuid]),
        )
        try:
            self._call(
                f"size the VM of {instance.uuid}",
                lambda: self.vmutils.update_vm(
                    name, instance.flavor.memory_mb, None, instance.flavor.vcpus, None, False, 1.0
                ),
            )
            self._set_state(name, instance, "start", constants.HYPERV_VM_STATE_ENABLED)
            if self._hyperv_state(name, instance) != constants.HYPERV_VM_STATE_ENABLED:
                raise HyperVError(operation=f"start {instance.uuid}", reason="the VM did not start")
        except BaseException:
            # The contract: a failed spawn leaves no VM behind.
            self._remove(name, instance)
            raise

    def _remove(self, name: str, instance: Instance) -> None:
        if self._hyperv_state(name, instance) != constants.HYPERV_VM_STATE_DISABLED:
            # Like Nova's Hyper-V driver: turn the VM off before DestroySystem.
            self._set_state(name, instance, "turn off", constants.HYPERV_VM_STATE_DISABLED)
        self._call(f"destroy {instance.uuid}", lambda: self.vmutils.destroy_vm(name), instance)

    def destroy(
        self,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
        destroy_disks: bool = True,
    ) -> None:
        try:
            name = self._vm(instance)
            self._remove(name, instance)
        except InstanceNotFound:
            return

    def reboot(self, instance: Instance, network_info: NetworkInfo, reboot_type: RebootType) -> None:
        # SOFT falls back to HARD, as the contract allows: a soft reboot through os-win means a
        # guest-initiated shutdown (integration services) and a start, which the tests' fake
        # cannot vouch for beyond the shutdown request itself.
        name = self._require(instance, "reboot", PowerState.RUNNING)
        self._set_state(name, instance, "reboot", constants.HYPERV_VM_STATE_REBOOT)

    def power_off(self, instance: Instance, timeout: int = 0, retry_interval: int = 0) -> None:
        name = self._vm(instance)

        def ask_guest() -> bool:
            # Only a running guest can be asked, through its shutdown integration service.
            if self._hyperv_state(name, instance) != constants.HYPERV_VM_STATE_ENABLED:
                return False
            self._call(f"shut down {instance.uuid}", lambda: self.vmutils.soft_shutdown_vm(name), instance)
            return True

        graceful_power_off(
            timeout=timeout,
            retry_interval=retry_interval,
            is_off=lambda: self._hyperv_state(name, instance) == constants.HYPERV_VM_STATE_DISABLED,
            request_shutdown=ask_guest,
            force_off=lambda: self._set_state(name, instance, "turn off", constants.HYPERV_VM_STATE_DISABLED),
        )

    def power_on(
        self,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        name = self._vm(instance)
        if self._hyperv_state(name, instance) != constants.HYPERV_VM_STATE_ENABLED:
            # Hyper-V's Enabled request starts an off VM, resumes a paused one, restores a saved one.
            self._set_state(name, instance, "power on", constants.HYPERV_VM_STATE_ENABLED)

    # -- optional operations ---------------------------------------------------------------------

    def pause(self, instance: Instance) -> None:
        name = self._require(instance, "pause", PowerState.RUNNING)
        self._set_state(name, instance, "pause", constants.HYPERV_VM_STATE_PAUSED)

    def unpause(self, instance: Instance) -> None:
        name = self._require(instance, "unpause", PowerState.PAUSED)
        self._set_state(name, instance, "unpause", constants.HYPERV_VM_STATE_ENABLED)

    def suspend(self, instance: Instance) -> None:
        name = self._require(instance, "suspend", PowerState.RUNNING)
        self._set_state(name, instance, "suspend", constants.HYPERV_VM_STATE_SUSPENDED)

    def resume(self, instance: Instance, network_info: NetworkInfo) -> None:
        name = self._require(instance, "resume", PowerState.SUSPENDED)
        self._set_state(name, instance, "resume", constants.HYPERV_VM_STATE_ENABLED)


def _module_factory() -> UtilsFactory:
    """The current value of the :data:`utils_factory` seam (read at construction time)."""
    return utils_factory
