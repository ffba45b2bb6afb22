"""Deprecations with a deadline: a warning now, an error from the removal version on.

A public name that is going away stays for the rest of its major version::

    @deprecated(removal="2.0", replacement="nova_common.driver.ComputeDriver.power_off")
    def shutdown(...): ...

    old_name = deprecated_alias(new_name, name="nova_common.x.old_name", removal="2.0")

Calling it warns with a :class:`DeprecationWarning` that names the replacement and the removal
version. Once nova-common's version reaches the removal version, calling it raises
:class:`DeprecatedAPIRemoved` instead, and ``nova-split api-gate`` fails until the name is
deleted (it also lists which drivers still use each deprecated name).

nova-common's version at run time is taken from :data:`~nova_common.api_version.DRIVER_API_VERSION`:
nova-common's major version equals the driver API's major version, and removing a public name is
a breaking change, so removal versions are always majors (``"2.0"``).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from packaging.version import Version

from nova_common.api_version import DRIVER_API_VERSION

__all__ = ["DeprecatedAPIRemoved", "Deprecation", "deprecated", "deprecated_alias", "deprecations"]

_F = TypeVar("_F", bound=Callable[..., Any])
_REGISTRY: dict[str, Deprecation] = {}


class DeprecatedAPIRemoved(RuntimeError):
    """A deprecated name was used after its removal version."""


@dataclass(frozen=True)
class Deprecation:
    """A deprecated public name, what replaces it, and the major version that removes it."""

    name: str
    replacement: str
    removal: str

    @property
    def removed(self) -> bool:
        """Whether this nova-common's major version has reached the removal version."""
        return DRIVER_API_VERSION.major >= Version(self.removal).major

    def check(self) -> None:
        """Warn (before the removal version) or raise :class:`DeprecatedAPIRemoved` (from it on)."""
        if self.removed:
            raise DeprecatedAPIRemoved(
                f"{self.name} was removed in nova-common {self.removal}; use {self.replacement} instead"
            )
        warnings.warn(
            f"{self.name} is deprecated and will be removed in nova-common {self.removal}; "
            f"use {self.replacement} instead",
            DeprecationWarning,
            stacklevel=4,
        )


def deprecations() -> list[Deprecation]:
    """Every deprecation declared so far (in import order)."""
    return list(_REGISTRY.values())


def deprecated(*, removal: str, replacement: str) -> Callable[[_F], _F]:
    """Decorate a public function (or method) that will be removed in nova-common ``removal``."""

    def wrap(func: _F) -> _F:
        return _wrap(func, f"{func.__module__}.{func.__qualname__}", replacement, removal)

    return wrap


def deprecated_alias(target: _F, *, name: str, removal: str) -> _F:
    """An old name (``name``, dotted) for the function ``target``, removed in nova-common ``removal``."""
    return _wrap(target, name, f"{target.__module__}.{target.__qualname__}", removal)


def _wrap(func: _F, name: str, replacement: str, removal: str) -> _F:
    version = Version(removal)
    if version.release[1:] and any(version.release[1:]):
        raise ValueError(f"removal versions are majors ('{version.major}.0'), not {removal!r}: removing is breaking")
    deprecation = Deprecation(name, replacement, removal)
    _REGISTRY[name] = deprecation

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        deprecation.check()
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
