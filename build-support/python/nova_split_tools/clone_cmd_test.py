"""clone against real git repositories, from a path, a file:// URL and smart HTTP on loopback.

The directory set comes from a committed ``build-support/clone-closures.json``; where a test needs
the fallback (no data, stale data), Pants is replaced by a fixed closure. Interruptions are real
signals sent to a real ``nova-split clone`` process by the clone's own test hook.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nova_split_tools.cli import main
from nova_split_tools.clone import CLOSURES_FILE, KILL_AT_ENV, STEPS, clone, cone_dirs, refresh, stats
from nova_split_tools.errors import ToolError
from nova_split_tools.git_http import GitHttpServer
from nova_split_tools.subprojects import registered
from nova_split_tools.testing.repos import commit, git, new_repo

PANTS_TOML = """[python.resolves]
common = "nova-common/common.lock"
xen = "drivers/xen/xen.lock"
hyperv = "drivers/hyperv/hyperv.lock"
"""
XEN_DIRS = [".ci", "build-support", "drivers/xen", "nova-common/nova_common"]
CLOSURES = {
    "version": 1,
    "drivers": {
        "xen": {"path": "drivers/xen", "dirs": XEN_DIRS},
        "hyperv": {"path": "drivers/hyperv", "dirs": [".ci", "build-support", "drivers/hyperv", "nova-common"]},
    },
}
FILES: dict[str, str | None] = {
    "pants.toml": PANTS_TOML,
    "README.md": "monorepo\n",
    ".ci/run": "ci\n",
    "build-support/bin/nova-split": "tool\n",
    CLOSURES_FILE: json.dumps(CLOSURES),
    "nova-common/common.lock": "lock\n",
    "nova-common/nova_common/driver.py": "class ComputeDriver: ...\n",
    "nova-common/nova_common/compute/manager.py": "m = 1\n",
    "nova-common/docs/big.md": "docs\n" * 100,
    "drivers/xen/subproject.toml": "[ci]\n",
    "drivers/xen/xen.lock": "lock\n",
    "drivers/xen/nova_xen/driver.py": "import nova_common.driver\n",
    "drivers/hyperv/subproject.toml": "[ci]\n# hyperv\n",
    "drivers/hyperv/hyperv.lock": "hyperv lock\n",
    "drivers/hyperv/nova_hyperv/driver.py": "hyperv = 1\n" * 500,
}
XEN_CLOSURE = {"drivers/xen/nova_xen/driver.py", "drivers/xen/xen.lock", "nova-common/nova_common/driver.py"}


def no_pants(root: Path, path: str) -> set[str]:
    raise AssertionError(f"Pants ran for {path}, though the committed set is current")


def fake_closure(extra: set[str] | None = None):  # type: ignore[no-untyped-def]
    calls: list[set[str]] = []

    def closure(root: Path, path: str) -> set[str]:
        assert (root / "pants.toml").exists() and path == "drivers/xen"
        assert (root / "nova-common" / "nova_common" / "driver.py").exists(), "the fallback must widen first"
        calls.append(_checked_out(root))
        return XEN_CLOSURE | (extra or set())

    closure.calls = calls  # type: ignore[attr-defined]
    return closure


@pytest.fixture
def source(tmp_path: Path) -> Path:
    root = new_repo(tmp_path / "source")
    commit(root, "monorepo", FILES)
    return root


def _checked_out(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}


def _missing_blobs(root: Path) -> int:
    return sum(1 for m in git(root, "rev-list", "--objects", "--all", "--missing=print").splitlines() if m[0] == "?")


def test_cone_is_derived_from_the_closure_and_minimal(source: Path) -> None:
    subprojects = registered(source)
    xen = next(s for s in subprojects if s.name == "xen")
    assert cone_dirs(XEN_CLOSURE, xen, subprojects) == [".ci", "build-support", "drivers/xen", "nova-common"]
    assert cone_dirs({"drivers/xen/a.py", "top.py"}, xen, subprojects) == [
        ".ci",
        "build-support",
        "drivers/xen",
        "nova-common",  # the tools' resolve (common) lockfile
    ]


@pytest.mark.parametrize("kind", ["path", "file-url", "http"])
def test_clone_checks_out_the_committed_set_and_fetches_no_other_blobs(source: Path, tmp_path: Path, kind: str) -> None:
    dest = tmp_path / "xen"
    with GitHttpServer(tmp_path) as server:
        url = {"path": str(source), "file-url": source.as_uri(), "http": server.url("source")}[kind]
        dirs = clone(url, "xen", dest, no_pants)
    assert dirs == XEN_DIRS
    files = _checked_out(dest)
    assert {"pants.toml", "README.md", "drivers/xen/nova_xen/driver.py", "nova-common/common.lock"} <= files
    assert "nova-common/nova_common/driver.py" in files and "nova-common/docs/big.md" not in files
    assert not any(f.startswith("drivers/hyperv/") for f in files)
    assert git(dest, "config", "remote.origin.promisor") == "true"
    assert _missing_blobs(dest) == 4  # hyperv's three blobs and nova-common's docs were never fetched
    state = json.loads((dest / ".git" / "nova-split-sparse").read_text())
    assert state == {"subproject": "xen", "path": "drivers/xen", "dirs": dirs, "from": "committed"}
    assert stats(dest).files == len(files)
    assert not list(tmp_path.glob(".xen.nova-split-clone-*"))


def test_missing_or_stale_data_widens_and_asks_pants(source: Path, tmp_path: Path) -> None:
    commit(
        source,
        "the data names a directory that is gone",
        {CLOSURES_FILE: json.dumps({"drivers": {"xen": {"path": "drivers/xen", "dirs": ["drivers/xen", "gone"]}}})},
    )
    closure = fake_closure()
    dirs = clone(source.as_uri(), "drivers/xen", tmp_path / "stale", closure)
    assert dirs == [".ci", "build-support", "drivers/xen", "nova-common"]
    assert "nova-common/docs/big.md" in closure.calls[0]  # widened to all of nova-common
    assert json.loads((tmp_path / "stale/.git/nova-split-sparse").read_text())["from"] == "pants"
    commit(source, "no data", {CLOSURES_FILE: None})
    assert clone(str(source), "xen", tmp_path / "none", fake_closure()) == dirs


def test_refresh_pulls_and_follows_the_committed_set(source: Path, tmp_path: Path) -> None:
    dest = tmp_path / "xen"
    clone(str(source), "xen", dest, no_pants)
    data = json.loads(json.dumps(CLOSURES))
    data["drivers"]["xen"]["dirs"] = [*XEN_DIRS, "shared"]
    commit(
        source,
        "xen uses a new shared dir",
        {"shared/util.py": "u = 1\n", "drivers/xen/nova_xen/new.py": "n\n", CLOSURES_FILE: json.dumps(data)},
    )
    dirs = refresh(dest, no_pants)
    assert "shared" in dirs
    assert {"shared/util.py", "drivers/xen/nova_xen/new.py"} <= _checked_out(dest)
    assert json.loads((dest / ".git" / "nova-split-sparse").read_text())["dirs"] == dirs
    commit(source, "the data is dropped", {CLOSURES_FILE: None})
    dirs = refresh(dest, fake_closure({"shared/util.py"}))  # fallback: Pants in the clone
    assert "shared" in dirs and "nova-common" in dirs


def test_refusals_are_one_line_and_leave_nothing(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x\n")
    with pytest.raises(ToolError, match="exists and is not empty"):
        clone(str(source), "xen", busy, no_pants)
    assert _checked_out(busy) == {"x"}
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ToolError, match=r"unknown subproject 'nope'; choose one of: hyperv, xen"):
        clone(str(source), "nope", empty, no_pants)
    assert empty.is_dir() and not any(empty.iterdir())  # an empty destination stays as it was
    bad_sources = (str(tmp_path / "nowhere"), "file:///nonexistent/repo", "http://127.0.0.1:9/repo")
    causes = ("does not exist", "does not appear to be a git repository", "Failed to connect")
    for bad, cause in zip(bad_sources, causes, strict=True):
        assert main(["clone", bad, "xen", str(tmp_path / "new")]) == 2  # could not run (docs/cli.md)
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"'git clone' of {bad} failed: fatal: " in err and cause in err, err
        assert not (tmp_path / "new").exists()
    assert main(["clone", str(source), "xen", str(tmp_path / "no" / "parent")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["--repo", str(source), "clone", "--refresh"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a nova-split closure clone" in err
    assert not [p for p in tmp_path.iterdir() if "nova-split-clone" in p.name]


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(sys.path)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from nova_split_tools.cli import main; sys.exit(main(sys.argv[1:]))",
            *args,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": path, **env},
    )


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM", "SIGHUP", "SIGKILL"])
def test_an_interrupted_clone_leaves_no_destination(source: Path, tmp_path: Path, sig: str) -> None:
    for step in STEPS:
        dest = tmp_path / f"{sig}-{step}"
        done = _cli(["clone", source.as_uri(), "xen", str(dest)], {KILL_AT_ENV: f"{step}:{sig}"})
        assert done.returncode in (130, -getattr(signal, sig)), done.stderr
        assert not dest.exists(), f"{dest.name} left behind"
        partials = list(tmp_path.glob(f".{dest.name}.nova-split-clone-*"))
        if sig != "SIGKILL":
            assert not partials and "interrupted" in done.stderr and "Traceback" not in done.stderr
            continue
        assert len(partials) == 1  # SIGKILL runs no cleanup: the next clone into dest removes it
        again = _cli(["clone", source.as_uri(), "xen", str(dest)], {})
        assert again.returncode == 0, again.stderr
        assert not list(tmp_path.glob(f".{dest.name}.nova-split-clone-*"))
        assert "drivers/xen/nova_xen/driver.py" in _checked_out(dest)


@pytest.mark.parametrize("second", [signal.SIGHUP, signal.SIGINT, signal.SIGTERM])
def test_a_second_signal_cuts_no_removal_of_the_partial_clone_short(second: signal.Signals) -> None:
    """The first interrupt wins: a second (a closing terminal sends SIGHUP twice; CI runners
    SIGTERM several times) while the half-made clone is removed does not stop the removal."""
    from nova_split_tools.clone import _sigterm_as_interrupt

    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    removed = False
    try:
        with pytest.raises(KeyboardInterrupt, match="SIGTERM"), _sigterm_as_interrupt():
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)
            finally:  # the removal
                os.kill(os.getpid(), second)
                time.sleep(0.05)
                removed = True
    finally:
        for sig, handling in saved.items():
            signal.signal(sig, handling)
    assert removed


def test_a_killed_clones_leftover_is_removed_when_dest_has_glob_characters(source: Path, tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", ""])
    dead.wait()  # a pid whose process is gone, like a clone killed with SIGKILL
    dest = tmp_path / "nova [hyperv]*"
    leftover = tmp_path / f".{dest.name}.nova-split-clone-{dead.pid}"
    leftover.mkdir()
    clone(str(source), "xen", dest, no_pants)
    assert not leftover.exists()
    assert "drivers/xen/nova_xen/driver.py" in _checked_out(dest)
