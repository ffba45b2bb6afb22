"""The VMware driver's own errors."""

from __future__ import annotations

from nova_common.exception import DriverError, InvalidDriverConfig

__all__ = ["VMwareConfigError", "VMwareError"]


class VMwareError(DriverError):
    """vCenter/ESXi refused or failed an operation, or could not be reached."""

    msg_fmt = "vmware failed to {operation}: {reason}"


class VMwareConfigError(InvalidDriverConfig):
    """A VMware driver option is wrong (malformed, or names nothing in the inventory)."""
