"""Closure clones: a partial, sparse clone holding exactly what one subproject needs to build and test.

The subproject's dependency closure comes from the build graph; it becomes the smallest set of
directories for a cone-mode sparse checkout of a blob-less clone (plus the lockfiles, the tooling
and the root files). The set is recorded in ``.git/nova-split-sparse`` so that :func:`refresh`
can pull and widen or narrow it. The command is ``clone_cmd``.
"""

from __future__ import annotations

import json
import posixpath
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from nova_split_tools.errors import ToolError
from nova_split_tools.graph import load_graph, run_pants
from nova_split_tools.proc import git
from nova_split_tools.repo import Repository
from nova_split_tools.subprojects import Subproject, find_subproject, registered

__all__ = ["STATE_FILE", "CloneStats", "clone", "cone_dirs", "read_state", "refresh", "stats"]

STATE_FILE = "nova-split-sparse"
ALWAYS = ("build-support", ".ci")
# Local transports honour --filter only when the serving side allows it.
LOCAL_UPLOAD_PACK = "git -c uploadpack.allowFilter=true upload-pack"

#: (repository root, subproject directory) -> every file the subproject's targets depend on
Closure = Callable[[Path, str], set[str]]


def graph_closure(root: Path, path: str) -> set[str]:
    """The Pants-dependent step: the subproject's closure from ``pants peek`` in ``root``."""
    return load_graph(root).closure(path)


def sparse_closure(root: Path, path: str) -> set[str]:
    """The same closure, computed inside a closure clone (Pants-dependent).

    ``pants peek ::`` cannot load there: nova-common's requirements are parametrized over every
    resolve, and the other resolves' lockfiles are not checked out. ``filedeps --transitive`` of
    the subproject only loads the targets the subproject reaches.
    """
    return set(run_pants(root, ["filedeps", "--transitive", f"{path}::"]).split())


@dataclass(frozen=True)
class CloneStats:
    objects: int
    bytes: int
    files: int


def cone_dirs(closure: Iterable[str], subproject: Subproject, subprojects: list[Subproject]) -> list[str]:
    """The fewest directories whose cone covers the closure, the lockfiles and the tooling."""
    lockfiles = [subproject.lockfile] + [s.lockfile for s in subprojects if s.resolve == "common"]
    dirs = {subproject.path, *ALWAYS}
    dirs |= {posixpath.dirname(p) for p in [*closure, *lockfiles]} - {""}
    return sorted(d for d in dirs if not any(d.startswith(other + "/") for other in dirs))


def stats(root: Path) -> CloneStats:
    """Objects and bytes in the clone's object store, and files checked out."""
    counts = dict(line.split(": ", 1) for line in git(root, "count-objects", "-v").splitlines())
    objects = int(counts["count"]) + int(counts["in-pack"])
    size = (int(counts["size"]) + int(counts["size-pack"])) * 1024
    files = sum(1 for line in git(root, "ls-files", "-t").splitlines() if not line.startswith("S "))
    return CloneStats(objects, size, files)


def _checkout(root: Path, subproject: Subproject, dirs: list[str]) -> None:
    git(root, "sparse-checkout", "set", "--cone", *dirs)
    state = {"subproject": subproject.name, "path": subproject.path, "dirs": dirs}
    (Path(git(root, "rev-parse", "--absolute-git-dir").strip()) / STATE_FILE).write_text(
        json.dumps(state, indent=2) + "\n"
    )


def clone(source: str, name: str, dest: Path, closure: Closure = graph_closure) -> list[str]:
    """Clone ``source`` into ``dest`` with only ``name``'s closure checked out; its directories."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ToolError(f"{dest} exists and is not empty; pass a new directory")
    local = Path(source).is_dir()
    dirs: list[str] | None = None
    if local:
        src = Repository(Path(source)).root
        subprojects = registered(src)
        subproject = _driver(subprojects, name)
        dirs = cone_dirs(closure(src, subproject.path), subproject, subprojects)
        url = src.resolve().as_uri()
    else:
        url = source
    upload = ["-u", LOCAL_UPLOAD_PACK] if url.startswith("file://") else []
    created = not dest.exists()
    try:
        git(Path.cwd(), "clone", "-q", "--filter=blob:none", "--no-checkout", *upload, url, str(dest))
        if upload:  # later fetches (missing blobs, pulls) must keep the filter too
            git(dest, "config", "remote.origin.uploadpack", LOCAL_UPLOAD_PACK)
        if dirs is None:  # a URL: check out the tooling, then derive the set in the clone
            git(dest, "sparse-checkout", "set", "--cone", *ALWAYS)
            git(dest, "checkout", "-q", git(dest, "symbolic-ref", "--short", "HEAD").strip())
            subprojects = registered(dest)
            subproject = _driver(subprojects, name)
            _checkout(dest, subproject, [subproject.path, *ALWAYS])
            return refresh(dest, sparse_closure if closure is graph_closure else closure, pull=False)
        _checkout(dest, subproject, dirs)
        git(dest, "checkout", "-q", git(dest, "symbolic-ref", "--short", "HEAD").strip())
    except BaseException:
        if created:
            shutil.rmtree(dest, ignore_errors=True)
        else:
            for child in dest.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        raise
    return dirs


def refresh(root: Path, closure: Closure = sparse_closure, *, pull: bool = True) -> list[str]:
    """Pull, then recompute the directory set from the clone's own graph until it is stable.

    The clone's graph sees only checked-out files, so the set is recomputed until including the
    new directories adds nothing more.
    """
    root = Repository(root).root
    state_path = Path(git(root, "rev-parse", "--absolute-git-dir").strip()) / STATE_FILE
    if not state_path.exists():
        raise ToolError(f"{root} is not a nova-split closure clone (no .git/{STATE_FILE}); create one with clone")
    state = json.loads(state_path.read_text())
    if pull:
        git(root, "pull", "-q", "--ff-only")
    subprojects = registered(root)
    subproject = _driver(subprojects, state["subproject"])
    dirs: list[str] = state["dirs"]
    for _ in range(10):
        new = cone_dirs(closure(root, subproject.path), subproject, subprojects)
        if new == dirs:
            break
        _checkout(root, subproject, new)
        dirs = new
    _checkout(root, subproject, dirs)
    return dirs


def _driver(subprojects: list[Subproject], name: str) -> Subproject:
    return find_subproject((s for s in subprojects if s.is_driver), name)


def read_state(root: Path) -> dict[str, object]:
    """The clone's recorded state: its subproject's name and path, and the checked-out directories."""
    state: dict[str, object] = json.loads(
        (Path(git(root, "rev-parse", "--absolute-git-dir").strip()) / STATE_FILE).read_text()
    )
    return state
