"""nova-common: the stable driver API shared by nova's compute service and its hypervisor drivers.

Drivers may import this package and its public modules: :mod:`nova_common.driver`,
:mod:`nova_common.objects`, :mod:`nova_common.exception`, :mod:`nova_common.api_version`,
:mod:`nova_common.virtapi`, :mod:`nova_common.loader`, :mod:`nova_common.power`,
:mod:`nova_common.deprecation` and :mod:`nova_common.testing`.
:mod:`nova_common.compute` is the core's own: the build graph refuses a driver that imports
it (visibility rules in build-support/macros/subprojects.py).

The package's own names (``from nova_common import ComputeDriver``) are loaded on first use
(:pep:`562`, as Scientific Python's SPEC 1 does it), not when the package is imported. Python
runs this file before any module of the package, so eager re-exports here made every module load
the whole driver API, and the build graph (which follows imports) charged every test in
nova-common for every driver API change, even tests of modules that never touch it
(``compute/names.py``). Each name is still importable from here, and the same object as in its
module. Code in this repository imports them from their modules: the build graph does not see a
name loaded here (ruff's TID251 refuses ``from nova_common import ComputeDriver`` in the tree).
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and the API gate (griffe); at run time see __getattr__
    from nova_common.api_version import DRIVER_API_VERSION, APIVersion, APIVersionRange  # pants: no-infer-dep
    from nova_common.driver import ComputeDriver  # pants: no-infer-dep
    from nova_common.virtapi import VirtAPI  # pants: no-infer-dep

__all__ = ["DRIVER_API_VERSION", "APIVersion", "APIVersionRange", "ComputeDriver", "VirtAPI"]

#: each of the package's names -> the module that defines it (the imports above, for run time)
_DEFINED_IN = {
    "DRIVER_API_VERSION": "nova_common.api_version",
    "APIVersion": "nova_common.api_version",
    "APIVersionRange": "nova_common.api_version",
    "ComputeDriver": "nova_common.driver",
    "VirtAPI": "nova_common.virtapi",
}


def __getattr__(name: str) -> Any:
    """``nova_common.<name>``: imports the defining module on first use and keeps the value."""
    module = _DEFINED_IN.get(name)
    if module is None:
        if name.isidentifier() and not name.startswith("_") and _is_module(name):
            # ``import nova_common`` once loaded the driver API's modules as a side effect
            raise AttributeError(
                f"module {__name__!r} has no attribute {name!r}: import {__name__}.{name} "
                "(the package does not import its modules itself)"
            )
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(f"{__name__}.{name}") is not None
    except (ImportError, ValueError):
        return False


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
