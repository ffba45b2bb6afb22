"""InstanceInfo: what the hypervisor reports about one guest."""

from __future__ import annotations

from nova_common.objects.base import VersionedObject
from nova_common.objects.fields import PowerState

__all__ = ["InstanceInfo"]


class InstanceInfo(VersionedObject):
    """Answer of :meth:`ComputeDriver.get_info`."""

    VERSION = "1.0"
    CHANGES = {"1.0": "Initial version."}

    state: PowerState
    #: The hypervisor's own id for the guest (domain UUID, VM moref, node UUID, ...).
    internal_id: str | None = None
    memory_mb: int = 0
    vcpus: int = 0
    cpu_time_ns: int | None = None
