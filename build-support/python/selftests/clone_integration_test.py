"""`nova-split clone`: a driver's dependency closure, cloned from a scratch clone of HEAD, checks out
no other driver's file and passes the driver's tests with Pants on its own. Prints what the closure
clone fetched and checked out against a full clone of the same repository."""

from __future__ import annotations

import re
from pathlib import Path

from nova_split_tools.testing.scratch import git, nova_split, pants, run, scratch_clone, share_tooling_venv

DRIVER = "hyperv"


def measure(repo: Path) -> tuple[int, int, int]:
    """(objects, bytes in the object store, files checked out: skip-worktree entries are not)."""
    objects = kib = 0
    for line in git(repo, "count-objects", "-v").splitlines():
        key, value = line.split(": ")
        if key in ("count", "in-pack"):
            objects += int(value)
        elif key in ("size", "size-pack"):
            kib += int(value)
    files = sum(1 for entry in git(repo, "ls-files", "-t").splitlines() if not entry.startswith("S "))
    return objects, kib * 1024, files


def test_closure_clone_tests_alone(tmp_path: Path) -> None:
    source = scratch_clone(tmp_path)
    share_tooling_venv(source)
    closure = tmp_path / "closure"
    result = nova_split(source, "clone", str(source), DRIVER, str(closure))
    assert result.returncode == 0, result.stderr
    full = tmp_path / "full"
    run(["git", "clone", "-q", "--no-local", str(source), str(full)], tmp_path, check=True)
    c_objects, c_bytes, c_files = measure(closure)
    f_objects, f_bytes, f_files = measure(full)
    print(f"closure clone of {DRIVER}: {c_objects} objects, {c_bytes} bytes, {c_files} files")
    print(f"full clone:              {f_objects} objects, {f_bytes} bytes, {f_files} files")
    assert c_files < f_files

    others = [
        str(p.relative_to(closure))
        for p in (closure / "drivers").rglob("*")
        if p.is_file() and not p.relative_to(closure).as_posix().startswith(f"drivers/{DRIVER}/")
    ]
    assert not others, f"other drivers' files are checked out: {others[:10]}"
    assert (closure / "drivers" / DRIVER / "BUILD").is_file()

    tested = pants(closure, "test", "--force", f"drivers/{DRIVER}::")
    log = tested.stdout + tested.stderr
    assert tested.returncode == 0, f"./pants test drivers/{DRIVER}:: FAILED in the closure clone:\n{log[-4000:]}"
    passed = re.findall(r"^✓ (\S+)", log, re.M)
    print("\n".join(f"  ✓ {t}" for t in passed))
    assert passed and all(t.startswith(f"drivers/{DRIVER}/") for t in passed), log[-2000:]
