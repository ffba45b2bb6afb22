"""XenDriver: nova's compute driver for XenServer / XCP-ng, over the ``XenAPI`` XML-RPC client.

Each instance is a VM whose ``other_config`` carries ``nova_uuid`` (the instance uuid): that is how
the driver finds its VMs again after a restart of the compute service, and how it tells them from
every other VM on the host. VMs without that key, templates, snapshots and the control domain
(dom0) are never listed and never touched.

Capabilities: pause, suspend and snapshot, which are single XenAPI calls (``VM.pause``/``unpause``,
``VM.suspend``/``resume``, ``VM.snapshot``) whose power-state rules the tests' protocol fake
models after xapi's. Volume attach, interface plugging and console output need storage
repositories, networks and a guest console that the fake does not model: they are not declared.
The driver creates VMs without disks or interfaces (no image handling).
"""

from __future__ import annotations

import functools
import http.client
import ssl
import xmlrpc.client
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import XenAPI

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
from nova_common.virtapi import VirtAPI
from nova_xen.config import XenConfig
from nova_xen.exception import XenAuthError, XenConnectionError, XenError

__all__ = ["NOVA_UUID_KEY", "XenDriver"]

_T = TypeVar("_T")

#: The ``other_config`` key holding the nova instance uuid of a VM this driver created.
NOVA_UUID_KEY = "nova_uuid"
_DISK_KEY = "nova_disk_gb"
_MIB = 1024 * 1024
_NULL = "OpaqueRef:NULL"

_POWER_STATE = {
    "Running": PowerState.RUNNING,
    "Paused": PowerState.PAUSED,
    "Halted": PowerState.SHUTDOWN,
    "Suspended": PowerState.SUSPENDED,
}


def _failure_reason(details: list[Any]) -> str:
    return " ".join(str(d) for d in details) or "unknown XenAPI failure"


class _TimeoutTransport(xmlrpc.client.Transport):
    """Plain-http XML-RPC whose connection waits at most ``timeout`` seconds to connect and per read."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        conn = super().make_connection(host)
        conn.timeout = self.timeout
        return conn


class _TimeoutSafeTransport(xmlrpc.client.SafeTransport):
    """Like :class:`_TimeoutTransport`, over TLS."""

    def __init__(self, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(context=context)
        self.timeout = timeout

    def make_connection(self, host: Any) -> http.client.HTTPSConnection:
        conn = super().make_connection(host)
        conn.timeout = self.timeout
        return conn


def _transport(config: XenConfig) -> xmlrpc.client.Transport:
    """The session's transport: ``api_timeout`` bounds every connect and read (XenAPI sets none)."""
    if urlsplit(config.url).scheme == "http":
        return _TimeoutTransport(config.api_timeout)
    context = ssl.create_default_context()
    if not config.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return _TimeoutSafeTransport(config.api_timeout, context)


class XenDriver(ComputeDriver):
    """Options: see :class:`nova_xen.config.XenConfig`."""

    name = "xen"
    api_versions = APIVersionRange("1.0", "1.0")

    #: Options that parse without a peer and connect to nothing (constructing the driver never
    #: connects; ``init_host`` does). ``release cut`` installs the wheel in a fresh venv and loads
    #: the driver with them: discovery, API negotiation, import and option parsing, no peer needed.
    smoke_options: ClassVar[Mapping[str, str]] = {"url": "https://xen.smoke.invalid", "password": "smoke"}

    @classmethod
    def smoke_check(cls) -> str:
        """Parse :attr:`smoke_options` with the driver's own config, connecting to nothing; say what passed."""
        config = XenConfig.from_options(cls.smoke_options)
        return f"XenConfig parsed url={config.url}"

    capabilities = Capabilities(supports_pause=True, supports_suspend=True, supports_snapshot=True)

    def __init__(self, virtapi: VirtAPI, options: Mapping[str, str]) -> None:
        super().__init__(virtapi, options)
        self.config = XenConfig.from_options(options)
        self._session: XenAPI.Session | None = None

    # -- session ---------------------------------------------------------------------------------

    def init_host(self, host: str) -> None:
        session = XenAPI.Session(self.config.url, transport=_transport(self.config))
        try:
            session.login_with_password(self.config.username, self.config.password, "2.0", "nova-xen")
        except XenAPI.Failure as e:
            if e.details and e.details[0] == "SESSION_AUTHENTICATION_FAILED":
                raise XenAuthError(
                    url=self.config.url, username=self.config.username, reason=_failure_reason(e.details[2:])
                ) from None
            raise XenError(operation="log in", reason=_failure_reason(e.details)) from None
        except (OSError, http.client.HTTPException, xmlrpc.client.Error) as e:
            raise self._unreachable(e) from None
        self._session = session

    def _unreachable(self, e: Exception) -> XenConnectionError:
        if isinstance(e, TimeoutError):
            reason = f"no answer within {self.config.api_timeout:g} s (raise the api_timeout option)"
        else:
            reason = str(e) or type(e).__name__
        return XenConnectionError(url=self.config.url, reason=reason)

    def cleanup_host(self, host: str) -> None:
        session, self._session = self._session, None
        if session is not None:
            try:
                session.xenapi.session.logout()
            except Exception:  # noqa: BLE001  (must not raise; the session expires on its own)
                pass

    @property
    def xenapi(self) -> Any:
        if self._session is None:
            raise XenError(operation="use the session", reason="init_host() was not called")
        return self._session.xenapi

    def _call(self, operation: str, fn: Callable[[], _T]) -> _T:
        """Run one XenAPI call, translating every XenAPI and transport error into XenError."""
        try:
            return fn()
        except XenAPI.Failure as e:
            raise XenError(operation=operation, reason=_failure_reason(e.details)) from None
        except (OSError, http.client.HTTPException, xmlrpc.client.Error) as e:
            raise self._unreachable(e) from None

    def _power_call(self, operation: str, instance: Instance, fn: Callable[[], _T]) -> _T:
        """Like :meth:`_call`, but xapi's VM_BAD_POWER_STATE becomes the API's InvalidPowerState."""
        try:
            return fn()
        except XenAPI.Failure as e:
            if e.details and e.details[0] == "VM_BAD_POWER_STATE":
                # ["VM_BAD_POWER_STATE", vm ref, expected state, actual state]
                actual = str(e.details[3]).lower() if len(e.details) > 3 else "in another state"
                raise InvalidPowerState(
                    operation=operation, instance_uuid=instance.uuid, power_state=_nova_state_name(actual)
                ) from None
            raise XenError(operation=f"{operation} {instance.uuid}", reason=_failure_reason(e.details)) from None
        except (OSError, http.client.HTTPException, xmlrpc.client.Error) as e:
            raise self._unreachable(e) from None

    # -- finding nova's VMs ----------------------------------------------------------------------

    @staticmethod
    def _is_nova_vm(record: Mapping[str, Any]) -> bool:
        return (
            not record.get("is_a_template", False)
            and not record.get("is_a_snapshot", False)
            and not record.get("is_control_domain", False)
            and bool(record.get("other_config", {}).get(NOVA_UUID_KEY))
        )

    def _nova_vms(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """nova uuid -> (VM ref, VM record), for every VM this driver created."""
        records: dict[str, dict[str, Any]] = self._call("list VMs", self.xenapi.VM.get_all_records)
        return {rec["other_config"][NOVA_UUID_KEY]: (ref, rec) for ref, rec in records.items() if self._is_nova_vm(rec)}

    def _vm(self, instance: Instance) -> tuple[str, dict[str, Any]]:
        found = self._nova_vms().get(instance.uuid)
        if found is None:
            raise InstanceNotFound(instance_uuid=instance.uuid)
        return found

    @staticmethod
    def _state(record: Mapping[str, Any]) -> PowerState:
        return _POWER_STATE.get(str(record.get("power_state")), PowerState.NOSTATE)

    def _require(self, instance: Instance, operation: str, state: PowerState) -> str:
        ref, rec = self._vm(instance)
        current = self._state(rec)
        if current is not state:
            raise InvalidPowerState(operation=operation, instance_uuid=instance.uuid, power_state=current.value)
        return ref

    # -- host ------------------------------------------------------------------------------------

    def _this_host(self) -> tuple[str, dict[str, Any]]:
        session_ref = self._session.handle if self._session is not None else None
        host_ref: str = self._call("find this host", lambda: self.xenapi.session.get_this_host(session_ref))
        return host_ref, self._call("read the host record", lambda: self.xenapi.host.get_record(host_ref))

    def get_available_nodes(self, refresh: bool = False) -> list[str]:
        return [str(self._this_host()[1]["hostname"])]

    def get_available_resource(self, nodename: str) -> HostResources:
        _, host = self._this_host()
        if nodename != host["hostname"]:
            raise NodeNotFound(nodename=nodename, nodes=[host["hostname"]])
        metrics = self._call("read host metrics", lambda: self.xenapi.host_metrics.get_record(host["metrics"]))
        sr_gb = 0
        pools: dict[str, dict[str, Any]] = self._call("read the pool", self.xenapi.pool.get_all_records)
        default_srs = [p["default_SR"] for p in pools.values() if p.get("default_SR", _NULL) != _NULL]
        if default_srs:
            sr = self._call("read the default SR", lambda: self.xenapi.SR.get_record(default_srs[0]))
            sr_gb = int(sr["physical_size"]) // 1024**3
        vms = [rec for _, rec in self._nova_vms().values()]
        version = host.get("software_version", {})
        return HostResources(
            hypervisor_type=str(version.get("product_brand", "XenServer")),
            hypervisor_version=str(version.get("product_version", "unknown")),
            hypervisor_hostname=nodename,
            vcpus=int(host["cpu_info"]["cpu_count"]),
            vcpus_used=sum(int(r["VCPUs_max"]) for r in vms),
            memory_mb=int(metrics["memory_total"]) // _MIB,
            memory_mb_used=sum(int(r["memory_static_max"]) for r in vms) // _MIB,
            local_gb=sr_gb,
            local_gb_used=sum(int(r["other_config"].get(_DISK_KEY, "0")) for r in vms),
            cpu_info={k: str(v) for k, v in host["cpu_info"].items() if k in ("vendor", "modelname", "cpu_count")},
        )

    # -- instances -------------------------------------------------------------------------------

    def list_instances(self) -> list[str]:
        return list(self._nova_vms())

    def get_info(self, instance: Instance) -> InstanceInfo:
        _, rec = self._vm(instance)
        return InstanceInfo(
            state=self._state(rec),
            internal_id=str(rec["uuid"]),
            memory_mb=int(rec["memory_static_max"]) // _MIB,
            vcpus=int(rec["VCPUs_max"]),
        )

    def spawn(
        self,
        instance: Instance,
        image_meta: ImageMeta,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        if instance.uuid in self._nova_vms():
            raise InstanceExists(instance_uuid=instance.uuid)
        ref: str = self._call(f"create the VM of {instance.uuid}", lambda: self.xenapi.VM.create(_vm_record(instance)))
        try:
            self._call(f"start {instance.uuid}", lambda: self.xenapi.VM.start(ref, False, False))
        except BaseException:
            # The contract: a failed spawn leaves no VM behind.
            self._remove(ref)
            raise

    def _remove(self, ref: str) -> None:
        rec: dict[str, Any] = self._call("read a VM", lambda: self.xenapi.VM.get_record(ref))
        if rec["power_state"] != "Halted":
            self._call("force a VM off", lambda: self.xenapi.VM.hard_shutdown(ref))
        # xapi keeps a VM's snapshots when the VM is destroyed; nova's snapshots go with it.
        for snap in rec.get("snapshots", []):
            self._call("destroy a snapshot", functools.partial(self.xenapi.VM.destroy, snap))
        self._call("destroy a VM", lambda: self.xenapi.VM.destroy(ref))

    def destroy(
        self,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
        destroy_disks: bool = True,
    ) -> None:
        found = self._nova_vms().get(instance.uuid)
        if found is not None:
            self._remove(found[0])

    def reboot(self, instance: Instance, network_info: NetworkInfo, reboot_type: RebootType) -> None:
        ref = self._require(instance, "reboot", PowerState.RUNNING)
        if reboot_type is RebootType.SOFT:
            try:
                self._power_call("reboot", instance, lambda: self.xenapi.VM.clean_reboot(ref))
                return
            except XenError:
                # A guest without PV tools cannot reboot itself cleanly: reset it instead.
                pass
        self._power_call("reboot", instance, lambda: self.xenapi.VM.hard_reboot(ref))

    def power_off(self, instance: Instance, timeout: int = 0, retry_interval: int = 0) -> None:
        ref, rec = self._vm(instance)
        state = rec["power_state"]
        if state == "Halted":
            return
        if state == "Running" and timeout > 0:
            # xapi's clean_shutdown waits for the guest itself and fails if the guest cannot
            # cooperate (no PV tools); then the VM is forced off.
            try:
                self._power_call("power off", instance, lambda: self.xenapi.VM.clean_shutdown(ref))
                return
            except (XenError, InvalidPowerState):
                pass
        self._power_call("power off", instance, lambda: self.xenapi.VM.hard_shutdown(ref))

    def power_on(
        self,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        ref, rec = self._vm(instance)
        state = rec["power_state"]
        if state == "Halted":
            self._power_call("power on", instance, lambda: self.xenapi.VM.start(ref, False, False))
        elif state == "Paused":
            self._power_call("power on", instance, lambda: self.xenapi.VM.unpause(ref))
        elif state == "Suspended":
            self._power_call("power on", instance, lambda: self.xenapi.VM.resume(ref, False, False))

    # -- optional operations: xapi enforces the power states, the driver maps its refusal -------

    def pause(self, instance: Instance) -> None:
        ref, _ = self._vm(instance)
        self._power_call("pause", instance, lambda: self.xenapi.VM.pause(ref))

    def unpause(self, instance: Instance) -> None:
        ref, _ = self._vm(instance)
        self._power_call("unpause", instance, lambda: self.xenapi.VM.unpause(ref))

    def suspend(self, instance: Instance) -> None:
        ref, _ = self._vm(instance)
        self._power_call("suspend", instance, lambda: self.xenapi.VM.suspend(ref))

    def resume(self, instance: Instance, network_info: NetworkInfo) -> None:
        ref, _ = self._vm(instance)
        self._power_call("resume", instance, lambda: self.xenapi.VM.resume(ref, False, False))

    def snapshot(self, instance: Instance, image_id: str) -> ImageMeta:
        ref, _ = self._vm(instance)
        # One xapi call: it either creates the snapshot VM or nothing.
        self._call(f"snapshot {instance.uuid}", lambda: self.xenapi.VM.snapshot(ref, image_id))
        return ImageMeta(id=image_id, name=f"snapshot of {instance.name}", disk_format="vhd", container_format="ovf")


def _nova_state_name(xapi_state: str) -> str:
    """xapi's lower-case power state names, as the API's PowerState values."""
    return {"halted": "shutdown", "running": "running", "paused": "paused", "suspended": "suspended"}.get(
        xapi_state, xapi_state
    )


def _vm_record(instance: Instance) -> dict[str, Any]:
    """The VM.create record: the fields xapi requires, sized from the flavor.

    xapi transports 64-bit integers as strings over XML-RPC, so sizes are strings.
    """
    memory = str(instance.flavor.memory_mb * _MIB)
    vcpus = str(instance.flavor.vcpus)
    return {
        "name_label": instance.name,
        "name_description": f"nova instance {instance.uuid}",
        "user_version": "0",
        "is_a_template": False,
        "affinity": "OpaqueRef:NULL",
        "memory_static_max": memory,
        "memory_static_min": memory,
        "memory_dynamic_max": memory,
        "memory_dynamic_min": memory,
        "VCPUs_max": vcpus,
        "VCPUs_at_startup": vcpus,
        "VCPUs_params": {},
        "actions_after_shutdown": "destroy",
        "actions_after_reboot": "restart",
        "actions_after_crash": "destroy",
        "PV_bootloader": "",
        "PV_kernel": "",
        "PV_ramdisk": "",
        "PV_args": "",
        "PV_bootloader_args": "",
        "PV_legacy_args": "",
        "HVM_boot_policy": "BIOS order",
        "HVM_boot_params": {"order": "dc"},
        "platform": {"acpi": "1", "apic": "true", "pae": "true", "viridian": "true"},
        "PCI_bus": "",
        "recommendations": "",
        "other_config": {
            NOVA_UUID_KEY: instance.uuid,
            "nova_name": instance.name,
            "nova_flavor": instance.flavor.name,
            _DISK_KEY: str(instance.flavor.root_gb + instance.flavor.ephemeral_gb),
        },
    }
