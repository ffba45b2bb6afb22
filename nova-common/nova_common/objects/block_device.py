"""BlockDevice and BlockDeviceInfo: volumes attached to an instance."""

from __future__ import annotations

from nova_common.objects.base import VersionedObject, obj_field

__all__ = ["BlockDevice", "BlockDeviceInfo"]


class BlockDevice(VersionedObject):
    """One volume, already exported by the block storage service."""

    VERSION = "1.0"
    CHANGES = {"1.0": "Initial version."}

    volume_id: str
    #: Guest device name, e.g. ``"vdb"``.
    device_name: str
    size_gb: int
    #: How the host reaches the volume (``"driver_volume_type": "iscsi"``, target, lun, ...).
    connection_info: dict[str, str] = obj_field(default_factory=dict)


class BlockDeviceInfo(VersionedObject):
    """The block devices an instance boots with."""

    VERSION = "1.0"
    CHANGES = {"1.0": "Initial version."}

    root_device_name: str | None = None
    block_devices: list[BlockDevice] = obj_field(default_factory=list)
