"""Driver discovery through the ``nova.compute.drivers`` entry point group."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata

from nova_common.api_version import APIVersion, APIVersionRange, negotiate
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
        found[ep.name] = _provider(ep)
    return dict(sorted(found.items()))


def load_driver(name: str, virtapi: VirtAPI, options: Mapping[str, str] | None = None) -> LoadedDriver:
    """Find driver ``name``, check its API range against this core, and construct it.

    Raises :class:`DriverNotFound` (listing the installed drivers), :class:`IncompatibleDriverAPI`
    (naming both ranges), :class:`DriverLoadError` when the entry point is broken (its module or
    class cannot be imported, it names no concrete ``ComputeDriver`` subclass called ``name``) or
    when more than one distribution provides ``name``, and whatever the driver's constructor
    raises for bad ``options`` (its :class:`~nova_common.exception.InvalidDriverConfig` subclass).
    """
    eps = [ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not eps:
        installed = ", ".join(installed_drivers()) or "none"
        raise DriverNotFound(driver=name, installed=installed)
    if len({ep.value for ep in eps}) > 1:
        providers = ", ".join(sorted(f"{_provider(ep)} ({ep.value})" for ep in eps))
        raise DriverLoadError(driver=name, reason=f"more than one distribution provides it: {providers}; uninstall one")
    ep = eps[0]
    try:
        cls = ep.load()
    except (ImportError, AttributeError) as e:
        raise DriverLoadError(driver=name, reason=f"importing {ep.value} failed: {e}") from e
    if not (isinstance(cls, type) and issubclass(cls, ComputeDriver)):
        raise DriverLoadError(driver=name, reason=f"{ep.value} is not a ComputeDriver subclass")
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(cls.__abstractmethods__))
        raise DriverLoadError(driver=name, reason=f"{ep.value} does not implement {missing}")
    if getattr(cls, "name", None) != name:
        raise DriverLoadError(driver=name, reason=f"{ep.value} calls itself {getattr(cls, 'name', None)!r}")
    if not isinstance(getattr(cls, "api_versions", None), APIVersionRange):
        raise DriverLoadError(driver=name, reason=f"{ep.value} declares no api_versions (an APIVersionRange)")
    version = negotiate(name, cls.api_versions)
    return LoadedDriver(driver=cls(virtapi, dict(options or {})), api_version=version)


def _provider(ep: metadata.EntryPoint) -> str:
    dist = ep.dist
    return f"{dist.name} {dist.version}" if dist is not None else "unknown distribution"
