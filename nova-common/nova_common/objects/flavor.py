"""Flavor: the size of an instance."""

from __future__ import annotations

from nova_common.objects.base import VersionedObject, obj_field

__all__ = ["Flavor"]


class Flavor(VersionedObject):
    """The virtual hardware an instance gets."""

    VERSION = "1.0"
    CHANGES = {"1.0": "Initial version."}

    name: str
    vcpus: int
    memory_mb: int
    root_gb: int
    ephemeral_gb: int = 0
    #: Driver-specific tuning (``"hw:cpu_policy": "dedicated"``); keys are namespaced strings.
    extra_specs: dict[str, str] = obj_field(default_factory=dict)
