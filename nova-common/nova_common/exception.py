"""Exceptions of the driver API. Drivers subclass :class:`DriverError` for their own errors.

Every exception carries a ``msg_fmt`` filled from keyword arguments, so messages are uniform and
the arguments stay available to callers (``exc.kwargs["instance_uuid"]``).
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "DriverError",
    "DriverLoadError",
    "DriverNotFound",
    "IncompatibleDriverAPI",
    "InstanceExists",
    "InstanceNotFound",
    "InvalidDriverConfig",
    "InvalidPowerState",
    "NodeNotFound",
    "NotSupported",
    "NovaError",
]


class NovaError(Exception):
    """Base of every error raised across the driver API."""

    msg_fmt: ClassVar[str] = "An unknown error occurred."

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        self.kwargs = kwargs
        super().__init__(message if message is not None else self.msg_fmt.format(**kwargs))


class NotSupported(NovaError):
    """The driver does not implement an optional operation (its capability flag is false)."""

    msg_fmt = "driver {driver!r} does not support {operation}"


class InstanceNotFound(NovaError):
    """The hypervisor has no guest for this instance."""

    msg_fmt = "instance {instance_uuid} could not be found on the hypervisor"


class InstanceExists(NovaError):
    """``spawn`` was asked for an instance the hypervisor already has."""

    msg_fmt = "instance {instance_uuid} already exists on the hypervisor"


class InvalidPowerState(NovaError):
    """The operation is not possible in the guest's current power state."""

    msg_fmt = "cannot {operation} instance {instance_uuid} while it is {power_state}"


class NodeNotFound(NovaError, ValueError):
    """The driver does not manage a compute node of this name.

    Also a :class:`ValueError`, the type driver API 1.0 named for an unknown node, so callers
    written against it keep working.
    """

    msg_fmt = "unknown node {nodename!r}; this driver manages {nodes}"


class DriverError(NovaError):
    """Base class for a driver's own errors (hypervisor failures, bad responses)."""

    msg_fmt = "driver error: {reason}"


class InvalidDriverConfig(DriverError):
    """A driver option is missing or malformed; raised by the driver's own config parsing."""

    msg_fmt = "invalid option {option!r} for driver {driver!r}: {reason}"


class DriverLoadError(NovaError):
    """A driver could not be loaded."""

    msg_fmt = "could not load driver {driver!r}: {reason}"


class DriverNotFound(DriverLoadError):
    """No installed driver has this name."""

    msg_fmt = "no compute driver named {driver!r} is installed; installed drivers: {installed}"


class IncompatibleDriverAPI(DriverLoadError):
    """The driver and this nova-common share no driver API version."""

    msg_fmt = (
        "driver {driver!r} supports driver API {driver_range}, but this nova-common provides "
        "{core_range}; install a {driver!r} release built for driver API {core_major}.x"
    )
