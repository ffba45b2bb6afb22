"""Adding and removing a driver: every file it takes, written all or not at all.

A driver is its directory (from :mod:`nova_split_tools.driver_template`), its resolve line in
``pants.toml``, its lockfile (``./pants generate-lockfiles``) and its share of the generated
files (``OWNERS``/``CODEOWNERS``, the CI config, ``pyproject.toml``/``tox.ini``), written by the
same generators whose ``--check`` CI runs. Both operations refuse a dirty work tree (so the
change they make is exactly ``git status``), take a lock against a concurrent run, and roll back
on any failure, Ctrl-C or SIGTERM: the tree is left as it was.
"""

from __future__ import annotations

import fcntl
import re
import shutil
import signal
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from nova_common_cli.args import Terminated
from nova_split_tools import wheel_metadata
from nova_split_tools.driver_template import DriverSpec, render
from nova_split_tools.errors import ToolError
from nova_split_tools.generators import ALL as GENERATORS
from nova_split_tools.graph import run_pants
from nova_split_tools.metadata import check_email
from nova_split_tools.proc import git
from nova_split_tools.release_state import INTERRUPTS, shielded
from nova_split_tools.repo import Repository

__all__ = [
    "NAME_RULE",
    "Plan",
    "add_resolve_line",
    "new_driver_plan",
    "remove_driver_plan",
    "remove_resolve_line",
    "spec_for",
]

NAME_RULE = re.compile(r"^[a-z][a-z0-9]{1,15}$")
#: Names the core already uses: its resolve, and the reference driver's entry point.
RESERVED = {"common", "fake"}
RESOLVES = "[python.resolves]"


def _resolves(root: Path) -> dict[str, str]:
    try:
        resolves: dict[str, str] = tomllib.loads((root / "pants.toml").read_text())["python"]["resolves"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as e:
        raise ToolError(f"cannot read [python.resolves] from {root / 'pants.toml'}: {e}") from None
    return resolves


def _check_name(name: str) -> None:
    if not NAME_RULE.match(name):
        raise ToolError(
            f"bad driver name {name!r}: use 2-16 lowercase letters and digits, starting with a letter (e.g. 'vbox')"
        )
    if name in RESERVED:
        raise ToolError(f"{name!r} is taken by nova-common; choose another driver name")


def spec_for(root: Path, name: str, client_packages: list[str], owners: list[str]) -> DriverSpec:
    """A validated spec; ToolError (one line) for a bad name, a taken one or a bad requirement."""
    _check_name(name)
    if name in _resolves(root) or (root / "drivers" / name).exists():
        raise ToolError(f"driver {name!r} exists (drivers/{name}); remove it first or choose another name")
    requirements: list[str] = []
    canonical: list[str] = []
    for raw in client_packages:
        try:
            req = Requirement(raw)
        except InvalidRequirement as e:
            raise ToolError(f"--client-package {raw!r} is not a requirement ({e}); e.g. 'pyvbox>=1.0'") from None
        if req.url or req.marker:
            raise ToolError(f"--client-package {raw!r}: give a name and version range, without URL or marker")
        requirements.append(str(req))
        canonical.append(canonicalize_name(req.name))
    if len(set(canonical)) != len(canonical):
        raise ToolError("a --client-package is given twice")
    core = tomllib.loads((root / "nova-common" / "subproject.toml").read_text())["project"]["version"]
    major, minor = (int(p) for p in str(core).split(".")[:2])
    if not owners:
        owners = _core_members(root)
    for owner in owners:
        check_email(owner, "--owner")
    return DriverSpec(name, tuple(requirements), tuple(canonical), tuple(owners), (major, minor))


def _core_members(root: Path) -> list[str]:
    members: list[str] = tomllib.loads((root / "nova-common" / "subproject.toml").read_text())["owners"]["members"]
    return members


def add_resolve_line(pants_toml: str, name: str) -> str:
    """``pants_toml`` with ``name = "drivers/<name>/<name>.lock"`` after the last resolve line."""
    lines = pants_toml.splitlines(keepends=True)
    section, last = None, None
    for i, raw in enumerate(lines):
        line = raw.split("#", 1)[0].strip()
        if line.startswith("["):
            section = line
        elif section == RESOLVES and "=" in line:
            last = i
    if last is None:
        raise ToolError(f"pants.toml has no {RESOLVES} entries to add {name!r} to")
    lines.insert(last + 1, f'{name} = "drivers/{name}/{name}.lock"\n')
    return "".join(lines)


def remove_resolve_line(pants_toml: str, name: str) -> str:
    """``pants_toml`` without ``name``'s resolve line; ToolError unless there is exactly one."""
    lines = pants_toml.splitlines(keepends=True)
    section, hits = None, []
    for i, raw in enumerate(lines):
        line = raw.split("#", 1)[0].strip()
        if line.startswith("["):
            section = line
        elif section == RESOLVES and "=" in line and line.split("=", 1)[0].strip().strip('"') == name:
            hits.append(i)
    if len(hits) != 1:
        raise ToolError(f"expected one {name!r} line in pants.toml's {RESOLVES}, found {len(hits)}")
    del lines[hits[0]]
    return "".join(lines)


@dataclass
class Plan:
    """What an add or remove writes: shown by ``--dry-run``, carried out by :meth:`apply`."""

    root: Path
    name: str
    writes: dict[str, str] = field(default_factory=dict)  # rel path -> content
    deletes: list[str] = field(default_factory=list)  # rel dir of the driver
    pants_toml: str = ""
    lockfile: bool = False

    def describe(self) -> list[str]:
        out = [f"write {rel}" for rel in sorted(self.writes)]
        out += [f"delete {rel}/ (every file)" for rel in self.deletes]
        out.append("edit pants.toml ([python.resolves])")
        if self.lockfile:
            lock = f"drivers/{self.name}/{self.name}.lock"
            out.append(f"generate {lock} (./pants generate-lockfiles --resolve={self.name})")
        out.append("regenerate OWNERS, CODEOWNERS, CI config, pyproject.toml, tox.ini (owners, ci-config, packaging)")
        return out

    def apply(self, say: Callable[[str], None]) -> None:
        """Carry the plan out; on any failure or interrupt, put the tree back as it was."""
        with _locked(self.root), _rollback(self.root) as staged:
            repo = Repository(self.root)
            dirty = repo.dirty_paths()
            if dirty:
                shown = ", ".join(dirty[:3]) + (", ..." if len(dirty) > 3 else "")
                raise ToolError(
                    f"the work tree has uncommitted changes ({shown});"
                    " commit or stash them first, so this change is exactly what git status shows (after an"
                    " interrupted run killed with SIGKILL: git checkout -- . and git clean -fd drivers/)"
                )
            for rel in self.deletes:
                staged.move_away(rel)
                say(f"deleted {rel}/")
            if self.writes:
                staged.create_dir(f"drivers/{self.name}", self.writes)
                say(f"wrote drivers/{self.name}/ ({len(self.writes)} files)")
            staged.save("pants.toml")
            (self.root / "pants.toml").write_text(self.pants_toml)
            say("edited pants.toml")
            if self.lockfile:
                say(f"generating drivers/{self.name}/{self.name}.lock (./pants generate-lockfiles; a minute or two)")
                # Without pantsd: an interrupt then stops the run itself, which cannot write after the rollback.
                run_pants(self.root, ["generate-lockfiles", f"--resolve={self.name}"], pantsd=False)
                say("formatting the new sources (./pants fix: black, ruff)")
                run_pants(self.root, ["fix", f"drivers/{self.name}::"], pantsd=False)
            regenerate(self.root, staged)
            say("regenerated owners, ci-config and packaging files")


def regenerate(root: Path, staged: _Staging) -> None:
    """Run the generators CI's ``--check`` gates compare against, saving what they touch first."""
    for rel in (
        ".github/CODEOWNERS",
        "OWNERS",
        "zuul.d/nova-split.yaml",
        ".github/workflows/ci.yml",
        "pants.ci.toml",
        "build-support/clone-closures.json",
    ):
        staged.save(rel)
    workflows = root / ".github" / "workflows"
    for path in workflows.glob("driver-*.yml") if workflows.exists() else []:
        staged.save(path.relative_to(root).as_posix())
    for d in (root / "drivers").iterdir():
        for rel in ("OWNERS", "pyproject.toml", "tox.ini"):
            staged.save(f"drivers/{d.name}/{rel}")
    for generate in GENERATORS:
        generate(root, False)


def new_driver_plan(root: Path, spec: DriverSpec) -> Plan:
    text = (root / "pants.toml").read_text()
    writes = render(spec)
    # The subproject's LICENSE copy, as `nova-split packaging` writes it: its BUILD file's
    # `license` resource must exist before the first Pants run on the new directory (./pants fix).
    license_file = root / wheel_metadata.LICENSE_FILE
    if not license_file.is_file():
        raise ToolError(f"{wheel_metadata.LICENSE_FILE} is missing at the repository root; restore it from git")
    writes[f"drivers/{spec.name}/{wheel_metadata.LICENSE_FILE}"] = license_file.read_text()
    return Plan(root, spec.name, writes=writes, pants_toml=add_resolve_line(text, spec.name), lockfile=True)


def remove_driver_plan(root: Path, name: str) -> Plan:
    resolves = _resolves(root)
    drivers = sorted(r for r in resolves if r != "common")
    if name not in drivers:
        raise ToolError(f"no driver {name!r}; the drivers are: {', '.join(drivers)}")
    path = resolves[name].rsplit("/", 1)[0]
    text = remove_resolve_line((root / "pants.toml").read_text(), name)
    return Plan(root, name, deletes=[path], pants_toml=text)


class _Staging:
    """Saved copies of files about to change and paths created, to put back on failure."""

    def __init__(self, root: Path, scratch: Path) -> None:
        self.root, self.scratch = root, scratch
        self.saved: dict[str, bytes | None] = {}
        self.moved: list[tuple[str, Path]] = []
        self.created: list[str] = []

    def save(self, rel: str) -> None:
        if rel not in self.saved:
            path = self.root / rel
            self.saved[rel] = path.read_bytes() if path.exists() else None

    def create_dir(self, rel: str, files: dict[str, str]) -> None:
        """Write ``files`` under a scratch dir, then move it into place in one rename."""
        build = self.scratch / "new"
        for path, content in files.items():
            target = build / Path(path).relative_to(rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        self.created.append(rel)
        build.rename(self.root / rel)

    def move_away(self, rel: str) -> None:
        away = self.scratch / f"removed-{len(self.moved)}"
        (self.root / rel).rename(away)
        self.moved.append((rel, away))

    def restore(self) -> None:
        for rel in reversed(self.created):
            shutil.rmtree(self.root / rel, ignore_errors=True)
        for rel, away in reversed(self.moved):
            if not (self.root / rel).exists():
                away.rename(self.root / rel)
        for rel, content in self.saved.items():
            path = self.root / rel
            if content is None:
                path.unlink(missing_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)


@contextmanager
def _rollback(root: Path) -> Iterator[_Staging]:
    """Stage changes; undo them on any exception (SIGTERM too: it raises Terminated)."""
    scratch_parent = root / "dist"
    scratch_parent.mkdir(exist_ok=True)  # inside the repo, so renames stay on one file system
    with tempfile.TemporaryDirectory(prefix=".nova-split-driver-", dir=scratch_parent) as tmp:
        staged = _Staging(root, Path(tmp))

        fired = False

        def _term(signum: int, frame: FrameType | None) -> None:
            nonlocal fired
            fired = True  # the first interrupt wins: a second one must not replace its exception
            for sig in INTERRUPTS:
                signal.signal(sig, signal.SIG_IGN)
            raise Terminated()

        previous = signal.signal(signal.SIGTERM, _term)
        try:
            yield staged
        except BaseException:
            with shielded():  # finish the rollback: no SIGTERM, SIGINT or SIGHUP cuts it short
                staged.restore()
            raise
        finally:
            # Only if it is still ours: once one fired they stay ignored (the program is on its way
            # to its line), and so they do when another handler ignored them meanwhile (the
            # program's, on a Ctrl-C): giving SIGTERM back then would let a second signal cut the
            # program's cleanup short.
            if not fired and signal.getsignal(signal.SIGTERM) is _term:
                signal.signal(signal.SIGTERM, previous)


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    git_dir = Path(git(root, "rev-parse", "--absolute-git-dir").strip())
    with open(git_dir / "nova-split-driver.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ToolError("another new-driver or remove-driver is running in this repository; wait for it") from None
        yield
