"""Driver discovery through the ``nova.compute.drivers`` entry point group."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata

from nova_common.api_version import APIVersion, negotiate
from nova_common.driver import ComputeDriver
from nova_common.exception import DriverLoadError, DriverNotFound
from nova_common.virtapi import VirtAPI

__all__ = ["ENTRY_POINT_GROUP", "LoadedDriver", "installed_drivers", "load_driver"]

#: Drivers register as ``<short name> = <module>:<ComputeDriver subclass>`` in this group.
ENTRY_POINT_GROUP = "nova.compute.drivers"


@dataclass(frozen=True)
class LoadedDriver:
    """A driver instance and the driver API version negotiated with it."""

    driver: ComputeDriver
    api_version: APIVersion


def installed_drivers() -> dict[str, str]:
    """Short name -> providing distribution (``{"libvirt": "nova-libvirt 1.0.0"}``)."""
    found: dict[str, str] = {}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist
        found[ep.name] = f"{dist.name} {dist.version}" if dist is not None else "unknown distribution"
    return dict(sorted(found.items()))


def load_driver(name: str, virtapi: VirtAPI, options: Mapping[str, str] | None = None) -> LoadedDriver:
    """Find driver ``name``, check its API range against this core, and construct it.

    Raises :class:`DriverNotFound` (listing the installed drivers), :class:`IncompatibleDriverAPI`
    (naming both ranges), or :class:`DriverLoadError` when the entry point is broken.
    """
    eps = [ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not eps:
        installed = ", ".join(installed_drivers()) or "none"
        raise DriverNotFound(driver=name, installed=installed)
    try:
        cls = eps[0].load()
    except ImportError as e:
        raise DriverLoadError(driver=name, reason=f"importing {eps[0].value} failed: {e}") from e
    if not (isinstance(cls, type) and issubclass(cls, ComputeDriver)):
        raise DriverLoadError(driver=name, reason=f"{eps[0].value} is not a ComputeDriver subclass")
    if cls.name != name:
        raise DriverLoadError(driver=name, reason=f"{eps[0].value} calls itself {cls.name!r}")
    version = negotiate(name, cls.api_versions)
    return LoadedDriver(driver=cls(virtapi, dict(options or {})), api_version=version)
