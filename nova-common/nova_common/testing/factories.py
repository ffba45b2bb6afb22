"""Builders for valid objects with sensible defaults, for tests."""

from __future__ import annotations

import uuid as uuidlib

from nova_common.objects import VIF, Flavor, ImageMeta, Instance, NetworkInfo
from nova_common.virtapi import LocalVirtAPI

__all__ = ["RecordingVirtAPI", "make_flavor", "make_image", "make_instance", "make_network_info"]


def make_flavor(**overrides: object) -> Flavor:
    """A small flavor (1 vCPU, 128 MiB, 1 GB)."""
    values: dict[str, object] = {"name": "m1.nano", "vcpus": 1, "memory_mb": 128, "root_gb": 1}
    values.update(overrides)
    return Flavor(**values)  # type: ignore[arg-type]


def make_instance(name: str = "conformance-vm", **overrides: object) -> Instance:
    """A new instance with a fresh uuid and :func:`make_flavor`'s flavor."""
    values: dict[str, object] = {
        "uuid": str(uuidlib.uuid4()),
        "name": name,
        "flavor": make_flavor(),
        "image_ref": "cirros-0.6",
    }
    values.update(overrides)
    return Instance(**values)  # type: ignore[arg-type]


def make_image(image_id: str = "cirros-0.6") -> ImageMeta:
    """A raw image."""
    return ImageMeta(id=image_id, name=image_id, disk_format="raw")


def make_network_info(count: int = 1) -> NetworkInfo:
    """``count`` bridged interfaces with distinct MAC addresses."""
    return NetworkInfo(
        vifs=[
            VIF(id=str(uuidlib.uuid4()), address=f"fa:16:3e:00:00:{i:02x}", network_name="private", bridge="br100")
            for i in range(count)
        ]
    )


#: A VirtAPI that keeps the events a driver emits, with a state dir of the test's choosing.
RecordingVirtAPI = LocalVirtAPI
