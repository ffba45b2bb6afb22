"""The public driver API: the one definition the API gate, ``nova-split review`` and the docs use.

Drivers may import every module of the ``nova_common`` package except

* the core's own compute service, :data:`INTERNAL` (the build graph refuses a driver's shipped code
  that imports it; see build-support/macros), and
* private modules (``_name``) and test modules (``*_test``).

A public module's public names are its ``__all__`` where it has one; otherwise the names it defines
(classes, functions, attributes) that do not start with ``_``. A name a module merely imports is
not API unless its ``__all__`` lists it, so ``import logging`` in a public module adds nothing.
Re-exports are resolved: ``nova_common.ComputeDriver`` and ``nova_common.driver.ComputeDriver``
are two spellings of one symbol, and the symbol is reported under its preferred spelling (the
module that defines it when that module is public, else the shortest spelling).

:data:`IMPLEMENTED` are the classes drivers *implement* rather than call: the core calls their
methods, so their signatures are compared with the caller's and the callee's roles swapped.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import griffe

from nova_split_tools.errors import ToolError

__all__ = [
    "CORE_ROOT",
    "IMPLEMENTED",
    "INTERNAL",
    "PACKAGE",
    "Surface",
    "is_api_file",
    "is_public_module",
    "load_package",
    "module_of",
]

PACKAGE = "nova_common"
#: The source root of :data:`PACKAGE`, relative to the repository root.
CORE_ROOT = "nova-common"
#: Core-internal parts of the package: drivers' shipped code may not import them, so they are not API.
INTERNAL: tuple[str, ...] = ("nova_common.compute",)
#: Classes drivers subclass and the core calls: ``ComputeDriver``'s methods are implemented by drivers.
IMPLEMENTED: tuple[str, ...] = ("nova_common.driver.ComputeDriver",)


def is_public_module(dotted: str) -> bool:
    """Whether drivers may import module ``dotted`` (``nova_common.objects.flavor``: yes)."""
    if dotted != PACKAGE and not dotted.startswith(PACKAGE + "."):
        return False
    if any(dotted == p or dotted.startswith(p + ".") for p in INTERNAL):
        return False
    return not any(part.startswith("_") or part.endswith("_test") for part in dotted.split("."))


def module_of(path: str, source_root: str = CORE_ROOT) -> str:
    """``nova-common/nova_common/objects/flavor.py`` -> ``nova_common.objects.flavor``."""
    rel = PurePosixPath(path).relative_to(source_root).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def is_api_file(path: str) -> bool:
    """Whether a repository path is a module of the public driver API (``review`` routes on it)."""
    if not path.startswith(f"{CORE_ROOT}/{PACKAGE}/") or not path.endswith(".py"):
        return False
    return is_public_module(module_of(path))


def load_package(source_root: Path, where: str) -> griffe.Module:
    """``nova_common`` from ``source_root`` (a directory holding the package), aliases resolved."""
    if not (source_root / PACKAGE / "__init__.py").is_file():
        raise ToolError(
            f"{where} has no {CORE_ROOT}/{PACKAGE}/__init__.py; compare with a revision that has nova-common"
        )
    for path in sorted((source_root / PACKAGE).rglob("*.py")):
        try:
            ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError) as e:  # griffe would skip the module and call it empty
            rel = path.relative_to(source_root).as_posix()
            raise ToolError(
                f"cannot read {PACKAGE} from {where}: {rel}:{getattr(e, 'lineno', '?')}: "
                f"{e.msg if isinstance(e, SyntaxError) else e}; fix the file"
            ) from None
    try:
        module = griffe.load(
            PACKAGE,
            search_paths=[source_root],
            resolve_aliases=True,
            resolve_external=False,
            force_inspection=False,
        )
    except (ImportError, griffe.LoadingError, SyntaxError, UnicodeDecodeError) as e:
        raise ToolError(f"cannot read {PACKAGE} from {where}: {e}") from None
    if not isinstance(module, griffe.Module):
        raise ToolError(f"{PACKAGE} from {where} is not a package")
    return module


@dataclass
class Surface:
    """The public names of one version of the package: spelling -> the object it names."""

    package: griffe.Module
    names: dict[str, griffe.Object] = field(default_factory=dict)
    modules: dict[str, griffe.Module] = field(default_factory=dict)

    @classmethod
    def of(cls, package: griffe.Module) -> Surface:
        surface = cls(package)
        for module in _public_modules(package):
            surface.modules[module.path] = module
            for name, obj in _public_members(module):
                surface.names[f"{module.path}.{name}"] = obj
        return surface

    def spellings(self) -> dict[str, list[str]]:
        """Canonical path -> its public spellings, preferred first."""
        by_target: dict[str, list[str]] = {}
        for spelling, obj in self.names.items():
            by_target.setdefault(obj.path, []).append(spelling)
        return {target: sorted(s, key=lambda x: _preference(x, target)) for target, s in by_target.items()}

    def preferred(self, spelling: str) -> str:
        """The preferred spelling of the symbol ``spelling`` names (itself if unknown)."""
        obj = self.names.get(spelling)
        if obj is None:
            return spelling
        return self.spellings()[obj.path][0]


def _preference(spelling: str, target: str) -> tuple[int, int, str]:
    return (0 if spelling == target else 1, len(spelling), spelling)


def _public_modules(package: griffe.Module) -> Iterator[griffe.Module]:
    todo: list[griffe.Module] = [package]
    while todo:
        module = todo.pop()
        if not is_public_module(module.path):
            continue
        yield module
        todo.extend(m for m in module.modules.values() if isinstance(m, griffe.Module) and not m.is_alias)


def _public_members(module: griffe.Module) -> Iterator[tuple[str, griffe.Object]]:
    """``(name, resolved object)`` for each public name of ``module`` (its ``__all__`` if it has one)."""
    exports = module.exports
    if exports is not None:
        names = [e if isinstance(e, str) else e.name for e in exports]
    else:
        names = [
            n
            for n, m in module.members.items()
            if not n.startswith("_") and not m.is_alias and not (m.is_module and not is_public_module(m.path))
        ]
    for name in names:
        member = module.members.get(name)
        if member is None:
            continue
        if not member.is_alias and member.is_module:  # (an alias may not resolve: ask it nothing yet)
            continue  # submodules are public modules of their own
        try:
            target = member.final_target if isinstance(member, griffe.Alias) else member
        except (griffe.AliasResolutionError, griffe.CyclicAliasError):
            continue  # a re-export of something outside the package (e.g. a stdlib name)
        if isinstance(target, griffe.Attribute):
            target = _assigned(target) or target
        if isinstance(target, griffe.Object):
            yield name, target


def _assigned(attr: griffe.Attribute) -> griffe.Object | None:
    """The class or function a module-level ``Old = New`` names, so the old name is an alias of it."""
    value = attr.value
    if not isinstance(value, (griffe.ExprName, griffe.ExprAttribute)) or attr.annotation is not None:
        return None
    try:
        obj = attr.package.modules_collection.get_member(value.canonical_path)
        obj = obj.final_target if isinstance(obj, griffe.Alias) else obj
    except (KeyError, ValueError, AttributeError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None
    return obj if isinstance(obj, (griffe.Class, griffe.Function)) else None
