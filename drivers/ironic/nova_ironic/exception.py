"""The Ironic driver's own errors."""

from __future__ import annotations

from nova_common.exception import DriverError, InvalidDriverConfig

__all__ = ["IronicConfigError", "IronicError", "NoAvailableNode"]


class IronicError(DriverError):
    """The Ironic API refused or failed an operation, or could not be reached."""

    msg_fmt = "Ironic failed to {operation}: {reason}"


class NoAvailableNode(IronicError):
    """No node is free for a new instance (none available, or none big enough)."""

    msg_fmt = "no available Ironic node for instance {instance_uuid} (flavor {flavor}): {reason}"


class IronicConfigError(InvalidDriverConfig):
    """An Ironic driver option is missing or wrong."""
