"""Resolve isolation: no driver's lockfile holds another driver's own client packages.

A driver's own client packages are declared in its ``subproject.toml``::

    [driver]
    client-packages = ["os-win"]

(a driver without that key: its direct requirements, less nova-common's). A package is only a
leak where it is not also the other driver's own requirement: two drivers may use the same
client library (each lists it in its ``requirements.txt``), and packages many libraries pull in
(six, setuptools) are nobody's client package. Each declared client package must also be one of
the driver's requirements and be in its own lockfile.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from nova_split_tools.errors import ToolError

__all__ = ["DriverPackages", "check_isolation", "load_drivers", "locked_projects"]

_END = "// --- END PANTS LOCKFILE METADATA ---"


@dataclass(frozen=True)
class DriverPackages:
    """One driver's lockfile contents, direct requirements and own client packages (canonical)."""

    name: str
    lockfile: str
    locked: frozenset[str]
    direct: frozenset[str]
    client: frozenset[str]


def locked_projects(lockfile: Path) -> set[str]:
    """The canonical project names a Pants (pex) lockfile locks."""
    text = lockfile.read_text()
    try:
        body = json.loads(text[text.index(_END) + len(_END) :])
        return {
            canonicalize_name(r["project_name"]) for res in body["locked_resolves"] for r in res["locked_requirements"]
        }
    except (ValueError, KeyError, TypeError) as e:
        raise ToolError(
            f"{lockfile} is not a Pants lockfile ({e}); regenerate it with ./pants generate-lockfiles"
        ) from None


def requirement_names(requirements: Path) -> set[str]:
    """Canonical names in a requirements.txt (comments and blank lines skipped)."""
    names: set[str] = set()
    lines = requirements.read_text().splitlines() if requirements.exists() else []
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            names.add(canonicalize_name(Requirement(line).name))
        except InvalidRequirement as e:
            raise ToolError(f"{requirements}: {line!r} is not a requirement ({e})") from None
    return names


def load_drivers(root: Path) -> list[DriverPackages]:
    """Every driver registered in pants.toml, with its packages."""
    resolves: dict[str, str] = tomllib.loads((root / "pants.toml").read_text())["python"]["resolves"]
    core = requirement_names(root / "nova-common" / "requirements.txt")
    drivers = []
    for name, lock in sorted(resolves.items()):
        if name == "common":
            continue
        directory = root / PurePosixPath(lock).parent
        direct = requirement_names(directory / "requirements.txt")
        meta = tomllib.loads((directory / "subproject.toml").read_text()).get("driver", {})
        declared = meta.get("client-packages")
        if declared is None:
            client = direct - core
        elif isinstance(declared, list) and all(isinstance(p, str) for p in declared):
            client = {canonicalize_name(p) for p in declared}
        else:
            raise ToolError(f"{directory / 'subproject.toml'}: [driver] client-packages must be a list of names")
        drivers.append(
            DriverPackages(name, lock, frozenset(locked_projects(root / lock)), frozenset(direct), frozenset(client))
        )
    return drivers


def check_isolation(drivers: list[DriverPackages]) -> list[str]:
    """Every problem found, one line each (empty: isolated)."""
    problems: list[str] = []
    for d in drivers:
        for pkg in sorted(d.client - d.direct):
            problems.append(f"{d.name} declares client package {pkg} but its requirements.txt does not require it")
        for pkg in sorted(d.client - d.locked):
            problems.append(f"{d.lockfile} lacks {d.name}'s own client package {pkg}: regenerate the lockfile")
    for d in drivers:
        for other in drivers:
            if other is d:
                continue
            leaked = sorted((other.client & d.locked) - d.direct)
            if leaked:
                problems.append(
                    f"{d.lockfile} contains {other.name}'s client package(s) {', '.join(leaked)}; if {d.name} uses"
                    f" them too, list them in its requirements.txt, else find what pulls them in"
                )
    return problems
