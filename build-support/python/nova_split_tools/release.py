"""Per-subproject releases: the plan (what changed since the last release) and the cut, which rolls back.

Everything here is plain git and files, so it is tested with real repositories in pytest. The
steps that need Pants (tests, wheels, venvs) go through a :class:`Toolchain`, which the real
command implements with ``./pants`` (:mod:`nova_split_tools.release_pants`) and tests replace.
Versions and tags are :mod:`nova_split_tools.release_versions`; notes are
:mod:`nova_split_tools.release_notes`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from packaging.version import InvalidVersion, Version

from nova_split_tools.errors import ToolError
from nova_split_tools.proc import git
from nova_split_tools.release_notes import CHANGELOG, Fragment, fragments, suggest, towncrier
from nova_split_tools.release_versions import (
    Meta,
    check_wheel,
    nova_common_range,
    read_meta,
    smoke_targets,
    tag_exists,
    tagged_versions,
    write_version,
)
from nova_split_tools.repo import Repository
from nova_split_tools.subprojects import CORE, Subproject, load_subprojects
from nova_split_tools.subprojects import find_subproject as _find

__all__ = [
    "Closure",
    "CutResult",
    "Fragment",
    "ReleasePlan",
    "Toolchain",
    "compute_plan",
    "cut",
    "find_subproject",
    "nova_common_range",
    "read_meta",
]

#: The function that says which files a subproject's code depends on (the Pants graph's closure).
Closure = Callable[[str], set[str]]

#: Set to a step name (e.g. ``tag``) to simulate a Ctrl-C just before that step (selftests/release_integration_test.py).
INTERRUPT_ENV = "NOVA_SPLIT_RELEASE_INTERRUPT_BEFORE"
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


@dataclass
class ReleasePlan:
    """What changed in a subproject since its last release, and the version that suggests."""

    name: str
    distribution: str
    version: str
    last_tag: str | None
    commits: list[tuple[str, str]]
    files: list[str]
    fragments: list[Fragment]
    bump: str
    suggested: str

    @property
    def has_changes(self) -> bool:
        return bool(self.commits or self.fragments)

    def to_json(self) -> dict[str, Any]:
        return {
            "subproject": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "last_tag": self.last_tag,
            "commits": [{"commit": c, "subject": s} for c, s in self.commits],
            "files": self.files,
            "fragments": [{"path": f.path, "category": f.category} for f in self.fragments],
            "bump": self.bump,
            "suggested_version": self.suggested,
        }


def releasable(root: Path) -> list[Subproject]:
    """nova-common and the drivers (the tooling is not released)."""
    return [s for s in load_subprojects(root) if s.name == CORE or s.is_driver]


def find_subproject(root: Path, name: str) -> Subproject:
    """A releasable subproject by short name (``libvirt``, ``nova-common``), directory or distribution."""
    return _find(releasable(root), name)


def watched_paths(sub: Subproject, closure: Closure) -> list[str]:
    """A subproject's own directory (code, lockfile, metadata) and the nova-common files it uses."""
    if sub.name == CORE:
        return [sub.path]
    core = sorted(f for f in closure(sub.path) if f.startswith("nova-common/"))
    return [sub.path, sub.lockfile, *core]


def compute_plan(repo: Repository, sub: Subproject, closure: Closure) -> ReleasePlan:
    meta = read_meta(repo.root, sub)
    released = tagged_versions(repo, meta.distribution, merged=True)
    last = released[max(released)] if released else None
    base = repo.resolve(last) if last else EMPTY_TREE
    paths = watched_paths(sub, closure)
    log_range = f"{base}..HEAD" if last else "HEAD"
    raw = git(repo.root, "log", "--format=%h%x00%s", log_range, "--", *paths)
    commits = [tuple(line.split("\0", 1)) for line in raw.splitlines() if line]
    files = git(repo.root, "diff", "--name-only", base, "HEAD", "--", *paths).splitlines()
    found = fragments(repo.root, sub)
    bump, version = suggest(meta.version, found)
    return ReleasePlan(
        name=sub.name,
        distribution=meta.distribution,
        version=str(meta.version),
        last_tag=last,
        commits=[(c[0], c[1]) for c in commits],
        files=files,
        fragments=found,
        bump=bump,
        suggested=str(version),
    )


class Toolchain(Protocol):
    """The steps of a cut that need the build (Pants) and a Python install."""

    def test(self, root: Path, sub: Subproject) -> None:
        """Run the subproject's tests; raise ToolError when one fails."""

    def package(self, root: Path, sub: Subproject, out: Path) -> Path:
        """Build the subproject's wheel from the work tree at ``root`` into ``out``."""

    def package_at(self, repo: Repository, tag: str, sub: Subproject, out: Path) -> Path:
        """Build the subproject's wheel as of ``tag`` into ``out`` (nova-common for the smoke)."""

    def smoke(self, wheels: list[Path], driver: str, scratch: Path) -> list[str]:
        """Install ``wheels`` in a fresh venv, check ``driver`` loads and runs; say what passed."""


@dataclass
class CutResult:
    distribution: str
    version: str
    tag: str
    commit: str | None
    wheel: Path | None
    notes: str
    checks: list[str] = field(default_factory=list)


@contextmanager
def _rollback(repo: Repository, meta: Meta, tag: str) -> Iterator[None]:
    """On any exception or Ctrl-C: back to the starting commit, fragments and files restored."""
    start = repo.resolve("HEAD")
    changelog = repo.root / meta.path / CHANGELOG
    had_changelog = changelog.exists()
    try:
        yield
    except BaseException as e:
        if tag_exists(repo, tag):
            git(repo.root, "tag", "-d", tag)
        git(repo.root, "reset", "-q", "--hard", start)
        if not had_changelog and changelog.exists():
            changelog.unlink()
        done = f"rolled back to {start[:12]}: no commit, no tag, fragments restored"
        if isinstance(e, ToolError):
            raise ToolError(f"{e}; {done}") from None
        print(done, file=sys.stderr)
        raise


def _check_new(repo: Repository, meta: Meta, new: Version) -> None:
    if tag_exists(repo, meta.tag(new)):
        tag = meta.tag(new)
        raise ToolError(f"tag {tag} already exists; choose another --version (git tag -d {tag} if it is a mistake)")
    if new <= meta.version:
        raise ToolError(
            f"{new} does not increase {meta.distribution}'s version {meta.version}; pass a higher --version"
        )


def cut(
    repo: Repository,
    sub: Subproject,
    closure: Closure,
    toolchain: Toolchain,
    out_dir: Path,
    scratch: Path,
    *,
    version: str | None = None,
    dry_run: bool = False,
    force: bool = False,
    say: Callable[[str], None] = print,
) -> CutResult:
    """Release ``sub``: version, notes, tests, wheel, install checks, then commit and tag (last)."""
    dirty = repo.dirty_paths()
    if dirty:
        raise ToolError(f"the work tree has uncommitted changes ({', '.join(dirty[:3])}); commit or stash them first")
    meta = read_meta(repo.root, sub)
    new = None
    if version is not None:
        try:
            new = Version(version)
        except InvalidVersion:
            raise ToolError(f"--version {version!r} is not a version (use X.Y.Z)") from None
        _check_new(repo, meta, new)
    plan = compute_plan(repo, sub, closure)
    if not plan.has_changes and not force:
        since = plan.last_tag or "the beginning"
        raise ToolError(
            f"nothing to release in {sub.path} since {since} (no changes, no fragments); --force to release anyway"
        )
    if new is None:
        new = Version(plan.suggested)
        _check_new(repo, meta, new)
    tag = meta.tag(new)
    targets = smoke_targets(repo, meta) if meta.api_major is not None else []
    notes = towncrier(repo.root, sub, new, draft=True)
    result = CutResult(meta.distribution, str(new), tag, None, None, notes)
    core_desc = ", ".join(f"nova-common {v} ({t or 'work tree'})" for v, t in targets)
    steps = [
        f"set [project] version = {new} in {sub.path}/subproject.toml (was {meta.version})",
        f"assemble {len(plan.fragments)} fragment(s) into {sub.path}/{CHANGELOG} with towncrier, removing them",
        f"run the tests: ./pants test {sub.path}::",
        f"build the wheel: ./pants package {sub.path}:dist; check its METADATA",
        f"install it in a fresh venv{' with ' + core_desc if targets else ''}; check it loads and runs",
        f"commit 'Release {meta.distribution} {new}' and create the annotated tag {tag}",
    ]
    say(f"release {meta.distribution} {meta.version} -> {new} ({plan.bump if version is None else 'explicit'})")
    for i, description in enumerate(steps, 1):
        say(f"  {i}. {description}")
    say("notes:\n" + notes)
    if dry_run:
        say("dry run: nothing changed")
        return result

    def step(name: str) -> None:
        if os.environ.get(INTERRUPT_ENV) == name:
            raise KeyboardInterrupt(f"simulated interrupt before {name} ({INTERRUPT_ENV})")
        say(f"-- {name}")

    with _rollback(repo, meta, tag):
        step("version")
        write_version(repo.root, sub, new)
        step("notes")
        towncrier(repo.root, sub, new, draft=False)
        step("test")
        toolchain.test(repo.root, sub)
        result.checks.append(f"./pants test {sub.path}:: passed")
        step("package")
        wheel = toolchain.package(repo.root, sub, out_dir)
        result.wheel = wheel
        result.checks.append(check_wheel(wheel, meta, new))
        step("install")
        if targets:
            for core_version, core_tag in targets:
                core_sub = find_subproject(repo.root, CORE)
                core_out = out_dir / f"nova-common-{core_version}"
                core_wheel = (
                    toolchain.package_at(repo, core_tag, core_sub, core_out)
                    if core_tag
                    else toolchain.package(repo.root, core_sub, core_out)
                )
                checks = toolchain.smoke([wheel, core_wheel], sub.name, scratch / f"venv-{core_version}")
                result.checks += [f"with nova-common {core_version}: {c}" for c in checks]
        else:
            result.checks += toolchain.smoke([wheel], "fake", scratch / "venv")
        step("commit")
        status = git(repo.root, "status", "--porcelain", "--untracked-files=all").splitlines()
        outside = [line[3:] for line in status if not Path(line[3:]).is_relative_to(sub.path)]
        if outside:
            raise ToolError(f"the cut touched files outside {sub.path}: {', '.join(outside)}")
        git(repo.root, "add", "-A", "--", sub.path)
        git(repo.root, "commit", "-q", "-m", f"Release {meta.distribution} {new}\n\n{notes}")
        result.commit = repo.resolve("HEAD")
        step("tag")
        git(repo.root, "tag", "-a", tag, "-m", f"{meta.distribution} {new}\n\n{notes}")
    for check in result.checks:
        say(f"ok: {check}")
    say(f"released {meta.distribution} {new}: commit {result.commit and result.commit[:12]}, tag {tag}")
    return result
