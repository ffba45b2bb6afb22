"""IronicDriver: nova's compute driver for bare-metal nodes, over openstacksdk's baremetal proxy.

An instance is an Ironic node whose ``instance_uuid`` is the nova instance's uuid: that is how
the driver finds an instance's node from the uuid alone (after a restart too), and nodes without
an instance uuid are free capacity, never listed as instances. ``spawn`` claims an available node
that fits the flavor (writing ``instance_uuid`` and ``instance_info``), deploys it to ``active``
and powers it on; ``destroy`` undeploys it back to ``available`` and releases it. Each node is a
compute node of its own (``get_available_nodes`` returns node uuids), as in Nova.

The Ironic API is reached without authentication (``auth_strategy = noauth``, as a standalone
Ironic runs) at the ``url`` option. Capabilities: none of the optional ones. A bare-metal machine
cannot be paused or suspended by Ironic, snapshots and consoles are not implemented, and volume
and network attachment (Cinder and Neutron) are outside standalone Ironic, so the driver does not
claim them and raises ``NotSupported``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

import openstack
from openstack import exceptions as os_exceptions
from openstack.baremetal.v1.node import Node

from nova_common.api_version import APIVersionRange
from nova_common.driver import ComputeDriver
from nova_common.exception import InstanceExists, InstanceNotFound, InvalidPowerState, NodeNotFound
from nova_common.objects import (
    BlockDeviceInfo,
    Capabilities,
    Flavor,
    HostResources,
    ImageMeta,
    Instance,
    InstanceInfo,
    NetworkInfo,
    PowerState,
    RebootType,
)
from nova_common.virtapi import VirtAPI
from nova_ironic.config import IronicConfig
from nova_ironic.exception import IronicError, NoAvailableNode

__all__ = ["IronicDriver"]

_T = TypeVar("_T")

#: Ironic power states.
POWER_ON = "power on"
POWER_OFF = "power off"

#: Provision states a node rests in after a failed transition.
_FAILED_STATES = frozenset(
    {"deploy failed", "error", "clean failed", "inspect failed", "rescue failed", "unrescue failed", "service failed"}
)
#: Provision states an instance's node can be undeployed from.
_UNDEPLOYABLE_STATES = frozenset({"active", "deploy failed", "error", "rescue", "rescue failed", "unrescue failed"})

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")

#: Client-side failures: openstacksdk's own, and those of the HTTP layers it lets through
#: (keystoneauth1, requests). Matched by module so the driver needs no import of its
#: dependencies' dependencies.
_CLIENT_ERROR_MODULES = ("openstack.", "keystoneauth1.", "requests.", "urllib3.")


def _is_client_error(error: Exception) -> bool:
    return any(type(error).__module__.startswith(m) for m in _CLIENT_ERROR_MODULES)


def _reason(error: Exception) -> str:
    details = getattr(error, "details", None)
    text = str(details) if details else str(error)
    return " ".join(text.split()) or type(error).__name__


def _int(properties: Mapping[str, Any], key: str) -> int:
    try:
        return int(properties.get(key) or 0)
    except (TypeError, ValueError):
        return 0


class IronicDriver(ComputeDriver):
    """Options: see :class:`nova_ironic.config.IronicConfig`."""

    name = "ironic"
    api_versions = APIVersionRange("1.0", "1.0")

    #: Options that parse without a peer and connect to nothing (constructing the driver never
    #: connects; ``init_host`` does). ``release cut`` installs the wheel in a fresh venv and loads
    #: the driver with them: discovery, API negotiation, import and option parsing, no peer needed.
    smoke_options: ClassVar[Mapping[str, str]] = {"url": "http://ironic.smoke.invalid:6385"}

    @classmethod
    def smoke_check(cls) -> str:
        """Parse :attr:`smoke_options` with the driver's own config, connecting to nothing; say what passed."""
        config = IronicConfig.from_options(cls.smoke_options)
        return f"IronicConfig parsed url={config.url}"

    capabilities = Capabilities()

    def __init__(self, virtapi: VirtAPI, options: Mapping[str, str]) -> None:
        super().__init__(virtapi, options)
        self.config = IronicConfig.from_options(options)
        self._conn: openstack.connection.Connection | None = None

    # -- connection ------------------------------------------------------------------------------

    def init_host(self, host: str) -> None:
        self._host = host
        try:
            conn = openstack.connection.Connection(
                auth_type="none",
                baremetal_endpoint_override=self.config.url,
                api_timeout=self.config.api_timeout,
            )
            # One cheap request: a wrong or unreachable URL fails here, not mid-operation.
            next(iter(conn.baremetal.nodes(fields=["uuid"], limit=1)), None)
        except Exception as e:
            if not _is_client_error(e):
                raise
            raise IronicError(operation=f"reach the Ironic API at {self.config.url}", reason=_reason(e)) from e
        self._conn = conn

    def cleanup_host(self, host: str) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # must not raise
                pass
            self._conn = None

    @property
    def baremetal(self) -> Any:
        """openstacksdk's baremetal proxy (typed loosely: the proxy's attributes are dynamic)."""
        if self._conn is None:
            raise IronicError(operation="use the Ironic API", reason="init_host() was not called")
        return self._conn.baremetal

    def _call(self, operation: str, fn: Callable[[], _T]) -> _T:
        try:
            return fn()
        except Exception as e:
            if not _is_client_error(e):
                raise
            raise IronicError(operation=operation, reason=_reason(e)) from e

    # -- nodes -----------------------------------------------------------------------------------

    def _nodes(self, **query: Any) -> list[Node]:
        if self.config.resource_class is not None:
            query["resource_class"] = self.config.resource_class
        return self._call("list nodes", lambda: list(self.baremetal.nodes(details=True, **query)))

    def _managed(self, node: Node) -> bool:
        return self.config.resource_class is None or node.resource_class == self.config.resource_class

    def _node_of(self, instance: Instance) -> Node:
        nodes = self._nodes(instance_id=instance.uuid)
        if not nodes:
            raise InstanceNotFound(instance_uuid=instance.uuid)
        return nodes[0]

    def _refetch(self, node: Node) -> Node:
        fresh: Node = self._call(f"get node {node.id}", lambda: self.baremetal.get_node(node.id))
        return fresh

    def _poll(self, node: Node, operation: str, done: Callable[[Node], bool]) -> Node:
        """Re-read ``node`` until ``done(node)`` or the configured timeout (backing off to 2 s)."""
        deadline = time.monotonic() + self.config.timeout
        interval = 0.05
        while True:
            node = self._refetch(node)
            if done(node):
                return node
            if time.monotonic() >= deadline:
                raise IronicError(
                    operation=operation,
                    reason=f"timed out after {self.config.timeout:g} s (node {node.id} is "
                    f"{node.provision_state!r}, power {node.power_state!r}); raise the 'timeout' option",
                )
            time.sleep(interval)
            interval = min(interval * 1.5, 2.0)

    def _provision(self, node: Node, target: str, expected: str, operation: str) -> Node:
        """Ask for provision ``target`` and wait until the node rests in ``expected``."""
        self._call(operation, lambda: self.baremetal.set_node_provision_state(node, target))
        node = self._poll(
            node,
            operation,
            lambda n: n.target_provision_state is None
            and (n.provision_state == expected or n.provision_state in _FAILED_STATES),
        )
        if node.provision_state != expected:
            raise IronicError(
                operation=operation,
                reason=f"node {node.id} went to {node.provision_state!r}: {node.last_error or 'no reason given'}",
            )
        return node

    def _set_power(self, node: Node, target: str, expected: str, operation: str, timeout: float | None = None) -> Node:
        """Ask for power ``target`` and wait until the node's power state is ``expected``."""
        before = node.last_error
        self._call(operation, lambda: self.baremetal.set_node_power_state(node, target))
        deadline = time.monotonic() + (timeout if timeout is not None else self.config.timeout)

        def settled(n: Node) -> bool:
            if n.target_power_state is not None:
                return time.monotonic() >= deadline
            return n.power_state == expected or n.last_error != before or time.monotonic() >= deadline

        node = self._poll(node, operation, settled)
        if node.power_state != expected and timeout is None:
            raise IronicError(
                operation=operation,
                reason=f"node {node.id} is {node.power_state!r}: {node.last_error or 'no reason given'}",
            )
        return node

    def _wait_stable(self, node: Node, operation: str) -> Node:
        """Wait for a node in a provisioning transition (deploying, cleaning...) to rest."""
        if node.target_provision_state is None:
            return node
        return self._poll(node, operation, lambda n: n.target_provision_state is None)

    @staticmethod
    def _power_state(node: Node) -> PowerState:
        if node.provision_state in _FAILED_STATES:
            return PowerState.CRASHED
        if node.provision_state != "active":
            return PowerState.NOSTATE  # still deploying, or being released
        return {POWER_ON: PowerState.RUNNING, POWER_OFF: PowerState.SHUTDOWN}.get(
            node.power_state or "", PowerState.NOSTATE
        )

    # -- host ------------------------------------------------------------------------------------

    def get_available_nodes(self, refresh: bool = False) -> list[str]:
        return [n.id for n in self._nodes()]

    def get_available_resource(self, nodename: str) -> HostResources:
        try:
            node: Node | None = self._call(f"get node {nodename}", lambda: self.baremetal.get_node(nodename))
        except IronicError as e:
            if not isinstance(e.__cause__, os_exceptions.NotFoundException):
                raise
            node = None
        if node is None or not self._managed(node):
            raise NodeNotFound(nodename=nodename, nodes=self.get_available_nodes())
        props = node.properties or {}
        cpus, memory_mb, local_gb = (_int(props, k) for k in ("cpus", "memory_mb", "local_gb"))
        used = bool(node.instance_id)
        cpu_info = {"arch": str(props["cpu_arch"])} if props.get("cpu_arch") else {}
        return HostResources(
            hypervisor_type="ironic",
            hypervisor_version="1",
            hypervisor_hostname=node.id,
            vcpus=cpus,
            vcpus_used=cpus if used else 0,
            memory_mb=memory_mb,
            memory_mb_used=memory_mb if used else 0,
            local_gb=local_gb,
            local_gb_used=local_gb if used else 0,
            cpu_info=cpu_info,
        )

    # -- instances -------------------------------------------------------------------------------

    def list_instances(self) -> list[str]:
        return [n.instance_id for n in self._nodes(associated=True) if n.instance_id]

    def get_info(self, instance: Instance) -> InstanceInfo:
        node = self._node_of(instance)
        props = node.properties or {}
        return InstanceInfo(
            state=self._power_state(node),
            internal_id=node.id,
            memory_mb=_int(props, "memory_mb"),
            vcpus=_int(props, "cpus"),
        )

    def _pick_node(self, instance: Instance) -> Node:
        flavor = instance.flavor
        free = [
            n
            for n in self._nodes(provision_state="available", associated=False, is_maintenance=False)
            if not n.instance_id
        ]
        fits = [n for n in free if _fits(n, flavor)]
        if not fits:
            what = f"{flavor.name} ({flavor.vcpus} vCPU, {flavor.memory_mb} MB RAM, {flavor.root_gb} GB disk)"
            scope = f" of resource class {self.config.resource_class!r}" if self.config.resource_class else ""
            reason = (
                f"no node{scope} is in provision state 'available'; enroll one, or release one"
                if not free
                else f"none of the {len(free)} available node(s){scope} is big enough"
            )
            raise NoAvailableNode(instance_uuid=instance.uuid, flavor=what, reason=reason)
        return min(fits, key=lambda n: tuple(_int(n.properties or {}, k) for k in ("cpus", "memory_mb", "local_gb")))

    def _image_source(self, image_meta: ImageMeta, instance: Instance) -> str:
        ref = image_meta.id or instance.image_ref
        if _UUID.match(ref) or "://" in ref or self.config.image_base_url is None:
            return ref
        return f"{self.config.image_base_url}/{ref}"

    def spawn(
        self,
        instance: Instance,
        image_meta: ImageMeta,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        if self._nodes(instance_id=instance.uuid):
            raise InstanceExists(instance_uuid=instance.uuid)
        node = self._pick_node(instance)
        flavor = instance.flavor
        instance_info = {
            "image_source": self._image_source(image_meta, instance),
            "root_gb": str(flavor.root_gb),
            "ephemeral_gb": str(flavor.ephemeral_gb),
            "swap_mb": "0",
            "display_name": instance.name,
            "vcpus": str(flavor.vcpus),
            "memory_mb": str(flavor.memory_mb),
            "local_gb": str(flavor.root_gb),
        }
        # Claiming the node: Ironic refuses (409) a second instance uuid on a node, and the same
        # instance uuid on two nodes.
        node = self._call(
            f"claim node {node.id} for {instance.uuid}",
            lambda: self.baremetal.update_node(node, instance_id=instance.uuid, instance_info=instance_info),
        )
        try:
            node = self._provision(node, "active", "active", f"deploy node {node.id} for {instance.uuid}")
            if node.power_state != POWER_ON:
                self._set_power(node, "power on", POWER_ON, f"power on node {node.id} for {instance.uuid}")
        except BaseException as e:
            # The contract: a failed spawn leaves nothing behind (node undeployed and released).
            try:
                self._release(node, instance)
            except Exception as cleanup:
                e.add_note(f"releasing node {node.id} afterwards failed too: {cleanup}")
            raise

    def _release(self, node: Node, instance: Instance) -> None:
        """Undeploy the node if it was deployed, and clear its instance uuid and info."""
        node = self._wait_stable(self._refetch(node), f"wait for node {node.id} to settle")
        if node.provision_state in _UNDEPLOYABLE_STATES:
            node = self._provision(node, "deleted", "available", f"undeploy node {node.id} for {instance.uuid}")
        if node.instance_id or node.instance_info:
            self._call(
                f"release node {node.id} from {instance.uuid}",
                lambda: self.baremetal.update_node(node, instance_id=None, instance_info={}),
            )

    def destroy(
        self,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
        destroy_disks: bool = True,
    ) -> None:
        try:
            node = self._node_of(instance)
        except InstanceNotFound:
            return
        self._release(node, instance)

    def _running_node(self, instance: Instance, operation: str) -> Node:
        node = self._node_of(instance)
        state = self._power_state(node)
        if state is not PowerState.RUNNING:
            raise InvalidPowerState(operation=operation, instance_uuid=instance.uuid, power_state=state.value)
        return node

    def reboot(self, instance: Instance, network_info: NetworkInfo, reboot_type: RebootType) -> None:
        node = self._running_node(instance, "reboot")
        operation = f"reboot node {node.id} of {instance.uuid}"
        if reboot_type is RebootType.SOFT:
            try:
                self._set_power(node, "soft rebooting", POWER_ON, operation)
                return
            except IronicError:
                pass  # the node's power interface cannot soft-reboot: reset it, as the contract says
        self._set_power(self._refetch(node), "rebooting", POWER_ON, operation)

    def power_off(self, instance: Instance, timeout: int = 0, retry_interval: int = 0) -> None:
        node = self._node_of(instance)
        if node.power_state == POWER_OFF:
            return
        operation = f"power off node {node.id} of {instance.uuid}"
        if timeout > 0:
            try:
                node = self._set_power(node, "soft power off", POWER_OFF, operation, timeout=float(timeout))
            except IronicError:
                node = self._refetch(node)  # no soft power off here: force it below
            if node.power_state == POWER_OFF:
                return
        self._set_power(node, "power off", POWER_OFF, operation)

    def power_on(
        self,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        node = self._node_of(instance)
        if node.power_state == POWER_ON:
            return
        self._set_power(node, "power on", POWER_ON, f"power on node {node.id} of {instance.uuid}")


def _fits(node: Node, flavor: Flavor) -> bool:
    props = node.properties or {}
    return (
        _int(props, "cpus") >= flavor.vcpus
        and _int(props, "memory_mb") >= flavor.memory_mb
        and _int(props, "local_gb") >= flavor.root_gb + flavor.ephemeral_gb
    )
