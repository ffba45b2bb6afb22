"""VMwareDriver: nova's compute driver over the vSphere API (pyvmomi).

Talks to a vCenter (or ESXi) SDK endpoint; tested against vcsim, govmomi's vCenter simulator.
Each instance is a VM named ``nova-<uuid>`` whose ``instanceUuid`` is the instance uuid and whose
``extraConfig`` carries nova's metadata (see :mod:`.vm_spec`): the driver finds its VMs from the
uuid alone, after a restart too, and ignores every VM it did not create.

The driver's node is one cluster (or standalone host's compute resource); VMs go into its root
resource pool, their files onto one of its datastores, their NICs onto one network.

Capabilities: suspend and snapshot. Pause is not a vSphere operation. Soft reboot asks VMware
Tools (``RebootGuest``) and falls back to a reset when the guest cannot (no tools, or vcsim, which
does not implement it). Volumes, interface hot-plug and consoles are not declared.
"""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import pyVmomi
from pyVim import connect as pyvim_connect

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
from nova_vmware import vm_spec
from nova_vmware.config import VMwareConfig
from nova_vmware.exception import VMwareConfigError, VMwareError

__all__ = ["VMwareDriver"]

# pyvmomi's bundled type stubs leave its data-object constructors untyped, which mypy strict
# rejects; this module uses the vSphere API as the dynamically typed API it is.
vim: Any = pyVmomi.vim
vmodl: Any = pyVmomi.vmodl
_connect: Any = pyvim_connect

_POWER_STATE = {
    "poweredOn": PowerState.RUNNING,
    "poweredOff": PowerState.SHUTDOWN,
    "suspended": PowerState.SUSPENDED,
}
_VM_PROPERTIES = [
    "config.instanceUuid",
    "config.extraConfig",
    "config.hardware.numCPU",
    "config.hardware.memoryMB",
    "runtime.powerState",
]
# Faults meaning "the guest cannot do this itself": no VMware Tools, or an API (vcsim) without it.
_GUEST_OP_UNAVAILABLE = (vim.fault.ToolsUnavailable, vmodl.fault.MethodNotFound, vmodl.fault.NotSupported)
_TASK_POLL_SECONDS = 0.05


def _fault_reason(fault: vmodl.MethodFault) -> str:
    """``InvalidPowerState``, plus the server's message when it says more than the type name."""
    name = type(fault).__name__.rsplit(".", 1)[-1]
    msg = str(getattr(fault, "msg", None) or "")
    if not msg or msg.lstrip("*").removeprefix("types.") == name:  # vcsim sends Go type names
        return name
    return f"{name}: {msg}"


@dataclass
class _VM:
    """One nova VM as the property collector reported it."""

    ref: Any
    uuid: str
    power_state: str
    vcpus: int
    memory_mb: int
    extra: dict[str, str]

    @property
    def state(self) -> PowerState:
        return _POWER_STATE.get(self.power_state, PowerState.NOSTATE)


class VMwareDriver(ComputeDriver):
    """Options: see :class:`nova_vmware.config.VMwareConfig`."""

    name = "vmware"
    api_versions = APIVersionRange("1.0", "1.0")

    #: Options that parse without a peer and connect to nothing (constructing the driver never
    #: connects; ``init_host`` does). ``release cut`` installs the wheel in a fresh venv and loads
    #: the driver with them: discovery, API negotiation, import and option parsing, no peer needed.
    smoke_options: ClassVar[Mapping[str, str]] = {
        "url": "https://vcenter.smoke.invalid/sdk",
        "username": "smoke",
        "password": "smoke",
    }

    @classmethod
    def smoke_check(cls) -> str:
        """Parse :attr:`smoke_options` with the driver's own config, connecting to nothing; say what passed."""
        config = VMwareConfig.from_options(cls.smoke_options)
        return f"VMwareConfig parsed url={config.url}"

    capabilities = Capabilities(supports_suspend=True, supports_snapshot=True)

    def __init__(self, virtapi: VirtAPI, options: Mapping[str, str]) -> None:
        super().__init__(virtapi, options)
        self.config = VMwareConfig.from_options(options)
        self._si: Any = None
        self._datacenter: Any = None
        self._compute: Any = None
        self._datastore: Any = None
        self._network: Any = None

    # -- connection ------------------------------------------------------------------------------

    def init_host(self, host: str) -> None:
        cfg = self.config
        # pyVmomi bounds its SOAP connection by httpConnectionTimeout, but SmartConnect first reads
        # the endpoint's vimServiceVersions.xml over a connection without any timeout: the
        # process-wide default bounds that one (init_host runs once, before any other work).
        default_timeout = socket.getdefaulttimeout()
        socket.setdefaulttimeout(cfg.api_timeout)
        try:
            self._si = _connect.SmartConnect(
                protocol=cfg.scheme,
                host=cfg.host,
                port=cfg.port,
                path=cfg.path,
                user=cfg.username,
                pwd=cfg.password,
                disableSslCertValidation=cfg.insecure,
                httpConnectionTimeout=cfg.api_timeout,
            )
        except vim.fault.InvalidLogin:
            raise VMwareError(
                operation=f"log in to {cfg.endpoint} as {cfg.username!r}",
                reason="invalid user name or password (check the username and password options)",
            ) from None
        except vmodl.MethodFault as e:
            raise VMwareError(operation=f"connect to {cfg.endpoint}", reason=_fault_reason(e)) from e
        except Exception as e:  # SmartConnect raises socket, ssl, http and plain errors alike
            raise VMwareError(operation=f"connect to {cfg.endpoint}", reason=self._transport_reason(e)) from e
        finally:
            socket.setdefaulttimeout(default_timeout)
        with self._vim(f"read the inventory of {cfg.endpoint}"):
            self._find_inventory()

    def _find_inventory(self) -> None:
        cfg = self.config
        content = self.content
        datacenters = [e for e in content.rootFolder.childEntity if isinstance(e, vim.Datacenter)]
        self._datacenter = _pick("datacenter", cfg.datacenter, datacenters)
        computes = [e for e in self._datacenter.hostFolder.childEntity if isinstance(e, vim.ComputeResource)]
        if cfg.cluster is None:
            # Prefer a cluster to a standalone host.
            computes.sort(key=lambda c: not isinstance(c, vim.ClusterComputeResource))
        self._compute = _pick("cluster", cfg.cluster, computes)
        datastores = list(self._compute.datastore)
        if cfg.datastore is None:
            datastores.sort(key=lambda d: -int(d.summary.freeSpace or 0))
        self._datastore = _pick("datastore", cfg.datastore, datastores)
        self._network = _pick("network", cfg.network, list(self._datacenter.network))

    def cleanup_host(self, host: str) -> None:
        if self._si is not None:
            try:
                _connect.Disconnect(self._si)
            except Exception:  # must not raise: the session may already be gone
                pass
            self._si = None

    @property
    def content(self) -> Any:
        if self._si is None:
            raise VMwareError(operation="use the connection", reason="init_host() was not called")
        return self._si.RetrieveContent()

    @contextmanager
    def _vim(self, operation: str) -> Iterator[None]:
        """Translate vSphere faults and transport errors into :class:`VMwareError`."""
        try:
            yield
        except vmodl.MethodFault as e:
            raise VMwareError(operation=operation, reason=_fault_reason(e)) from e
        except (OSError, http.client.HTTPException) as e:
            reason = f"lost the connection to {self.config.endpoint}: {self._transport_reason(e)}"
            raise VMwareError(operation=operation, reason=reason) from e

    def _transport_reason(self, e: Exception) -> str:
        if isinstance(e, TimeoutError):
            return f"no answer within {self.config.api_timeout:g} s (raise the api_timeout option)"
        return str(e) or type(e).__name__

    def _run(self, operation: str, start: Callable[[], Any]) -> Any:
        """Start a vSphere task, wait for it, return its result or raise its fault."""
        with self._vim(operation):
            task = start()
            while True:
                info = task.info
                if info.state == vim.TaskInfo.State.success:
                    return info.result
                if info.state == vim.TaskInfo.State.error:
                    raise info.error
                time.sleep(_TASK_POLL_SECONDS)

    # -- finding VMs -----------------------------------------------------------------------------

    def _nova_vms(self) -> list[_VM]:
        """Every nova VM in the datacenter, with its state and size, in one property-collector call."""
        pc = vmodl.query.PropertyCollector
        with self._vim("list VMs"):
            content = self.content
            view = content.viewManager.CreateContainerView(self._datacenter.vmFolder, [vim.VirtualMachine], True)
            try:
                spec = pc.FilterSpec(
                    objectSet=[
                        pc.ObjectSpec(
                            obj=view,
                            skip=True,
                            selectSet=[
                                pc.TraversalSpec(name="view", path="view", skip=False, type=vim.view.ContainerView)
                            ],
                        )
                    ],
                    propSet=[pc.PropertySpec(type=vim.VirtualMachine, pathSet=_VM_PROPERTIES)],
                )
                objects: list[Any] = []
                result = content.propertyCollector.RetrievePropertiesEx([spec], pc.RetrieveOptions())
                while result is not None:
                    objects.extend(result.objects)
                    token = result.token
                    result = content.propertyCollector.ContinueRetrievePropertiesEx(token) if token else None
            finally:
                view.Destroy()
        vms = []
        for obj in objects:
            props = {p.name: p.val for p in obj.propSet}
            uuid = props.get("config.instanceUuid")
            extra = vm_spec.extra_config(props.get("config.extraConfig"))
            if not vm_spec.is_nova_vm(uuid, extra):
                continue
            vms.append(
                _VM(
                    ref=obj.obj,
                    uuid=str(uuid),
                    power_state=str(props.get("runtime.powerState", "")),
                    vcpus=int(props.get("config.hardware.numCPU") or 0),
                    memory_mb=int(props.get("config.hardware.memoryMB") or 0),
                    extra=extra,
                )
            )
        return vms

    def _vm(self, instance: Instance) -> _VM:
        """The nova VM of ``instance``, or :class:`InstanceNotFound`."""
        with self._vim(f"look up {instance.uuid}"):
            ref = self.content.searchIndex.FindByUuid(self._datacenter, instance.uuid, True, True)
            if ref is None:
                raise InstanceNotFound(instance_uuid=instance.uuid)
            try:
                config, power_state = ref.config, ref.runtime.powerState
            except vmodl.fault.ManagedObjectNotFound:
                raise InstanceNotFound(instance_uuid=instance.uuid) from None
        extra = vm_spec.extra_config(config.extraConfig if config else None)
        if config is None or not vm_spec.is_nova_vm(config.instanceUuid, extra):
            # Same uuid, but not a VM nova created: not ours to touch.
            raise InstanceNotFound(instance_uuid=instance.uuid)
        return _VM(ref, instance.uuid, str(power_state), config.hardware.numCPU, config.hardware.memoryMB, extra)

    def _require(self, instance: Instance, operation: str, *states: PowerState) -> _VM:
        vm = self._vm(instance)
        if vm.state not in states:
            raise InvalidPowerState(operation=operation, instance_uuid=instance.uuid, power_state=vm.state.value)
        return vm

    # -- host ------------------------------------------------------------------------------------

    def get_available_nodes(self, refresh: bool = False) -> list[str]:
        with self._vim("read the cluster name"):
            return [str(self._compute.name)]

    def get_available_resource(self, nodename: str) -> HostResources:
        nodes = self.get_available_nodes()
        if nodename not in nodes:
            raise NodeNotFound(nodename=nodename, nodes=nodes)
        with self._vim(f"read the resources of {nodename}"):
            about = self.content.about
            summary = self._compute.summary
            hosts = list(self._compute.host)
            cpu_model = str(hosts[0].summary.hardware.cpuModel) if hosts else ""
            capacity = sum(int(d.summary.capacity or 0) for d in self._compute.datastore)
        vms = self._nova_vms()
        return HostResources(
            hypervisor_type=str(about.name),
            hypervisor_version=str(about.version),
            hypervisor_hostname=nodename,
            vcpus=int(summary.numCpuThreads),
            vcpus_used=sum(vm.vcpus for vm in vms),
            memory_mb=int(summary.totalMemory) // 1024**2,
            memory_mb_used=sum(vm.memory_mb for vm in vms),
            local_gb=capacity // 1024**3,
            local_gb_used=sum(vm_spec.flavor_size(vm.extra) for vm in vms),
            cpu_info={"model": cpu_model, "total_mhz": str(summary.totalCpu), "hosts": str(len(hosts))},
        )

    # -- instances -------------------------------------------------------------------------------

    def list_instances(self) -> list[str]:
        return [vm.uuid for vm in self._nova_vms()]

    def get_info(self, instance: Instance) -> InstanceInfo:
        vm = self._vm(instance)
        return InstanceInfo(state=vm.state, internal_id=vm.ref._moId, memory_mb=vm.memory_mb, vcpus=vm.vcpus)

    def spawn(
        self,
        instance: Instance,
        image_meta: ImageMeta,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        try:
            self._vm(instance)
            raise InstanceExists(instance_uuid=instance.uuid)
        except InstanceNotFound:
            pass
        spec = vm_spec.config_spec(instance, network_info, self._datastore.name, self._network)
        pool = self._compute.resourcePool
        try:
            ref = self._run(
                f"create the VM of {instance.uuid}", lambda: self._datacenter.vmFolder.CreateVM_Task(spec, pool)
            )
            self._power_on_vm(instance, ref)
        except BaseException as failure:
            # The contract: a failed spawn leaves no VM (and no disk) behind.
            try:
                self._remove(instance, destroy_disks=True)
            except Exception as cleanup:
                failure.add_note(f"cleaning up the partial VM failed too: {cleanup}")
            raise

    def _power_on_vm(self, instance: Instance, ref: Any) -> None:
        self._run(f"power on {instance.uuid}", ref.PowerOnVM_Task)

    def destroy(
        self,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
        destroy_disks: bool = True,
    ) -> None:
        self._remove(instance, destroy_disks)

    def _remove(self, instance: Instance, destroy_disks: bool) -> None:
        try:
            vm = self._vm(instance)
        except InstanceNotFound:
            return
        try:
            if vm.state is not PowerState.SHUTDOWN:
                self._run(f"power off {instance.uuid}", vm.ref.PowerOffVM_Task)
            if destroy_disks:
                self._run(f"destroy {instance.uuid}", vm.ref.Destroy_Task)
            else:
                with self._vim(f"unregister {instance.uuid}"):
                    vm.ref.UnregisterVM()
        except VMwareError as e:
            if isinstance(e.__cause__, vmodl.fault.ManagedObjectNotFound):
                return  # removed meanwhile: the postcondition holds
            raise

    def reboot(self, instance: Instance, network_info: NetworkInfo, reboot_type: RebootType) -> None:
        vm = self._require(instance, "reboot", PowerState.RUNNING)
        if reboot_type is RebootType.SOFT:
            try:
                with self._vim(f"reboot {instance.uuid}"):
                    vm.ref.RebootGuest()
                return
            except VMwareError as e:
                if not isinstance(e.__cause__, _GUEST_OP_UNAVAILABLE):
                    raise
                # The guest cannot reboot itself: the contract says fall back to hard.
        self._run(f"reset {instance.uuid}", vm.ref.ResetVM_Task)

    def power_off(self, instance: Instance, timeout: int = 0, retry_interval: int = 0) -> None:
        vm = self._vm(instance)
        graceful_power_off(
            timeout=timeout,
            retry_interval=retry_interval,
            is_off=lambda: self._vm(instance).state is PowerState.SHUTDOWN,
            request_shutdown=lambda: vm.state is PowerState.RUNNING and self._shutdown_guest(instance, vm),
            force_off=lambda: self._run(f"power off {instance.uuid}", vm.ref.PowerOffVM_Task),
        )

    def _shutdown_guest(self, instance: Instance, vm: _VM) -> bool:
        """Ask the guest OS to shut down; False when it cannot be asked."""
        try:
            with self._vim(f"shut down the guest of {instance.uuid}"):
                vm.ref.ShutdownGuest()
            return True
        except VMwareError as e:
            if isinstance(e.__cause__, _GUEST_OP_UNAVAILABLE):
                return False
            raise

    def power_on(
        self,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        vm = self._vm(instance)
        if vm.state is not PowerState.RUNNING:
            self._run(f"power on {instance.uuid}", vm.ref.PowerOnVM_Task)

    # -- optional operations ---------------------------------------------------------------------

    def suspend(self, instance: Instance) -> None:
        vm = self._require(instance, "suspend", PowerState.RUNNING)
        self._run(f"suspend {instance.uuid}", vm.ref.SuspendVM_Task)

    def resume(self, instance: Instance, network_info: NetworkInfo) -> None:
        vm = self._require(instance, "resume", PowerState.SUSPENDED)
        self._run(f"resume {instance.uuid}", vm.ref.PowerOnVM_Task)

    def snapshot(self, instance: Instance, image_id: str) -> ImageMeta:
        vm = self._vm(instance)
        self._run(
            f"snapshot {instance.uuid}",
            lambda: vm.ref.CreateSnapshot_Task(
                name=image_id, description=f"nova snapshot of {instance.name}", memory=False, quiesce=False
            ),
        )
        return ImageMeta(id=image_id, name=f"snapshot of {instance.name}", disk_format="vmdk")


def _pick(option: str, wanted: str | None, candidates: list[Any]) -> Any:
    """The inventory object named ``wanted`` (or the first), else a config error naming ``option``."""
    names = [str(c.name) for c in candidates]
    if not candidates:
        raise VMwareConfigError(driver="vmware", option=option, reason=f"the inventory has no {option}")
    if wanted is None:
        return candidates[0]
    for candidate, name in zip(candidates, names, strict=True):
        if name == wanted:
            return candidate
    raise VMwareConfigError(
        driver="vmware", option=option, reason=f"no {option} named {wanted!r}; available: {', '.join(names)}"
    )
