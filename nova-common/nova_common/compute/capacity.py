"""Does a flavor fit the node? Free resources as the driver reports them, times allocation ratios.

Like Nova's ``cpu_allocation_ratio``/``ram_allocation_ratio``/``disk_allocation_ratio``: a node
offers ``total x ratio - used``. ``used`` is what the driver reports plus the flavors of boots
that have a record but no guest yet, so concurrent boots cannot all claim the same room. A total
of 0 means the driver does not report that resource; it is then not checked.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from nova_common.compute.errors import NoCapacity
from nova_common.objects import Flavor, HostResources

__all__ = ["AllocationRatios", "check_fits"]


@dataclass(frozen=True)
class AllocationRatios:
    """Overcommit ratios; the defaults are Nova's ``initial_*_allocation_ratio`` defaults."""

    cpu: float = 4.0
    ram: float = 1.0
    disk: float = 1.0

    def __post_init__(self) -> None:
        for kind, value in (("cpu", self.cpu), ("ram", self.ram), ("disk", self.disk)):
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"{kind} allocation ratio must be a positive, finite number, not {value!r}")


def check_fits(flavor: Flavor, node: HostResources, pending: Sequence[Flavor], ratios: AllocationRatios) -> None:
    """Raise ``NoCapacity`` (one line) if ``flavor`` does not fit ``node`` beside ``pending`` boots."""
    for resource, option, need, total, used, ratio, pend in (
        (
            "vCPUs",
            "cpu-allocation-ratio",
            flavor.vcpus,
            node.vcpus,
            node.vcpus_used,
            ratios.cpu,
            sum(f.vcpus for f in pending),
        ),
        (
            "MB of memory",
            "ram-allocation-ratio",
            flavor.memory_mb,
            node.memory_mb,
            node.memory_mb_used,
            ratios.ram,
            sum(f.memory_mb for f in pending),
        ),
        (
            "GB of disk",
            "disk-allocation-ratio",
            flavor.root_gb + flavor.ephemeral_gb,
            node.local_gb,
            node.local_gb_used,
            ratios.disk,
            sum(f.root_gb + f.ephemeral_gb for f in pending),
        ),
    ):
        if total <= 0:
            continue
        # In floats: a huge ratio makes ``total * ratio`` infinite (room for anything), never an
        # OverflowError; the free figure shown is rounded down.
        free = math.floor(min(total * ratio, float(2**63))) - used - pend
        if need > free:
            raise NoCapacity(
                flavor=flavor.name,
                node=node.hypervisor_hostname,
                need=need,
                resource=resource,
                free=max(free, 0),
                total=total,
                ratio=f"{ratio:g}",
                used=used + pend,
                option=option,
            )
