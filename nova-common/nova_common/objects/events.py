"""LifecycleEvent: a driver's report that a guest changed state on its own."""

from __future__ import annotations

from nova_common.objects.base import VersionedObject
from nova_common.objects.fields import PowerState

__all__ = ["LifecycleEvent"]


class LifecycleEvent(VersionedObject):
    """Sent through :meth:`VirtAPI.emit_event` when the hypervisor reports a transition."""

    VERSION = "1.0"
    CHANGES = {"1.0": "Initial version."}

    instance_uuid: str
    power_state: PowerState
