"""The xen driver's own errors. XenAPI's exceptions never cross the driver API."""

from __future__ import annotations

from nova_common.exception import DriverError, InvalidDriverConfig

__all__ = ["XenAuthError", "XenConfigError", "XenConnectionError", "XenError"]


class XenError(DriverError):
    """XenAPI refused or failed an operation."""

    msg_fmt = "XenAPI failed to {operation}: {reason}"


class XenConnectionError(XenError):
    """The XenAPI endpoint cannot be reached, or does not speak XenAPI."""

    msg_fmt = "cannot reach XenAPI at {url}: {reason}"


class XenAuthError(XenError):
    """The XenAPI endpoint rejected the username and password."""

    msg_fmt = "XenAPI at {url} rejected the credentials of user {username!r}: {reason}"


class XenConfigError(InvalidDriverConfig):
    """A xen driver option is missing or wrong."""
