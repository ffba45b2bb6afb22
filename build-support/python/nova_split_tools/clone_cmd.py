"""clone: a partial, sparse clone of exactly what one subproject needs to build and test.

``nova-split clone SOURCE SUBPROJECT DEST`` computes the subproject's dependency closure from the
build graph of SOURCE (a local work tree), turns it into the smallest set of directories, then
clones without file contents (``--filter=blob:none --no-checkout``) and checks out only those
directories in cone mode: the subproject, the nova-common directories its closure touches, the
lockfile of its resolve and of the tools' resolve (``common``), the build tooling
(``build-support/``, ``.ci/``) and the root build files (cone mode always has them). Other
drivers' files are neither fetched nor checked out; a resolve whose lockfile is absent is fine
for Pants as long as no requested target uses it.

The derived directory set is stored in ``.git/nova-split-sparse``. ``nova-split clone --refresh``
(inside such a clone) pulls, recomputes the set from the clone's own graph and widens or narrows
the checkout. A SOURCE that is not a local directory (a URL) is cloned with the tooling first and
its set computed in the clone the same way.
"""

from __future__ import annotations

import argparse
import json
import posixpath
import shutil
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from nova_split_tools.errors import ToolError
from nova_split_tools.graph import load_graph, run_pants
from nova_split_tools.proc import git
from nova_split_tools.repo import Repository
from nova_split_tools.subprojects import CORE, CorePolicy, Subproject

__all__ = ["CloneStats", "add_arguments", "clone", "cone_dirs", "refresh", "registered", "run", "stats"]

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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", nargs="?", help="the repository to clone (a local path or a URL)")
    parser.add_argument("subproject", nargs="?", help="a driver name (xen) or directory (drivers/xen)")
    parser.add_argument("dest", nargs="?", type=Path, help="the new clone's directory (must not exist or be empty)")
    parser.add_argument("--refresh", action="store_true", help="inside a closure clone: pull, recompute the checkout")
    parser.add_argument("--no-pull", action="store_true", help="with --refresh: recompute without pulling")


def cone_dirs(closure: Iterable[str], subproject: Subproject, subprojects: list[Subproject]) -> list[str]:
    """The fewest directories whose cone covers the closure, the lockfiles and the tooling."""
    lockfiles = [subproject.lockfile] + [s.lockfile for s in subprojects if s.resolve == "common"]
    dirs = {subproject.path, *ALWAYS}
    dirs |= {posixpath.dirname(p) for p in [*closure, *lockfiles]} - {""}
    return sorted(d for d in dirs if not any(d.startswith(other + "/") for other in dirs))


def registered(root: Path) -> list[Subproject]:
    """The subprojects registered in ``pants.toml``, without reading their directories.

    A closure clone lacks the other drivers' directories, so their ``subproject.toml`` files
    (which ``load_subprojects`` reads for the CI policy) are not there.
    """
    try:
        resolves: dict[str, str] = tomllib.loads((root / "pants.toml").read_text())["python"]["resolves"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as e:
        raise ToolError(f"cannot read [python.resolves] from {root / 'pants.toml'}: {e}") from None
    return [
        Subproject(r, posixpath.dirname(lock) if r != "common" else CORE, r, lock, CorePolicy.VOTE)
        for r, lock in sorted(resolves.items())
    ]


def find_driver(subprojects: list[Subproject], name: str) -> Subproject:
    for s in subprojects:
        if s.is_driver and name in (s.name, s.path, s.path + "/"):
            return s
    known = ", ".join(s.name for s in subprojects if s.is_driver)
    raise ToolError(f"unknown subproject {name!r}; the drivers are: {known}")


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
        subproject = find_driver(subprojects, name)
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
            subproject = find_driver(subprojects, name)
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
    subproject = find_driver(subprojects, state["subproject"])
    dirs: list[str] = state["dirs"]
    for _ in range(10):
        new = cone_dirs(closure(root, subproject.path), subproject, subprojects)
        if new == dirs:
            break
        _checkout(root, subproject, new)
        dirs = new
    _checkout(root, subproject, dirs)
    return dirs


def run(args: argparse.Namespace) -> int:
    if args.refresh:
        if args.source or args.subproject or args.dest:
            raise ToolError("--refresh takes no arguments; run it inside a closure clone (or pass --repo)")
        dirs = refresh(args.repo, pull=not args.no_pull)
        root = Repository(args.repo).root
    else:
        if args.dest is None:
            raise ToolError("usage: nova-split clone SOURCE SUBPROJECT DEST (or --refresh inside a clone)")
        dirs = clone(args.source, args.subproject, args.dest)
        root = args.dest
    s = stats(root)
    state = json.loads((Path(git(root, "rev-parse", "--absolute-git-dir").strip()) / STATE_FILE).read_text())
    print(f"checked out (cone mode): {' '.join(dirs)}, and the root files")
    print(f"{root}: {s.objects} objects, {s.bytes} bytes in objects, {s.files} files checked out")
    print(f"test it: cd {root} && ./pants test {state['path']}::")
    return 0
