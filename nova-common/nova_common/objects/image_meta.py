"""ImageMeta: the image an instance boots from, or that a snapshot produced."""

from __future__ import annotations

from nova_common.objects.base import VersionedObject, obj_field

__all__ = ["ImageMeta"]


class ImageMeta(VersionedObject):
    """Metadata of a disk image."""

    VERSION = "1.0"
    CHANGES = {"1.0": "Initial version."}

    id: str
    name: str | None = None
    disk_format: str = "raw"
    container_format: str = "bare"
    min_disk_gb: int = 0
    min_ram_mb: int = 0
    #: Image properties (``"hw_disk_bus": "virtio"``).
    properties: dict[str, str] = obj_field(default_factory=dict)
