"""The API gate's consumer-aware second opinion: do our drivers' releases still type-check?

What driver users have installed is each driver's last release (its ``nova-<name>-X.Y.Z`` tag;
HEAD where none exists yet). :func:`typecheck_drivers` checks each driver's code as of that
release with strict mypy (as CI does), once against nova-common at the gate's reference and once
against the changed nova-common, and reports every error the change introduces, per driver, file
and line. It sees what griffe cannot (a changed signature reached through a callback, a field
used under another name). :func:`conformance_drivers` (``--deep``) also runs each release's
conformance suite (``*conformance*_test.py``) against the changed nova-common.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mypy import api as mypy_api

from nova_split_tools.api_gate import export_tree, last_release
from nova_split_tools.api_surface import CORE_ROOT, PACKAGE
from nova_split_tools.api_usage_members import is_test_file
from nova_split_tools.repo import Repository
from nova_split_tools.subprojects import Subproject, load_subprojects

__all__ = ["conformance_drivers", "release_of", "typecheck_drivers"]

_ERROR = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: (?P<message>.*)$")


def release_of(repo: Repository, driver: Subproject) -> str:
    """The driver's last release tag, or ``HEAD`` when it has none."""
    return last_release(repo, f"nova-{driver.name}-") or "HEAD"


@contextmanager
def _env(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _mypy(files: list[Path], search: list[Path], config: Path | None, cache: Path) -> set[tuple[str, int, str]]:
    args = ["--strict", "--no-error-summary", "--show-error-codes", "--hide-error-context", "--no-color-output"]
    args += ["--no-pretty", "--explicit-package-bases", "--cache-dir", str(cache)]
    if config is not None:
        args += ["--config-file", str(config)]
    with _env(MYPYPATH=os.pathsep.join(map(str, search))):
        out, _, _ = mypy_api.run([*args, *map(str, files)])
    errors = set()
    for line in out.splitlines():
        m = _ERROR.match(line.strip())
        if m:
            errors.add((m["file"], int(m["line"]), m["message"]))
    return errors


def typecheck_drivers(repo: Repository, against: str, drivers: list[str] | None = None) -> list[dict[str, Any]]:
    """Per driver release: the mypy errors the changed nova-common introduces (file, line, message).

    All releases are checked in one mypy run per side (their packages have distinct names), so
    nova-common and the standard library are analysed twice in all, not twice per driver.
    """
    config = repo.root / "pyproject.toml"
    cfg = config if config.exists() else None
    out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="nova-split-consumers-") as tmp:
        base = Path(tmp)
        export_tree(repo, repo.resolve(against), f"{CORE_ROOT}/{PACKAGE}", base / "old")
        roots: dict[Path, tuple[Subproject, str]] = {}
        for sub in load_subprojects(repo.root):
            if not sub.is_driver or (drivers is not None and sub.name not in drivers):
                continue
            release = release_of(repo, sub)
            dest = base / "drivers" / sub.name
            export_tree(repo, repo.resolve(release), sub.path, dest)
            roots[dest / sub.path] = (sub, release)
        files = sorted(p for root in roots for p in root.rglob("*.py"))
        if not files:
            return out
        old = _mypy(files, [base / "old" / CORE_ROOT, *roots], cfg, base / "c-old")
        new = _mypy(files, [repo.root / CORE_ROOT, *roots], cfg, base / "c-new")
        for file, line, message in sorted(new - old):
            absolute = Path(file) if Path(file).is_absolute() else Path.cwd() / file
            for root, (sub, release) in roots.items():
                if absolute.is_relative_to(root):
                    path = f"{sub.path}/{absolute.relative_to(root).as_posix()}"
                    out.append(
                        {
                            "driver": sub.name,
                            "release": release,
                            "file": path,
                            "line": line,
                            "message": message,
                            "code": "test" if is_test_file(path) else "shipped",
                        }
                    )
    return out


def conformance_drivers(repo: Repository, drivers: list[str] | None = None) -> list[dict[str, Any]]:
    """Per driver release: its conformance suite, run by Pants in its own resolve, against the
    work tree's nova-common (a scratch worktree at the release with nova-common copied in; removed
    afterwards, also when interrupted)."""
    out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="nova-split-deep-") as tmp:
        for sub in load_subprojects(repo.root):
            if not sub.is_driver or (drivers is not None and sub.name not in drivers):
                continue
            release = release_of(repo, sub)
            tree = Path(tmp) / sub.name
            repo.git.git.worktree("add", "--detach", str(tree), repo.resolve(release))
            try:
                shutil.rmtree(tree / CORE_ROOT, ignore_errors=True)
                ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
                shutil.copytree(repo.root / CORE_ROOT, tree / CORE_ROOT, ignore=ignore)
                suites = sorted(
                    p.relative_to(tree).as_posix() for p in (tree / sub.path).rglob("*conformance*_test.py")
                )
                if not suites:
                    out.append(
                        {"driver": sub.name, "release": release, "passed": None, "output": "no conformance suite"}
                    )
                    continue
                proc = subprocess.run(
                    [str(tree / "pants"), "--no-pantsd", "test", *suites],
                    cwd=tree,
                    capture_output=True,
                    text=True,
                    stdin=subprocess.DEVNULL,
                )
                tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
                out.append({"driver": sub.name, "release": release, "passed": proc.returncode == 0, "output": tail})
            finally:
                repo.git.git.worktree("remove", "--force", str(tree))
    return out
