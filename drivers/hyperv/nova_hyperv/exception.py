"""The hyperv driver's own errors. os-win's exceptions never cross the driver API."""

from __future__ import annotations

from nova_common.exception import DriverError, InvalidDriverConfig

__all__ = ["HyperVConfigError", "HyperVError", "HyperVUnavailable"]


class HyperVError(DriverError):
    """Hyper-V (through os-win) refused or failed an operation."""

    msg_fmt = "Hyper-V failed to {operation}: {reason}"


class HyperVUnavailable(HyperVError):
    """os-win cannot reach Hyper-V from this machine (not Windows, no WMI)."""

    msg_fmt = "os-win needs Windows/WMI; it cannot reach Hyper-V on this {platform} host ({reason})"


class HyperVConfigError(InvalidDriverConfig):
    """A hyperv driver option is wrong."""
