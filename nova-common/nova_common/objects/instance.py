"""Instance: a guest, as the compute service knows it."""

from __future__ import annotations

from nova_common.objects.base import VersionedObject, obj_field
from nova_common.objects.fields import PowerState, VMState
from nova_common.objects.flavor import Flavor

__all__ = ["Instance"]


class Instance(VersionedObject):
    """A guest. Drivers read it; only the compute service changes its states."""

    VERSION = "1.0"
    CHANGES = {"1.0": "Initial version."}

    uuid: str
    #: Human name, unique per host; drivers may use it in the hypervisor's display name.
    name: str
    flavor: Flavor
    image_ref: str
    host: str | None = None
    vm_state: VMState = VMState.BUILDING
    power_state: PowerState = PowerState.NOSTATE
    #: User metadata; drivers may store it with the guest (libvirt keeps it in domain metadata).
    metadata: dict[str, str] = obj_field(default_factory=dict)
