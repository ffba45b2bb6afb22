"""Per-subproject releases: the plan (what changed since the last release) and the cut, which rolls back.

Everything here is plain git and files, so it is tested with real repositories in pytest. The
steps that need Pants (tests, wheels, venvs) go through a :class:`Toolchain`, which the real
command implements with ``./pants`` (:mod:`nova_split_tools.release_pants`) and tests replace.
Versions and tags are :mod:`nova_split_tools.release_versions`; notes are
:mod:`nova_split_tools.release_notes`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from packaging.version import InvalidVersion, Version

from nova_split_tools.errors import CheckFailed, ToolError
from nova_split_tools.proc import git, git_probe
from nova_split_tools.release_notes import CHANGELOG, Fragment, fragments, suggest, towncrier
from nova_split_tools.release_state import CutState, StateDir, interrupts_as_keyboard_interrupt, shielded, stop_hook
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
    "abort",
    "compute_plan",
    "cut",
    "find_subproject",
    "nova_common_range",
    "read_meta",
    "resume",
]

#: The function that says which files a subproject's code depends on (the Pants graph's closure).
Closure = Callable[[str], set[str]]

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

    def check_generated(self, root: Path) -> None:
        """Raise ToolError when a generated file (``packaging``/``ci-config``/``owners``) is stale."""

    def regenerate(self, root: Path) -> None:
        """Rewrite every generated file (those derived from a version among them)."""

    def test(self, root: Path, sub: Subproject) -> None:
        """Run the subproject's tests; raise ToolError when one fails."""

    def package(self, root: Path, sub: Subproject, out: Path) -> Path:
        """Build the subproject's wheel from the work tree at ``root`` into ``out``."""

    def package_at(self, repo: Repository, rev: str, sub: Subproject, out: Path) -> Path:
        """Build the subproject's wheel as of ``rev`` into ``out`` (a git worktree under ``out``)."""

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


def _check_new(repo: Repository, meta: Meta, new: Version) -> None:
    if tag_exists(repo, meta.tag(new)):
        tag = meta.tag(new)
        raise ToolError(f"tag {tag} already exists; choose another --version (git tag -d {tag} if it is a mistake)")
    if new <= meta.version:
        raise ToolError(
            f"{new} does not increase {meta.distribution}'s version {meta.version}; pass a higher --version"
        )


def _command(sub: Subproject, flag: str = "") -> str:
    return f"nova-split release cut {sub.name}{' ' + flag if flag else ''}"


def release_subject(distribution: str, version: str) -> str:
    return f"Release {distribution} {version}"


def untagged_release(repo: Repository, meta: Meta) -> str | None:
    """The commit that released ``meta.version`` when its tag is missing (a cut stopped before tagging)."""
    if tag_exists(repo, meta.tag()):
        return None
    subject = release_subject(meta.distribution, str(meta.version))
    out = git(repo.root, "log", "-n1", "--format=%H%x00%s", "HEAD", "--", f"{meta.path}/subproject.toml")
    commit, _, found = out.strip().partition("\0")
    return commit if commit and found == subject else None


def pending_refusal(state_dir: StateDir, repo: Repository) -> str | None:
    """The one line a plain command prints while a cut runs or after one was interrupted."""
    held = state_dir.holder()
    if held:
        return f"another release cut is running in this clone (pid {held[0]}: {held[1]}); wait for it to finish"
    st = state_dir.load()
    if st is None:
        return None
    name = st.subproject
    elsewhere = _other_worktree(repo, st)
    if elsewhere:
        return (
            f"{st.describe()} in the worktree {elsewhere}; settle it there: "
            f"cd {elsewhere} && nova-split release cut {name} --continue (or --abort)"
        )
    if st.committed or _detect_commit(repo, st):
        todo = f"publish its wheel; {st.tag} exists" if tag_exists(repo, st.tag) else f"tag {st.tag}"
        return (
            f"{st.describe()}, after its release commit; finish it ({todo}) with: "
            f"nova-split release cut {name} --continue  (or undo it with --abort)"
        )
    return (
        f"{st.describe()}, before its release commit; finish the same release with: "
        f"nova-split release cut {name} --continue, or restore the state before it with: "
        f"nova-split release cut {name} --abort"
    )


def _other_worktree(repo: Repository, st: CutState) -> str | None:
    """The worktree an interrupted cut ran in, when it is not this one (all worktrees of a clone
    share the state, but the cut's files, HEAD and branch are its own worktree's)."""
    if st.worktree is None or Path(st.worktree) == repo.root.resolve():
        return None
    return st.worktree


def _refuse_other_worktree(repo: Repository, st: CutState, flag: str) -> None:
    elsewhere = _other_worktree(repo, st)
    if elsewhere:
        raise ToolError(
            f"the interrupted cut of {st.distribution} {st.version} ran in the worktree {elsewhere}, not this "
            f"one; run it there: cd {elsewhere} && nova-split release cut {st.subproject} {flag}"
        )


def _detect_commit(repo: Repository, st: CutState) -> str | None:
    """The release commit of ``st`` if ``git commit`` finished before the process died."""
    if st.committed:
        return st.commit
    head = _head(repo)
    if head == st.start:
        return None
    parent = git_probe(repo.root, "rev-parse", "HEAD^")
    subject = git(repo.root, "log", "-n1", "--format=%s", "HEAD").strip()
    return head if parent == st.start and subject == release_subject(st.distribution, st.version) else None


def _head(repo: Repository) -> str:
    """HEAD through a new git process: a restore after SIGTERM or Ctrl-C to the process group must not
    use gitpython's long-running ``git cat-file``, which got the same signal."""
    return git(repo.root, "rev-parse", "HEAD").strip()


def _refuse_shallow(repo: Repository) -> None:
    if repo.is_shallow:
        raise ToolError(
            f"{repo.root} is a shallow clone; a release plans from the whole history: git fetch --unshallow"
        )


def cut(
    repo: Repository,
    sub: Subproject,
    closure: Closure,
    toolchain: Toolchain,
    out_dir: Path,
    *,
    version: str | None = None,
    dry_run: bool = False,
    force: bool = False,
    say: Callable[[str], None] = print,
) -> CutResult:
    """Release ``sub``: version and derived files, notes, tests, wheel, install checks, commit, tag, publish.

    Each step is recorded in the git dir (:mod:`nova_split_tools.release_state`) before it changes
    anything. A failure, Ctrl-C or SIGTERM restores the starting state; after SIGKILL or power loss
    the next command says whether to :func:`resume` (``--continue``) or :func:`abort` (``--abort``).
    """
    state_dir = StateDir(repo.root)
    pending = pending_refusal(state_dir, repo)
    if pending:
        raise ToolError(pending)
    # Held from before the plan: a second cut started at the same moment is refused here, before
    # its checks could read the first one's half-written files.
    with state_dir.locked(f"{sub.name} (planning its cut)") as relabel:
        return _cut(
            repo,
            sub,
            closure,
            toolchain,
            out_dir,
            state_dir,
            relabel,
            version=version,
            dry_run=dry_run,
            force=force,
            say=say,
        )


def _cut(
    repo: Repository,
    sub: Subproject,
    closure: Closure,
    toolchain: Toolchain,
    out_dir: Path,
    state_dir: StateDir,
    relabel: Callable[[str], None],
    *,
    version: str | None,
    dry_run: bool,
    force: bool,
    say: Callable[[str], None],
) -> CutResult:
    """:func:`cut`, holding the release lock."""
    stop_hook("plan")  # the test hook's point inside the planning window
    _refuse_shallow(repo)
    planned_at = repo.resolve("HEAD")
    meta = read_meta(repo.root, sub)
    untagged = untagged_release(repo, meta)
    if untagged:
        raise ToolError(
            f"{meta.distribution} {meta.version} was committed ({untagged[:12]}) but never tagged; "
            f"tag it with: {_command(sub, '--continue')}"
        )
    dirty = repo.dirty_paths()
    if dirty:
        raise ToolError(f"the work tree has uncommitted changes ({', '.join(dirty[:3])}); commit or stash them first")
    new = None
    if version is not None:
        try:
            new = Version(version)
        except InvalidVersion:
            raise ToolError(f"--version {version!r} is not a version (use X.Y.Z)") from None
        if new.local is not None:  # 1.1.0+build: a package index refuses local versions on upload
            raise ToolError(f"--version {version!r} has a local part (+{new.local}); a release is X.Y.Z, drop it")
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
    targets = smoke_targets(repo, meta) if meta.api_major is not None else []
    toolchain.check_generated(repo.root)
    tag = meta.tag(new)
    notes = towncrier(repo.root, sub, new, draft=True)
    result = CutResult(meta.distribution, str(new), tag, None, None, notes)
    core_desc = ", ".join(f"nova-common {v} ({t or 'work tree'})" for v, t in targets)
    steps = [
        f"set [project] version = {new} in {sub.path}/subproject.toml (was {meta.version}); regenerate derived files",
        f"assemble {len(plan.fragments)} fragment(s) into {sub.path}/{CHANGELOG} with towncrier, removing them",
        f"run the tests: ./pants test {sub.path}::",
        f"build the wheel: ./pants package {sub.path}:dist; check its METADATA",
        f"install it in a fresh venv{' with ' + core_desc if targets else ''}; check it loads and runs",
        f"commit '{release_subject(meta.distribution, str(new))}'",
        f"create the annotated tag {tag}",
        f"publish the wheel in {out_dir}",
    ]
    say(f"release {meta.distribution} {meta.version} -> {new} ({plan.bump if version is None else 'explicit'})")
    for i, description in enumerate(steps, 1):
        say(f"  {i}. {description}")
    say("notes:\n" + notes)
    if dry_run:
        say("dry run: nothing changed")
        return result
    branch = git_probe(repo.root, "symbolic-ref", "-q", "HEAD")
    st = CutState(
        subproject=sub.name,
        path=sub.path,
        distribution=meta.distribution,
        version=str(new),
        tag=tag,
        start=planned_at,
        branch=branch or None,
        had_changelog=(repo.root / sub.path / CHANGELOG).exists(),
        done=True,  # 'begin' records the starting point and changes nothing
        worktree=str(repo.root.resolve()),
    )
    relabel(f"{meta.distribution} {new}")
    with interrupts_as_keyboard_interrupt():
        if repo.resolve("HEAD") != planned_at or repo.dirty_paths():
            raise ToolError("the clone changed while the release was planned (another cut?); run the cut again")
        state_dir.clean_scratch()
        state_dir.save(st)
        stop_hook("begin")
        try:
            _run(repo, sub, toolchain, out_dir, st, state_dir, result, targets, notes, say)
        except BaseException as e:
            with shielded():
                _restore(repo, sub, st, state_dir)
            done = f"restored the state before the cut ({st.start[:12]}): no commit, no tag, fragments back"
            if isinstance(e, CheckFailed):  # the tests or a check failed: exit 1, as a gate
                raise CheckFailed(f"{e}; {done}", e.details) from None
            if isinstance(e, ToolError):
                raise ToolError(f"{e}; {done}") from None
            e.add_note(done)  # the CLI's one line: "interrupted by signal SIGTERM; restored ..."
            raise
    # Released (commit, tag, wheel): a signal now must not report it as failed, nor send anyone to
    # --continue a cut that is done.
    with shielded():
        return _finished(result, say)


def _finished(result: CutResult, say: Callable[[str], None]) -> CutResult:
    for check in result.checks:
        say(f"ok: {check}")
    commit = result.commit and result.commit[:12]
    say(f"released {result.distribution} {result.version}: commit {commit}, tag {result.tag}")
    return result


def _enter(st: CutState, state_dir: StateDir, step: str) -> None:
    st.step, st.done = step, False
    state_dir.save(st)


def _leave(st: CutState, state_dir: StateDir, say: Callable[[str], None]) -> None:
    st.done = True
    state_dir.save(st)
    say(f"-- {st.step} done")
    stop_hook(st.step)


def _run(
    repo: Repository,
    sub: Subproject,
    toolchain: Toolchain,
    out_dir: Path,
    st: CutState,
    state_dir: StateDir,
    result: CutResult,
    targets: list[tuple[Version, str | None]],
    notes: str,
    say: Callable[[str], None],
) -> None:
    """The steps that change the tree, each recorded before it starts and after it ends."""
    meta = read_meta(repo.root, sub)
    new = Version(st.version)
    scratch = state_dir.scratch
    _enter(st, state_dir, "version")
    write_version(repo.root, sub, new)
    toolchain.regenerate(repo.root)
    _leave(st, state_dir, say)
    _enter(st, state_dir, "notes")
    towncrier(repo.root, sub, new, draft=False)
    _leave(st, state_dir, say)
    _enter(st, state_dir, "test")
    toolchain.test(repo.root, sub)
    result.checks.append(f"./pants test {sub.path}:: passed")
    _leave(st, state_dir, say)
    _enter(st, state_dir, "package")
    wheel = toolchain.package(repo.root, sub, scratch / "wheel")
    result.checks.append(check_wheel(wheel, meta, new))
    st.wheel = str(wheel)
    _leave(st, state_dir, say)
    _enter(st, state_dir, "install")
    if targets:
        core_sub = find_subproject(repo.root, CORE)
        for core_version, core_tag in targets:
            if core_tag:  # a tag's wheel: kept from its own cut, or built once per clone (in a worktree)
                cached = _tag_wheel_dir(repo, state_dir, core_tag)
                found = sorted(cached.glob("*.whl"))
                if found:
                    core_wheel = found[0]
                else:
                    core_wheel = toolchain.package_at(repo, core_tag, core_sub, scratch / core_tag)
                    cached.mkdir(parents=True, exist_ok=True)
                    core_wheel = Path(shutil.copy2(core_wheel, cached))
            else:
                core_wheel = toolchain.package(repo.root, core_sub, scratch / f"nova-common-{core_version}")
            checks = toolchain.smoke([wheel, core_wheel], sub.name, scratch / f"venv-{core_version}")
            result.checks += [f"with nova-common {core_version}: {c}" for c in checks]
    else:
        result.checks += toolchain.smoke([wheel], "fake", scratch / "venv")
    _leave(st, state_dir, say)
    _enter(st, state_dir, "commit")
    _commit(repo, sub, st, notes)
    result.commit = st.commit
    _leave(st, state_dir, say)
    _tag_and_publish(repo, sub, toolchain, out_dir, st, state_dir, result, notes, say)


def _commit(repo: Repository, sub: Subproject, st: CutState, notes: str) -> None:
    """Commit the subproject's files and the generated files derived from its version."""
    status = git(repo.root, "status", "--porcelain", "--untracked-files=all").splitlines()
    changed = {line[3:].split(" -> ")[-1] for line in status}
    outside = sorted(p for p in changed if not Path(p).is_relative_to(sub.path) and (repo.root / p).exists())
    git(repo.root, "add", "-A", "--", sub.path, *outside)
    subject = release_subject(st.distribution, st.version)
    git(repo.root, "commit", "-q", "--no-verify", "-m", f"{subject}\n\n{notes}")
    st.commit = _head(repo)


def _tag_and_publish(
    repo: Repository,
    sub: Subproject,
    toolchain: Toolchain,
    out_dir: Path,
    st: CutState,
    state_dir: StateDir,
    result: CutResult,
    notes: str,
    say: Callable[[str], None],
) -> None:
    assert st.commit is not None
    _enter(st, state_dir, "tag")
    if not tag_exists(repo, st.tag):
        git(repo.root, "tag", "-a", st.tag, "-m", f"{st.distribution} {st.version}\n\n{notes}", st.commit)
    _leave(st, state_dir, say)
    _enter(st, state_dir, "publish")
    wheel = Path(st.wheel) if st.wheel else None
    if wheel is None or not wheel.is_file():  # a resumed cut whose scratch was lost: rebuild from the commit
        out = state_dir.scratch / "wheel"
        same = repo.resolve("HEAD") == st.commit and not repo.dirty_paths()
        wheel = toolchain.package(repo.root, sub, out) if same else toolchain.package_at(repo, st.commit, sub, out)
        meta = read_meta(repo.root, sub)
        result.checks.append(check_wheel(wheel, meta, Version(st.version)))
    st.published = str(out_dir / wheel.name)
    state_dir.save(st)
    result.wheel = publish(repo, read_meta(repo.root, sub), wheel, out_dir)
    if sub.name == CORE:  # the tag's wheel for later drivers' install checks, which need not rebuild it
        kept = _tag_wheel_dir(repo, state_dir, st.tag)
        kept.mkdir(parents=True, exist_ok=True)
        tmp = kept / f".{wheel.name}.tmp"
        shutil.copy2(result.wheel, tmp)
        os.replace(tmp, kept / wheel.name)
    _leave(st, state_dir, say)
    state_dir.clear()
    state_dir.clean_scratch()


def _tag_wheel_dir(repo: Repository, state_dir: StateDir, tag: str) -> Path:
    """Where the wheel of release tag ``tag`` is kept in this clone (named by what the tag points at)."""
    return state_dir.tag_wheels / f"{tag}-{repo.resolve(tag)[:12]}"


def publish(repo: Repository, meta: Meta, wheel: Path, out_dir: Path) -> Path:
    """Move a tagged release's wheel into ``out_dir``; drop wheels there whose release has no tag."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".{wheel.name}.tmp"
    shutil.copy2(wheel, tmp)
    final = out_dir / wheel.name
    os.replace(tmp, final)
    tagged = tagged_versions(repo, meta.distribution)
    for other in out_dir.iterdir():
        version = _wheel_version(other.name)
        if other.name.startswith(".") or (version is not None and version not in tagged):
            other.unlink(missing_ok=True) if other.is_file() else shutil.rmtree(other, ignore_errors=True)
        elif other.is_dir():
            shutil.rmtree(other, ignore_errors=True)  # an older tool's scratch (worktrees, core wheels)
    return final


def _wheel_version(name: str) -> Version | None:
    parts = name.split("-")
    if not name.endswith(".whl") or len(parts) < 3:
        return None
    try:
        return Version(parts[1])
    except InvalidVersion:
        return None


def _restore(repo: Repository, sub: Subproject, st: CutState, state_dir: StateDir) -> None:
    """Back to exactly where ``st`` started: branch and HEAD, files, fragments; no tag, no scratch."""
    state_dir.clear_git_locks()
    commit = _detect_commit(repo, st)
    if tag_exists(repo, st.tag):
        target = git(repo.root, "rev-parse", f"{st.tag}^{{commit}}").strip()
        if target == commit:
            git(repo.root, "tag", "-d", st.tag)
    if st.published and not tag_exists(repo, st.tag):
        Path(st.published).unlink(missing_ok=True)  # dist/release keeps only tagged releases' wheels
    head = _head(repo)
    if head not in (st.start, commit):
        raise ToolError(
            f"HEAD moved ({head[:12]}) since the interrupted cut of {st.distribution} {st.version} started at "
            f"{st.start[:12]}; check out {st.branch or st.start[:12]} at one of those commits, then rerun --abort"
        )
    if st.branch:
        current = git_probe(repo.root, "symbolic-ref", "-q", "HEAD")
        if current != st.branch:
            git(repo.root, "checkout", "-q", "-f", st.branch.removeprefix("refs/heads/"))
        git(repo.root, "reset", "-q", "--hard", st.start)
    else:
        git(repo.root, "checkout", "-q", "-f", "--detach", st.start)
        git(repo.root, "reset", "-q", "--hard", st.start)
    changelog = repo.root / sub.path / CHANGELOG
    if not st.had_changelog and changelog.exists():
        changelog.unlink()
    git(repo.root, "clean", "-q", "-f", "-d", "--", sub.path)  # the tree was clean when the cut began
    state_dir.clean_scratch()
    state_dir.clear()


def abort(repo: Repository, sub: Subproject, *, say: Callable[[str], None] = print) -> None:
    """``release cut --abort``: restore the state before an interrupted cut."""
    state_dir = StateDir(repo.root)
    held = state_dir.holder()
    if held:
        raise ToolError(f"a release cut is running in this clone (pid {held[0]}: {held[1]}); wait for it to finish")
    st = state_dir.load()
    if st is None:
        state_dir.clean_scratch()
        raise ToolError("no interrupted release cut to abort in this clone")
    _refuse_other_worktree(repo, st, "--abort")
    if st.subproject != sub.name:
        raise ToolError(
            f"the interrupted cut is of {st.distribution}; run: nova-split release cut {st.subproject} --abort"
        )
    with state_dir.locked(f"aborting {st.distribution} {st.version}"), interrupts_as_keyboard_interrupt():
        _restore(repo, sub, st, state_dir)
    say(f"aborted the cut of {st.distribution} {st.version}: back at {st.start[:12]}, no commit, no tag")


def resume(
    repo: Repository,
    sub: Subproject,
    toolchain: Toolchain,
    out_dir: Path,
    *,
    say: Callable[[str], None] = print,
) -> CutResult:
    """``release cut --continue``: finish the interrupted cut (or tag an untagged release commit).

    Before the release commit the tree is restored and the same release (same version) is cut
    again from the start, so no half-done step is trusted; after it, the tag and the wheel are made.
    """
    state_dir = StateDir(repo.root)
    held = state_dir.holder()
    if held:
        raise ToolError(f"a release cut is running in this clone (pid {held[0]}: {held[1]}); wait for it to finish")
    _refuse_shallow(repo)
    st = state_dir.load()
    meta = read_meta(repo.root, sub)
    if st is None:
        untagged = untagged_release(repo, meta)
        if untagged is None:
            state_dir.clean_scratch()
            raise ToolError(f"no interrupted release cut of {meta.distribution} to continue in this clone")
        # The state before this command, which --abort of an interrupted --continue restores: the
        # branch checked out where it is (the commit predates this command and stays), no tag.
        branch = git_probe(repo.root, "symbolic-ref", "-q", "HEAD") or None
        st = CutState(sub.name, sub.path, meta.distribution, str(meta.version), meta.tag(), _head(repo), branch, True)
        st.commit, st.step, st.done = untagged, "commit", True
        st.worktree = str(repo.root.resolve())
    else:
        _refuse_other_worktree(repo, st, "--continue")
        if st.subproject != sub.name:
            raise ToolError(
                f"the interrupted cut is of {st.distribution}; run: nova-split release cut {st.subproject} --continue"
            )
    notes = git(repo.root, "log", "-n1", "--format=%b", st.commit).strip() + "\n" if st.commit else ""
    result = CutResult(st.distribution, st.version, st.tag, st.commit, None, notes)
    with state_dir.locked(f"{st.distribution} {st.version}"), interrupts_as_keyboard_interrupt():
        state_dir.clear_git_locks()
        st.pid = os.getpid()
        commit = _detect_commit(repo, st)
        if commit:
            st.commit = result.commit = commit
            result.notes = git(repo.root, "log", "-n1", "--format=%b", commit).strip() + "\n"
            say(f"continuing {st.distribution} {st.version} after its release commit {commit[:12]}")
            _tag_and_publish(repo, sub, toolchain, out_dir, st, state_dir, result, result.notes, say)
            return _finished(result, say)
        say(f"continuing {st.distribution} {st.version}: restoring {st.start[:12]} and cutting it again")
        _restore(repo, sub, st, state_dir)
        st.step, st.done, st.wheel = "begin", True, None
    return cut(repo, sub, lambda _: set(), toolchain, out_dir, version=st.version, force=True, say=say)
