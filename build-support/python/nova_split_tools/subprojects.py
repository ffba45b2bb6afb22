"""The subprojects of the repository and their metadata, as registered in ``pants.toml``.

``[python.resolves]`` is the registry: ``common`` is nova-common (and the tooling), every other
resolve is a driver whose directory holds its lockfile. Each subproject's ``subproject.toml``
carries its own metadata; the CI policy lives under ``[ci]``::

    [ci]
    # how this driver's CI treats nova-common changes that reach it:
    #   "vote" (run, and the result gates the change), "advisory" (run, non-voting), "skip"
    core-changes = "vote"
"""

from __future__ import annotations

import enum
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from nova_split_tools.errors import ToolError

__all__ = ["CorePolicy", "Subproject", "load_subprojects"]

CORE = "nova-common"


class CorePolicy(str, enum.Enum):
    """How a driver's CI treats a nova-common change that reaches its code."""

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
    core_changes: CorePolicy

    @property
    def is_driver(self) -> bool:
        return self.path.startswith("drivers/")

    def owns(self, path: str) -> bool:
        return PurePosixPath(path).is_relative_to(self.path)


def load_subprojects(root: Path) -> list[Subproject]:
    """nova-common first, then the drivers by name, then the tooling (``build-support``)."""
    try:
        config = tomllib.loads((root / "pants.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ToolError(f"cannot read {root / 'pants.toml'}: {e}") from None
    resolves: dict[str, str] = config.get("python", {}).get("resolves", {})
    if "common" not in resolves:
        raise ToolError("pants.toml's [python.resolves] has no 'common' resolve")
    subprojects = [Subproject(CORE, "nova-common", "common", resolves["common"], CorePolicy.VOTE)]
    for resolve, lockfile in sorted(resolves.items()):
        if resolve == "common":
            continue
        path = str(PurePosixPath(lockfile).parent)
        subprojects.append(Subproject(resolve, path, resolve, lockfile, _policy(root / path / "subproject.toml")))
    subprojects.append(Subproject("build-support", "build-support", "common", resolves["common"], CorePolicy.VOTE))
    return subprojects


def _policy(metadata: Path) -> CorePolicy:
    try:
        raw = tomllib.loads(metadata.read_text()).get("ci", {}).get("core-changes", "vote")
    except FileNotFoundError:
        raise ToolError(f"{metadata} is missing; every driver directory needs one") from None
    except tomllib.TOMLDecodeError as e:
        raise ToolError(f"{metadata}: {e}") from None
    try:
        return CorePolicy(raw)
    except ValueError:
        choices = ", ".join(p.value for p in CorePolicy)
        raise ToolError(f"{metadata}: [ci] core-changes must be one of {choices}, not {raw!r}") from None
