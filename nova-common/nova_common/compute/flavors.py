"""The built-in flavor catalog of the compute CLI."""

from __future__ import annotations

from nova_common.compute.errors import UnknownFlavor
from nova_common.objects import Flavor

__all__ = ["FLAVORS", "get_flavor"]

FLAVORS: dict[str, Flavor] = {
    f.name: f
    for f in (
        Flavor(name="m1.nano", vcpus=1, memory_mb=128, root_gb=1),
        Flavor(name="m1.tiny", vcpus=1, memory_mb=512, root_gb=1),
        Flavor(name="m1.small", vcpus=1, memory_mb=2048, root_gb=20),
        Flavor(name="m1.medium", vcpus=2, memory_mb=4096, root_gb=40),
    )
}


def get_flavor(name: str) -> Flavor:
    """Return a copy of flavor ``name`` or raise ``UnknownFlavor`` listing the known ones."""
    try:
        return Flavor.obj_from_primitive(FLAVORS[name].obj_to_primitive())
    except KeyError:
        raise UnknownFlavor(name=name, known=", ".join(FLAVORS)) from None
