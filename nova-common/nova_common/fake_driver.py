"""FakeDriver: the reference in-memory driver.

It implements every operation, including the optional ones, with the exact semantics the
contract in :mod:`nova_common.driver` states, so it is both a model for driver authors and the
driver the core's own tests use. Its state lives in the object: nothing survives a restart.
Registered as the ``fake`` driver.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

from nova_common.api_version import APIVersionRange
from nova_common.driver import ComputeDriver
from nova_common.exception import (
    DriverError,
    InstanceExists,
    InstanceNotFound,
    InvalidDriverConfig,
    InvalidPowerState,
    NodeNotFound,
)
from nova_common.objects import (
    BlockDevice,
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

__all__ = ["FakeConfigError", "FakeDriver", "FakeDriverError"]


class FakeDriverError(DriverError):
    """The fake hypervisor refused an operation (as a real driver's own ``DriverError`` would)."""

    msg_fmt = "fake driver could not {operation}: {reason}"


class FakeConfigError(InvalidDriverConfig):
    """A fake driver option is unknown or malformed."""


@dataclass
class _Guest:
    instance: Instance
    state: PowerState
    volumes: dict[str, BlockDevice] = field(default_factory=dict)
    vifs_plugged: bool = False
    console: list[str] = field(default_factory=list)


class FakeDriver(ComputeDriver):
    """In-memory driver. Options: ``vcpus`` (default 16), ``memory_mb`` (default 32768),
    ``disk_gb`` (default 1000): the size of the pretend host."""

    name = "fake"
    api_versions = APIVersionRange("1.0", "1.0")
    capabilities = Capabilities(
        supports_pause=True,
        supports_suspend=True,
        supports_snapshot=True,
        supports_volume_attach=True,
        supports_vif_plug=True,
        supports_console_output=True,
    )

    def __init__(self, virtapi: VirtAPI, options: Mapping[str, str]) -> None:
        super().__init__(virtapi, options)
        self._size = {
            k: _positive_int(options, k, d) for k, d in (("vcpus", 16), ("memory_mb", 32768), ("disk_gb", 1000))
        }
        unknown = set(options) - set(self._size)
        if unknown:
            raise FakeConfigError(driver=self.name, option=sorted(unknown)[0], reason="unknown option")
        self._guests: dict[str, _Guest] = {}
        self._host = socket.gethostname()

    def init_host(self, host: str) -> None:
        self._host = host

    def get_available_nodes(self, refresh: bool = False) -> list[str]:
        return [self._host]

    def get_available_resource(self, nodename: str) -> HostResources:
        if nodename != self._host:
            raise NodeNotFound(nodename=nodename, nodes=[self._host])
        flavors = [g.instance.flavor for g in self._guests.values()]
        return HostResources(
            hypervisor_type="fake",
            hypervisor_version="1.0",
            hypervisor_hostname=self._host,
            vcpus=self._size["vcpus"],
            vcpus_used=sum(f.vcpus for f in flavors),
            memory_mb=self._size["memory_mb"],
            memory_mb_used=sum(f.memory_mb for f in flavors),
            local_gb=self._size["disk_gb"],
            local_gb_used=sum(f.root_gb + f.ephemeral_gb for f in flavors),
        )

    def list_instances(self) -> list[str]:
        return list(self._guests)

    def get_info(self, instance: Instance) -> InstanceInfo:
        guest = self._guest(instance)
        return InstanceInfo(
            state=guest.state,
            internal_id=f"fake-{instance.uuid}",
            memory_mb=guest.instance.flavor.memory_mb,
            vcpus=guest.instance.flavor.vcpus,
        )

    def spawn(
        self,
        instance: Instance,
        image_meta: ImageMeta,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        if instance.uuid in self._guests:
            raise InstanceExists(instance_uuid=instance.uuid)
        volumes = {bd.volume_id: bd for bd in (block_device_info.block_devices if block_device_info else [])}
        self._guests[instance.uuid] = _Guest(
            instance=instance,
            state=PowerState.RUNNING,
            volumes=volumes,
            vifs_plugged=bool(network_info.vifs),
            console=[f"booting {instance.name} from image {image_meta.id}"],
        )

    def destroy(
        self,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
        destroy_disks: bool = True,
    ) -> None:
        self._guests.pop(instance.uuid, None)

    def reboot(self, instance: Instance, network_info: NetworkInfo, reboot_type: RebootType) -> None:
        guest = self._require(instance, "reboot", PowerState.RUNNING)
        guest.console.append(f"{reboot_type.value} reboot")

    def power_off(self, instance: Instance, timeout: int = 0, retry_interval: int = 0) -> None:
        self._guest(instance).state = PowerState.SHUTDOWN

    def power_on(
        self,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        self._guest(instance).state = PowerState.RUNNING

    def pause(self, instance: Instance) -> None:
        self._require(instance, "pause", PowerState.RUNNING).state = PowerState.PAUSED

    def unpause(self, instance: Instance) -> None:
        self._require(instance, "unpause", PowerState.PAUSED).state = PowerState.RUNNING

    def suspend(self, instance: Instance) -> None:
        self._require(instance, "suspend", PowerState.RUNNING).state = PowerState.SUSPENDED

    def resume(self, instance: Instance, network_info: NetworkInfo) -> None:
        self._require(instance, "resume", PowerState.SUSPENDED).state = PowerState.RUNNING

    def snapshot(self, instance: Instance, image_id: str) -> ImageMeta:
        self._guest(instance)
        return ImageMeta(id=image_id, name=f"snapshot of {instance.name}", disk_format="raw")

    def attach_volume(self, instance: Instance, block_device: BlockDevice) -> None:
        guest = self._guest(instance)
        if any(v.device_name == block_device.device_name for v in guest.volumes.values()):
            raise FakeDriverError(
                operation=f"attach volume {block_device.volume_id} to {instance.uuid}",
                reason=f"device {block_device.device_name} is already in use",
            )
        guest.volumes[block_device.volume_id] = block_device

    def detach_volume(self, instance: Instance, volume_id: str) -> None:
        self._guest(instance).volumes.pop(volume_id, None)

    def plug_vifs(self, instance: Instance, network_info: NetworkInfo) -> None:
        self._guest(instance).vifs_plugged = True

    def unplug_vifs(self, instance: Instance, network_info: NetworkInfo) -> None:
        self._guest(instance).vifs_plugged = False

    def get_console_output(self, instance: Instance) -> str:
        return "\n".join(self._guest(instance).console) + "\n"

    def _guest(self, instance: Instance) -> _Guest:
        try:
            return self._guests[instance.uuid]
        except KeyError:
            raise InstanceNotFound(instance_uuid=instance.uuid) from None

    def _require(self, instance: Instance, operation: str, state: PowerState) -> _Guest:
        guest = self._guest(instance)
        if guest.state is not state:
            raise InvalidPowerState(operation=operation, instance_uuid=instance.uuid, power_state=guest.state.value)
        return guest


def _positive_int(options: Mapping[str, str], key: str, default: int) -> int:
    raw = options.get(key)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise FakeConfigError(driver="fake", option=key, reason=f"expected a positive integer, got {raw!r}")
    return int(raw)
