"""VIF and NetworkInfo: the virtual network interfaces of an instance."""

from __future__ import annotations

from nova_common.objects.base import VersionedObject, obj_field

__all__ = ["VIF", "NetworkInfo"]


class VIF(VersionedObject):
    """One virtual interface, already allocated by the network service."""

    VERSION = "1.0"
    CHANGES = {"1.0": "Initial version."}

    id: str
    address: str
    network_name: str
    #: How the interface is wired on the host: ``"bridge"``, ``"ovs"``, ``"vmnet"``, ...
    vif_type: str = "bridge"
    bridge: str | None = None
    mtu: int | None = None


class NetworkInfo(VersionedObject):
    """All interfaces of an instance, in guest order."""

    VERSION = "1.0"
    CHANGES = {"1.0": "Initial version."}

    vifs: list[VIF] = obj_field(default_factory=list)
