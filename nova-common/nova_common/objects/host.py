"""HostResources: capacity and usage of one compute node."""

from __future__ import annotations

from nova_common.objects.base import VersionedObject, obj_field

__all__ = ["HostResources"]


class HostResources(VersionedObject):
    """Answer of :meth:`ComputeDriver.get_available_resource`."""

    VERSION = "1.0"
    CHANGES = {"1.0": "Initial version."}

    hypervisor_type: str
    hypervisor_version: str
    hypervisor_hostname: str
    vcpus: int
    vcpus_used: int
    memory_mb: int
    memory_mb_used: int
    local_gb: int
    local_gb_used: int
    #: Free-form CPU description from the hypervisor (model, vendor, features).
    cpu_info: dict[str, str] = obj_field(default_factory=dict)
