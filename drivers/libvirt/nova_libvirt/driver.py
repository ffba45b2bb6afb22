"""LibvirtDriver: nova's compute driver over libvirt-python.

Works against any libvirt URI; by default ``test:///default``, libvirt's built-in test hypervisor
(real libvirt code in process, no daemon), persisted across restarts (see :mod:`.embedded_host`).
Guests are domains named ``nova-<instance uuid>`` with the instance uuid as domain UUID and nova's
metadata inside the domain, so the driver finds its guests from the uuid alone and ignores others.

Capabilities: pause, suspend (managed save) and snapshot. Volume attach, interface hot-plug and
console output are not declared: the test hypervisor cannot do live device changes or consoles,
and the driver does not claim what the tests cannot prove.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar
from xml.sax.saxutils import escape

import libvirt

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
from nova_libvirt import embedded_host, guest_xml
from nova_libvirt.config import LibvirtConfig
from nova_libvirt.exception import LibvirtError

__all__ = ["LibvirtDriver"]

_T = TypeVar("_T")

_POWER_STATE = {
    libvirt.VIR_DOMAIN_NOSTATE: PowerState.NOSTATE,
    libvirt.VIR_DOMAIN_RUNNING: PowerState.RUNNING,
    libvirt.VIR_DOMAIN_BLOCKED: PowerState.RUNNING,
    libvirt.VIR_DOMAIN_PAUSED: PowerState.PAUSED,
    libvirt.VIR_DOMAIN_SHUTDOWN: PowerState.SHUTDOWN,
    libvirt.VIR_DOMAIN_SHUTOFF: PowerState.SHUTDOWN,
    libvirt.VIR_DOMAIN_CRASHED: PowerState.CRASHED,
    libvirt.VIR_DOMAIN_PMSUSPENDED: PowerState.SUSPENDED,
}


def _reason(error: libvirt.libvirtError) -> str:
    return error.get_error_message() or str(error)


def _ignore_libvirt_error(_ctx: object, _error: object) -> None:
    """libvirt prints every error to stderr by default; ours are raised as LibvirtError."""


libvirt.registerErrorHandler(_ignore_libvirt_error, None)


class LibvirtDriver(ComputeDriver):
    """Options: see :class:`nova_libvirt.config.LibvirtConfig`."""

    name = "libvirt"
    api_versions = APIVersionRange("1.0", "1.0")
    capabilities = Capabilities(supports_pause=True, supports_suspend=True, supports_snapshot=True)

    def __init__(self, virtapi: VirtAPI, options: Mapping[str, str]) -> None:
        super().__init__(virtapi, options)
        self.config = LibvirtConfig.from_options(options)
        self._conn: libvirt.virConnect | None = None
        self._embedded: embedded_host.EmbeddedHost | None = None

    # -- connection ------------------------------------------------------------------------------

    def init_host(self, host: str) -> None:
        uri = self.config.uri
        if self.config.persists_test_state:
            # Held until cleanup_host: the file is the hypervisor, read once at open.
            self._embedded = embedded_host.EmbeddedHost(self.virtapi.state_dir)
            uri = self._embedded.uri
        try:
            self._conn = libvirt.open(uri)
        except libvirt.libvirtError as e:
            self._release_embedded()
            raise LibvirtError(operation=f"connect to {uri}", reason=_reason(e)) from e

    def cleanup_host(self, host: str) -> None:
        try:
            if self._conn is not None:
                self._save()
                self._conn.close()
                self._conn = None
        finally:
            self._release_embedded()

    def _release_embedded(self) -> None:
        if self._embedded is not None:
            self._embedded.close()
            self._embedded = None

    @property
    def conn(self) -> libvirt.virConnect:
        if self._conn is None:
            raise LibvirtError(operation="use the connection", reason="init_host() was not called")
        return self._conn

    def _save(self) -> None:
        if self._embedded is not None and self._conn is not None:
            self._embedded.save(self._conn)

    @contextmanager
    def _changing(self, operation: str) -> Iterator[None]:
        """Translate libvirt errors, and persist the test host after a change."""
        try:
            yield
        except libvirt.libvirtError as e:
            raise LibvirtError(operation=operation, reason=_reason(e)) from e
        finally:
            self._save()

    def _call(self, operation: str, fn: Callable[[], _T]) -> _T:
        try:
            return fn()
        except libvirt.libvirtError as e:
            raise LibvirtError(operation=operation, reason=_reason(e)) from e

    def _domain(self, instance: Instance) -> libvirt.virDomain:
        try:
            return self.conn.lookupByUUIDString(instance.uuid)
        except libvirt.libvirtError as e:
            if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                raise InstanceNotFound(instance_uuid=instance.uuid) from None
            raise LibvirtError(operation=f"look up {instance.uuid}", reason=_reason(e)) from e

    def _nova_domains(self) -> list[libvirt.virDomain]:
        doms = self._call("list domains", self.conn.listAllDomains)
        return [d for d in doms if guest_xml.is_nova_domain(d.XMLDesc(0))]

    def _state(self, dom: libvirt.virDomain) -> PowerState:
        state = dom.state()[0]
        if state == libvirt.VIR_DOMAIN_SHUTOFF and dom.hasManagedSaveImage(0):
            return PowerState.SUSPENDED
        return _POWER_STATE.get(state, PowerState.NOSTATE)

    def _require(self, instance: Instance, operation: str, *states: PowerState) -> libvirt.virDomain:
        dom = self._domain(instance)
        state = self._state(dom)
        if state not in states:
            raise InvalidPowerState(operation=operation, instance_uuid=instance.uuid, power_state=state.value)
        return dom

    # -- host ------------------------------------------------------------------------------------

    def get_available_nodes(self, refresh: bool = False) -> list[str]:
        return [self._call("get the hostname", self.conn.getHostname)]

    def get_available_resource(self, nodename: str) -> HostResources:
        if nodename not in self.get_available_nodes():
            raise NodeNotFound(nodename=nodename, nodes=self.get_available_nodes())
        model, memory_mb, cpus, *_ = self._call("get host info", self.conn.getInfo)
        used = [guest_xml.flavor_size(d.XMLDesc(0)) for d in self._nova_domains()]
        pools = self._call("list storage pools", self.conn.listAllStoragePools)
        disk_gb = sum(p.info()[1] for p in pools if p.isActive()) // 1024**3
        return HostResources(
            hypervisor_type=self._call("get the hypervisor type", self.conn.getType),
            hypervisor_version=str(self._call("get the hypervisor version", self.conn.getVersion)),
            hypervisor_hostname=nodename,
            vcpus=cpus,
            vcpus_used=sum(u[0] for u in used),
            memory_mb=memory_mb,
            memory_mb_used=sum(u[1] for u in used),
            local_gb=disk_gb,
            local_gb_used=sum(u[2] for u in used),
            cpu_info={"model": model},
        )

    # -- instances -------------------------------------------------------------------------------

    def list_instances(self) -> list[str]:
        return [d.UUIDString() for d in self._nova_domains()]

    def get_info(self, instance: Instance) -> InstanceInfo:
        dom = self._domain(instance)
        _, max_mem_kb, _, vcpus, cpu_time = self._call("get domain info", dom.info)
        return InstanceInfo(
            state=self._state(dom),
            internal_id=dom.UUIDString(),
            memory_mb=max_mem_kb // 1024,
            vcpus=vcpus,
            cpu_time_ns=cpu_time,
        )

    def spawn(
        self,
        instance: Instance,
        image_meta: ImageMeta,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        try:
            self._domain(instance)
            raise InstanceExists(instance_uuid=instance.uuid)
        except InstanceNotFound:
            pass
        xml = guest_xml.domain_xml(instance, network_info, self.config.virt_type)
        with self._changing(f"spawn {instance.uuid}"):
            dom = self.conn.defineXML(xml)
            try:
                dom.create()
            except BaseException:
                # The contract: a failed spawn leaves no guest behind.
                self._undefine(dom)
                raise

    def destroy(
        self,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
        destroy_disks: bool = True,
    ) -> None:
        try:
            dom = self._domain(instance)
        except InstanceNotFound:
            return
        with self._changing(f"destroy {instance.uuid}"):
            if dom.isActive():
                dom.destroy()
            self._undefine(dom)

    @staticmethod
    def _undefine(dom: libvirt.virDomain) -> None:
        if dom.isActive():
            dom.destroy()
        for snap in dom.listAllSnapshots():
            snap.delete(0)
        dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)

    def reboot(self, instance: Instance, network_info: NetworkInfo, reboot_type: RebootType) -> None:
        dom = self._require(instance, "reboot", PowerState.RUNNING)
        with self._changing(f"reboot {instance.uuid}"):
            if reboot_type is RebootType.SOFT:
                dom.reboot(0)
            else:
                dom.reset(0)

    def power_off(self, instance: Instance, timeout: int = 0, retry_interval: int = 0) -> None:
        dom = self._domain(instance)

        def ask_guest() -> bool:
            dom.shutdown()
            return True

        with self._changing(f"power off {instance.uuid}"):
            graceful_power_off(
                timeout=timeout,
                retry_interval=retry_interval,
                is_off=lambda: not dom.isActive(),
                request_shutdown=ask_guest,
                force_off=dom.destroy,
            )

    def power_on(
        self,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        dom = self._domain(instance)
        with self._changing(f"power on {instance.uuid}"):
            if not dom.isActive():
                dom.create()
            elif self._state(dom) is PowerState.PAUSED:
                dom.resume()

    # -- optional operations ---------------------------------------------------------------------

    def pause(self, instance: Instance) -> None:
        dom = self._require(instance, "pause", PowerState.RUNNING)
        with self._changing(f"pause {instance.uuid}"):
            dom.suspend()

    def unpause(self, instance: Instance) -> None:
        dom = self._require(instance, "unpause", PowerState.PAUSED)
        with self._changing(f"unpause {instance.uuid}"):
            dom.resume()

    def suspend(self, instance: Instance) -> None:
        dom = self._require(instance, "suspend", PowerState.RUNNING)
        with self._changing(f"suspend {instance.uuid}"):
            dom.managedSave(0)

    def resume(self, instance: Instance, network_info: NetworkInfo) -> None:
        dom = self._require(instance, "resume", PowerState.SUSPENDED)
        with self._changing(f"resume {instance.uuid}"):
            dom.create()

    def snapshot(self, instance: Instance, image_id: str) -> ImageMeta:
        dom = self._domain(instance)
        with self._changing(f"snapshot {instance.uuid}"):
            dom.snapshotCreateXML(f"<domainsnapshot><name>{escape(image_id)}</name></domainsnapshot>", 0)
        return ImageMeta(id=image_id, name=f"snapshot of {instance.name}", disk_format="qcow2")
