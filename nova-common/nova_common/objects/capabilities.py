"""Capabilities: which optional driver operations a driver implements. Data, not hasattr."""

from __future__ import annotations

from nova_common.objects.base import VersionedObject

__all__ = ["Capabilities", "OPTIONAL_OPERATIONS"]


class Capabilities(VersionedObject):
    """Each flag enables a pair of optional :class:`ComputeDriver` methods.

    A driver that leaves a flag false inherits the base methods, which raise
    :class:`~nova_common.exception.NotSupported`; the compute service and the conformance suite
    read the flags, never probe the methods.
    """

    VERSION = "1.0"
    CHANGES = {"1.0": "Initial version."}

    supports_pause: bool = False
    supports_suspend: bool = False
    supports_snapshot: bool = False
    supports_volume_attach: bool = False
    supports_vif_plug: bool = False
    supports_console_output: bool = False


#: Capability flag -> the ComputeDriver methods it enables.
OPTIONAL_OPERATIONS: dict[str, tuple[str, ...]] = {
    "supports_pause": ("pause", "unpause"),
    "supports_suspend": ("suspend", "resume"),
    "supports_snapshot": ("snapshot",),
    "supports_volume_attach": ("attach_volume", "detach_volume"),
    "supports_vif_plug": ("plug_vifs", "unplug_vifs"),
    "supports_console_output": ("get_console_output",),
}
