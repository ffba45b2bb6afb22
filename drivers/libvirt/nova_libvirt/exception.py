"""The libvirt driver's own errors."""

from __future__ import annotations

from nova_common.exception import DriverError, InvalidDriverConfig

__all__ = ["LibvirtConfigError", "LibvirtError"]


class LibvirtError(DriverError):
    """libvirt refused or failed an operation."""

    msg_fmt = "libvirt failed to {operation}: {reason}"


class LibvirtConfigError(InvalidDriverConfig):
    """A libvirt driver option is wrong."""
