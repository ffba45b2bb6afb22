"""The subprojects of the repository: the registry, each one's metadata, and finding one by name.

``pants.toml``'s ``[python.resolves]`` is the registry: ``common`` is nova-common (and the
tooling), every other resolve is a driver whose directory holds its lockfile. Each subproject's
own metadata is in its ``subproject.toml``, read through :mod:`nova_split_tools.metadata`.
:func:`tool_resolves` says which resolves the tools run from (``install_from_resolve``).
"""

from __future__ import annotations

import enum
import posixpath
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from nova_split_tools.errors import ToolError
from nova_split_tools.metadata import Metadata, read_metadata

__all__ = [
    "CORE",
    "CorePolicy",
    "Subproject",
    "find_subproject",
    "load_subprojects",
    "metadata",
    "registered",
    "tool_resolves",
]

CORE = "nova-common"


class CorePolicy(str, enum.Enum):
    """How a driver's CI treats a nova-common change on one path (``[ci] api-changes``, ``core-changes``)."""

    VOTE = "vote"
    ADVISORY = "advisory"
    SKIP = "skip"


@dataclass(frozen=True)
class Subproject:
    """nova-common, a driver, or the repo tooling."""

    name: str
    path: str
    resolve: str
    lockfile: str
    #: a nova-common change that reaches this driver only through its end-to-end tests
    core_changes: CorePolicy
    #: a nova-common change to a driver API member this driver's code or tests use
    api_changes: CorePolicy = CorePolicy.VOTE

    @property
    def is_driver(self) -> bool:
        return self.path.startswith("drivers/")

    @property
    def distribution(self) -> str:
        """The wheel's name by convention (``nova-xen``, ``nova-common``)."""
        return self.name if self.name == CORE else f"nova-{self.name}"

    def owns(self, path: str) -> bool:
        return PurePosixPath(path).is_relative_to(self.path)


def registered(root: Path) -> list[Subproject]:
    """nova-common and the drivers registered in ``pants.toml``, without reading their directories.

    A closure clone lacks the other drivers' directories, so their ``subproject.toml`` files are
    not there: the CI policies here are the defaults; :func:`load_subprojects` reads them.
    """
    config = _pants_toml(root)
    resolves: dict[str, str] = config.get("python", {}).get("resolves", {})
    if "common" not in resolves:
        raise ToolError("pants.toml's [python.resolves] has no 'common' resolve")
    return [Subproject(CORE, CORE, "common", resolves["common"], CorePolicy.VOTE)] + [
        Subproject(r, posixpath.dirname(lock), r, lock, CorePolicy.SKIP)
        for r, lock in sorted(resolves.items())
        if r != "common"
    ]


def load_subprojects(root: Path) -> list[Subproject]:
    """nova-common first, then the drivers by name (with their CI policy), then the tooling."""
    subprojects = [
        (
            Subproject(
                s.name,
                s.path,
                s.resolve,
                s.lockfile,
                CorePolicy((m := metadata(root, s)).core_changes),
                CorePolicy(m.api_changes),
            )
            if s.is_driver
            else s
        )
        for s in registered(root)
    ]
    core = subprojects[0]
    subprojects.append(Subproject("build-support", "build-support", "common", core.lockfile, CorePolicy.VOTE))
    return subprojects


def _pants_toml(root: Path) -> dict[str, Any]:
    try:
        return tomllib.loads((root / "pants.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ToolError(f"cannot read {root / 'pants.toml'}: {e}") from None


def tool_resolves(root: Path) -> dict[str, list[str]]:
    """Resolve -> the tools ``pants.toml`` installs from it (``[pytest] install_from_resolve = "common"``).

    Every subproject's tests run pytest (and its code mypy) built from that resolve's lockfile,
    so a change to the lockfile or the requirements of such a resolve reaches every subproject.
    """
    out: dict[str, list[str]] = {}
    for tool, section in sorted(_pants_toml(root).items()):
        if isinstance(section, dict) and isinstance(section.get("install_from_resolve"), str):
            out.setdefault(section["install_from_resolve"], []).append(tool)
    return out


def metadata(root: Path, subproject: Subproject) -> Metadata:
    """The subproject's ``subproject.toml`` (a one-line error if it is missing or malformed)."""
    return read_metadata(root / subproject.path)


def find_subproject(subprojects: Iterable[Subproject], name: str) -> Subproject:
    """The subproject called ``name``: its short name (``xen``), directory or distribution (``nova-xen``).

    The choices are the ``subprojects`` given (e.g. only the drivers, for a driver-only command).
    """
    candidates = list(subprojects)
    for s in candidates:
        if name in (s.name, s.path, s.path + "/", s.distribution):
            return s
    choices = ", ".join(s.name for s in candidates)
    raise ToolError(f"unknown subproject {name!r}; choose one of: {choices}")
