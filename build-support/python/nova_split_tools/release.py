"""Per-subproject releases: versions, tags, release notes, plans and the cut.

Everything here is plain git and files, so it is tested with real repositories in pytest. The
steps that need Pants (tests, wheels, venvs) go through a :class:`Toolchain`, which the real
command implements with ``./pants`` (:mod:`nova_split_tools.release_pants`) and tests replace.

- The version lives in the subproject's ``subproject.toml`` (``[project] version``) and only there.
- Tags are ``<distribution>-<version>`` (``nova-libvirt-1.4.0``, ``nova-common-1.1.0``): two
  subprojects never share a tag, so each releases on its own, even from the same commit.
- Notes are towncrier fragments in ``<subproject>/changes/`` named ``<id>.<category>.md``
  (``+<slug>`` for no issue id), assembled into ``<subproject>/CHANGELOG.md`` by the cut.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from nova_split_tools.errors import ToolError
from nova_split_tools.repo import Repository
from nova_split_tools.subprojects import CORE, Subproject, load_subprojects

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

FRAGMENTS = "changes"
CHANGELOG = "CHANGELOG.md"
TOWNCRIER = "towncrier.toml"
#: Categories that bump more than the patch version; every other category is a patch.
BUMPS = {"breaking": "major", "feature": "minor"}
#: Set to a step name (e.g. ``tag``) to simulate a Ctrl-C just before that step (selftests/release_integration_test.py).
INTERRUPT_ENV = "NOVA_SPLIT_RELEASE_INTERRUPT_BEFORE"
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


@dataclass(frozen=True)
class Meta:
    """A subproject's release metadata, from its ``subproject.toml``."""

    subproject: Subproject
    distribution: str
    version: Version
    api_major: int | None

    @property
    def path(self) -> str:
        return self.subproject.path

    def tag(self, version: Version | None = None) -> str:
        return f"{self.distribution}-{version or self.version}"


@dataclass(frozen=True)
class Fragment:
    path: str
    category: str


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
    """A subproject by short name (``libvirt``, ``nova-common``) or distribution (``nova-libvirt``)."""
    subs = releasable(root)
    for s in subs:
        if name in (s.name, s.path, f"nova-{s.name}"):
            return s
    raise ToolError(f"no subproject {name!r}; choose one of: {', '.join(s.name for s in subs)}")


def read_meta(root: Path, sub: Subproject) -> Meta:
    path = root / sub.path / "subproject.toml"
    try:
        data = tomllib.loads(path.read_text())
        project = data["project"]
        version = Version(project["version"])
        name = str(project["name"])
    except (OSError, tomllib.TOMLDecodeError, KeyError, InvalidVersion) as e:
        raise ToolError(f"{sub.path}/subproject.toml needs [project] name and a valid version: {e}") from None
    major = data.get("driver", {}).get("api-major")
    return Meta(sub, name, version, major if isinstance(major, int) else None)


_VERSION_LINE = re.compile(r'^(version\s*=\s*)"[^"]*"', re.M)


def write_version(root: Path, sub: Subproject, version: Version) -> None:
    """Set ``[project] version`` in place, keeping every comment and the rest of the file."""
    path = root / sub.path / "subproject.toml"
    text = path.read_text()
    start = text.index("[project]")
    end = text.find("\n[", start + 1)
    end = len(text) if end == -1 else end
    section, count = _VERSION_LINE.subn(rf'\g<1>"{version}"', text[start:end], count=1)
    if count != 1:
        raise ToolError(f"{sub.path}/subproject.toml has no [project] version line to update")
    path.write_text(text[:start] + section + text[end:])


def nova_common_range(api_major: int) -> SpecifierSet:
    """The nova-common versions a driver built for driver API ``api_major`` accepts."""
    return SpecifierSet(f">={api_major}.0,<{api_major + 1}")


def tagged_versions(repo: Repository, distribution: str, merged: bool = False) -> dict[Version, str]:
    """Released versions of ``distribution`` -> tag (only tags reachable from HEAD if ``merged``)."""
    args = ["--list", f"{distribution}-*"] + (["--merged", "HEAD"] if merged else [])
    out: dict[Version, str] = {}
    for tag in repo.git.git.tag(*args).split():
        try:
            out[Version(tag[len(distribution) + 1 :])] = tag
        except InvalidVersion:
            continue  # another distribution whose name starts with this one
    return out


def tag_exists(repo: Repository, tag: str) -> bool:
    return bool(repo.git.git.tag("--list", tag))


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
    raw = repo.git.git.log("--format=%h%x00%s", log_range, "--", *paths)
    commits = [tuple(line.split("\0", 1)) for line in raw.splitlines() if line]
    files = repo.git.git.diff("--name-only", base, "HEAD", "--", *paths).splitlines()
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


def towncrier(root: Path, sub: Subproject, version: Version, *, draft: bool) -> str:
    """Run ``towncrier build`` for one subproject; with ``draft``, return the notes it would write."""
    import towncrier as _towncrier  # type: ignore[import-untyped]  # noqa: F401  (runs as a subprocess)

    cmd = [sys.executable, "-m", "towncrier", "build", "--config", str(root / sub.path / TOWNCRIER)]
    cmd += ["--dir", str(root / sub.path), "--version", str(version), "--draft" if draft else "--yes"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
        raise ToolError(f"towncrier could not build {sub.path}'s notes: {last}")
    if not draft:
        return ""
    marker = "What is seen below is what would be written."
    return proc.stdout.split(marker, 1)[-1].strip() + "\n"


def wheel_metadata(wheel: Path) -> tuple[str, list[str]]:
    """(Version, Requires-Dist lines) of a wheel's METADATA."""
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        text = z.read(name).decode()
    headers = [line.split(": ", 1) for line in text.split("\n\n", 1)[0].splitlines() if ": " in line]
    version = next((v for k, v in headers if k == "Version"), "")
    return version, [v for k, v in headers if k == "Requires-Dist"]


def check_wheel(wheel: Path, meta: Meta, version: Version) -> str:
    got, requires = wheel_metadata(wheel)
    if Version(got) != version:
        raise ToolError(f"{wheel.name} has version {got}, not {version}; is subproject.toml the only version source?")
    if meta.api_major is None:
        return f"{wheel.name}: Version {got}"
    want = nova_common_range(meta.api_major)
    for line in requires:
        m = re.fullmatch(r"nova-common\s*\(?([^);]*)\)?", line.strip())
        if m and m.group(1) and SpecifierSet(m.group(1)) == want:
            return f"{wheel.name}: Version {got}, Requires-Dist nova-common{want}"
    raise ToolError(f"{wheel.name} lacks 'Requires-Dist: nova-common{want}' (has {requires}); check the Pants plugin")


def smoke_targets(repo: Repository, meta: Meta) -> list[tuple[Version, str | None]]:
    """The nova-common versions a driver is checked with: the oldest and newest tagged ones in
    its range; the work tree's (``None`` tag) when no release in the range exists yet."""
    assert meta.api_major is not None
    allowed = nova_common_range(meta.api_major)
    core = read_meta(repo.root, find_subproject(repo.root, CORE))
    if core.version not in allowed:
        raise ToolError(
            f"{meta.distribution} requires nova-common{allowed} but the tree has nova-common {core.version}; "
            f"update [driver] api-major in {meta.path}/subproject.toml"
        )
    tagged = sorted(v for v in tagged_versions(repo, core.distribution) if v in allowed)
    if not tagged:
        return [(core.version, None)]
    picks = sorted({tagged[0], tagged[-1]})
    return [(v, core.tag(v)) for v in picks]


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
            repo.git.git.tag("-d", tag)
        repo.git.git.reset("-q", "--hard", start)
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
        status = repo.git.git.status("--porcelain", "--untracked-files=all").splitlines()
        outside = [line[3:] for line in status if not Path(line[3:]).is_relative_to(sub.path)]
        if outside:
            raise ToolError(f"the cut touched files outside {sub.path}: {', '.join(outside)}")
        repo.git.git.add("-A", "--", sub.path)
        repo.git.git.commit("-q", "-m", f"Release {meta.distribution} {new}\n\n{notes}")
        result.commit = repo.resolve("HEAD")
        step("tag")
        repo.git.git.tag("-a", tag, "-m", f"{meta.distribution} {new}\n\n{notes}")
    for check in result.checks:
        say(f"ok: {check}")
    say(f"released {meta.distribution} {new}: commit {result.commit and result.commit[:12]}, tag {tag}")
    return result
