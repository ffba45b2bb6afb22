"""`nova-split clone` from a URL: every driver's closure, cloned from a scratch clone of HEAD served
over smart HTTP on loopback (``git http-backend``), over ``file://`` and from a plain path.

For all five drivers (cheap): the clone succeeds from the committed directory set without Pants,
checks out no other driver's file and fetched no other driver's blob. For hyperv (the full path a
newcomer takes): ``clone --refresh`` pulls a new commit; with the committed set removed it falls
back to Pants in the clone (no daemon left) and finds the same set; ``./pants test
drivers/hyperv::`` passes there. Failures (bad URL, unknown driver, existing destination) are one
line and leave no destination. Prints the clone's size against a full clone of the same URL.
Interruptions by SIGINT, SIGTERM and SIGKILL are in ``nova_split_tools/clone_cmd_test.py``.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from nova_split_tools.git_http import GitHttpServer
from nova_split_tools.testing.scratch import git, nova_split, pants, run, scratch_clone, share_tooling_venv

DRIVERS = ("libvirt", "vmware", "xen", "hyperv", "ironic")
CLOSURES_FILE = "build-support/clone-closures.json"
FULL = "hyperv"


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clone")


@pytest.fixture(scope="module")
def source(work: Path) -> Path:
    (work / "served").mkdir()
    repo = scratch_clone(work / "served", "repo")
    share_tooling_venv(repo)
    return repo


@pytest.fixture(scope="module")
def server(source: Path) -> Iterator[GitHttpServer]:
    with GitHttpServer(source.parent) as s:
        yield s


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


def checked_out(root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts]


def state(root: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((root / ".git" / "nova-split-sparse").read_text())
    return data


def no_daemon_in(path: Path) -> None:
    daemons = [line for line in run(["ps", "-eo", "pid,args"], path.parent).stdout.splitlines() if "pantsd" in line]
    assert not [d for d in daemons if str(path) in d], f"a pantsd outlived the clone: {daemons}"


def url(kind: str, source: Path, server: GitHttpServer) -> str:
    return {"http": server.url("repo"), "file": source.as_uri(), "path": str(source)}[kind]


@pytest.mark.parametrize("driver", DRIVERS)
def test_every_drivers_closure_clones_over_http_without_other_drivers(
    source: Path, server: GitHttpServer, work: Path, driver: str
) -> None:
    committed = json.loads((source / CLOSURES_FILE).read_text())["drivers"][driver]["dirs"]
    dest = work / f"http-{driver}"
    done = nova_split(source, "clone", server.url("repo"), driver, str(dest))
    assert done.returncode == 0, done.stderr
    assert state(dest) == {"subproject": driver, "path": f"drivers/{driver}", "dirs": committed, "from": "committed"}
    files = checked_out(dest)
    assert f"drivers/{driver}/BUILD" in files and "nova-common/BUILD" in files and "pants.toml" in files
    others = [f for f in files if f.startswith("drivers/") and not f.startswith(f"drivers/{driver}/")]
    assert not others, f"other drivers' files are checked out: {others[:10]}"
    fetched = set(git(dest, "rev-list", "--objects", "--all", "--missing=print").split())
    for other in set(DRIVERS) - {driver}:
        blob = git(source, "rev-parse", f"HEAD:drivers/{other}/BUILD")
        assert blob not in fetched, f"{other}'s BUILD blob was fetched"
    assert git(dest, "config", "remote.origin.url") == server.url("repo")
    assert not list(work.glob(".*nova-split-clone-*"))


@pytest.mark.parametrize("kind", ["file", "path"])
def test_file_url_and_path_give_the_same_checkout(source: Path, server: GitHttpServer, work: Path, kind: str) -> None:
    dest = work / f"{kind}-{FULL}"
    done = nova_split(source, "clone", url(kind, source, server), FULL, str(dest))
    assert done.returncode == 0, done.stderr
    reference = work / f"http-{FULL}"
    if not reference.exists():
        assert nova_split(source, "clone", server.url("repo"), FULL, str(reference)).returncode == 0
    assert sorted(checked_out(dest)) == sorted(checked_out(reference))
    assert git(dest, "config", "remote.origin.promisor") == "true"


def test_failures_are_one_line_and_leave_no_destination(source: Path, server: GitHttpServer, work: Path) -> None:
    dest = work / "refused"
    for args, says in [
        ([server.url("nonexistent"), FULL], "failed"),
        (["file:///nonexistent/repo", FULL], "failed"),
        ([server.url("repo"), "nope"], "unknown subproject 'nope'"),
    ]:
        done = nova_split(source, "clone", *args, str(dest))
        assert done.returncode == 2 and says in done.stderr and done.stderr.count("\n") == 1, done.stderr
        assert not dest.exists()
    busy = work / "busy"
    busy.mkdir()
    (busy / "mine.txt").write_text("keep\n")
    done = nova_split(source, "clone", server.url("repo"), FULL, str(busy))
    assert done.returncode == 2 and "exists and is not empty" in done.stderr  # a refusal: exit 2 (docs/cli.md)
    assert checked_out(busy) == ["mine.txt"]
    assert not list(work.glob(".*nova-split-clone-*"))


def test_refresh_follows_new_commits_falls_back_to_pants_and_the_clone_tests_alone(
    source: Path, server: GitHttpServer, work: Path
) -> None:
    dest = work / f"refresh-{FULL}"
    assert nova_split(source, "clone", server.url("repo"), FULL, str(dest)).returncode == 0
    committed = state(dest)["dirs"]
    share_tooling_venv(dest)  # the clone's own nova-split runs on the same exported venv

    (source / "drivers" / FULL / "NOTES.txt").write_text("new in the driver\n")
    (source / "drivers" / "xen" / "NOTES.txt").write_text("not for hyperv\n")
    git(source, "add", "-A")
    git(source, "commit", "-qm", "notes")
    done = nova_split(dest, "clone", "--refresh")
    assert done.returncode == 0, done.stderr
    assert (dest / "drivers" / FULL / "NOTES.txt").is_file() and not (dest / "drivers" / "xen").exists()
    assert state(dest)["from"] == "committed"

    # The committed set goes missing (an older revision, a new driver): Pants in the clone finds it.
    git(source, "rm", "-q", CLOSURES_FILE)
    git(source, "commit", "-qm", "no closure data")
    done = nova_split(dest, "clone", "--refresh", env={"PANTS_PANTSD": "true"})  # the tool itself refuses a daemon
    assert done.returncode == 0, done.stderr + done.stdout
    assert state(dest) == {"subproject": FULL, "path": f"drivers/{FULL}", "dirs": committed, "from": "pants"}
    no_daemon_in(dest)

    full = work / "full"
    run(["git", "clone", "-q", server.url("repo"), str(full)], work, check=True)
    c_objects, c_bytes, c_files = measure(dest)
    f_objects, f_bytes, f_files = measure(full)
    print(f"closure clone of {FULL} over HTTP: {c_objects} objects, {c_bytes} bytes, {c_files} files")
    print(f"full clone over HTTP:            {f_objects} objects, {f_bytes} bytes, {f_files} files")
    assert c_files < f_files

    tested = pants(dest, "test", "--force", f"drivers/{FULL}::")
    log = tested.stdout + tested.stderr
    assert tested.returncode == 0, f"./pants test drivers/{FULL}:: FAILED in the closure clone:\n{log[-4000:]}"
    passed = re.findall(r"^✓ (\S+)", log, re.M)
    print("\n".join(f"  ✓ {t}" for t in passed))
    assert passed and all(t.startswith(f"drivers/{FULL}/") for t in passed), log[-2000:]
    others = [f for f in checked_out(dest) if f.startswith("drivers/") and not f.startswith(f"drivers/{FULL}/")]
    assert not others, others[:10]
    no_daemon_in(dest)
    subprocess.run(["git", "-C", str(source), "reset", "-q", "--hard", "HEAD~2"], check=True)
