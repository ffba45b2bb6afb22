"""A subproject's release notes: towncrier fragments, their categories and the version they suggest.

Fragments are ``<subproject>/changes/<id>.<category>.md`` (``+<slug>`` for no issue id); the cut
assembles them into ``<subproject>/CHANGELOG.md`` with towncrier. A ``breaking`` fragment bumps the
major version, a ``feature`` the minor, anything else the patch.
"""

from __future__ import annotations

import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version

from nova_split_tools.errors import ToolError
from nova_split_tools.proc import run
from nova_split_tools.subprojects import Subproject

__all__ = [
    "BUMPS",
    "CHANGELOG",
    "FRAGMENTS",
    "Fragment",
    "TOWNCRIER",
    "categories",
    "fragments",
    "suggest",
    "towncrier",
]


FRAGMENTS = "changes"


CHANGELOG = "CHANGELOG.md"


TOWNCRIER = "towncrier.toml"


#: Categories that bump more than the patch version; every other category is a patch.
BUMPS = {"breaking": "major", "feature": "minor"}


@dataclass(frozen=True)
class Fragment:
    path: str
    category: str


def categories(root: Path, sub: Subproject) -> list[str]:
    """The fragment categories of the subproject's towncrier configuration, in order."""
    path = root / sub.path / TOWNCRIER
    try:
        types = tomllib.loads(path.read_text())["tool"]["towncrier"]["type"]
        return [str(t["directory"]) for t in types]
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as e:
        raise ToolError(
            f"{sub.path}/{TOWNCRIER} needs [[tool.towncrier.type]] tables ({e}); copy nova-common's"
        ) from None


def fragments(root: Path, sub: Subproject) -> list[Fragment]:
    """The unreleased fragments (``<id>.<category>[.<n>].md``) in ``<subproject>/changes/``."""
    known = categories(root, sub)
    folder = root / sub.path / FRAGMENTS
    found: list[Fragment] = []
    for entry in sorted(folder.iterdir()) if folder.is_dir() else []:
        if entry.name.startswith(".") or entry.name.lower().startswith("readme") or not entry.is_file():
            continue
        parts = entry.name.split(".")
        category = next((p for p in reversed(parts[1:]) if p in known), None)
        if category is None:
            raise ToolError(
                f"{sub.path}/{FRAGMENTS}/{entry.name} is not a fragment: name it <id>.<category>.md "
                f"with a category in {', '.join(known)}"
            )
        found.append(Fragment(f"{sub.path}/{FRAGMENTS}/{entry.name}", category))
    return found


def suggest(current: Version, found: list[Fragment]) -> tuple[str, Version]:
    kinds = {BUMPS.get(f.category, "patch") for f in found}
    major, minor, micro = (current.release + (0, 0))[:3]
    if "major" in kinds:
        return "major", Version(f"{major + 1}.0.0")
    if "minor" in kinds:
        return "minor", Version(f"{major}.{minor + 1}.0")
    return "patch", Version(f"{major}.{minor}.{micro + 1}")


def towncrier(root: Path, sub: Subproject, version: Version, *, draft: bool) -> str:
    """Run ``towncrier build`` for one subproject; with ``draft``, return the notes it would write."""
    import towncrier as _towncrier  # type: ignore[import-untyped]  # noqa: F401  (runs as a subprocess)

    cmd = [sys.executable, "-m", "towncrier", "build", "--config", str(root / sub.path / TOWNCRIER)]
    cmd += ["--dir", str(root / sub.path), "--version", str(version), "--draft" if draft else "--yes"]
    env = {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    out = run(cmd, root, env=env, what=f"towncrier build of {sub.path}'s notes")
    if not draft:
        return ""
    marker = "What is seen below is what would be written."
    return out.split(marker, 1)[-1].strip() + "\n"
