"""clone against real git repositories; the graph (Pants) is replaced by a fixed closure."""

import json
from pathlib import Path

import pytest

from nova_split_tools.cli import main
from nova_split_tools.clone import clone, cone_dirs, refresh, stats
from nova_split_tools.errors import ToolError
from nova_split_tools.subprojects import registered
from nova_split_tools.testing.repos import commit, git, new_repo

PANTS_TOML = """[python.resolves]
common = "nova-common/common.lock"
xen = "drivers/xen/xen.lock"
hyperv = "drivers/hyperv/hyperv.lock"
"""
FILES: dict[str, str | None] = {
    "pants.toml": PANTS_TOML,
    "README.md": "monorepo\n",
    ".ci/run": "ci\n",
    "build-support/bin/nova-split": "tool\n",
    "nova-common/common.lock": "lock\n",
    "nova-common/nova_common/driver.py": "class ComputeDriver: ...\n",
    "nova-common/nova_common/compute/manager.py": "m = 1\n",
    "drivers/xen/subproject.toml": "[ci]\n",
    "drivers/xen/xen.lock": "lock\n",
    "drivers/xen/nova_xen/driver.py": "import nova_common.driver\n",
    "drivers/hyperv/subproject.toml": "[ci]\n# hyperv\n",
    "drivers/hyperv/hyperv.lock": "hyperv lock\n",
    "drivers/hyperv/nova_hyperv/driver.py": "hyperv = 1\n" * 500,
}
XEN_CLOSURE = {"drivers/xen/nova_xen/driver.py", "drivers/xen/xen.lock", "nova-common/nova_common/driver.py"}


def fake_closure(extra: set[str] | None = None):  # type: ignore[no-untyped-def]
    def closure(root: Path, path: str) -> set[str]:
        assert (root / "pants.toml").exists() and path == "drivers/xen"
        return XEN_CLOSURE | (extra or set())

    return closure


@pytest.fixture
def source(tmp_path: Path) -> Path:
    root = new_repo(tmp_path / "source")
    commit(root, "monorepo", FILES)
    return root


def _checked_out(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}


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


def test_clone_checks_out_only_the_closure_and_fetches_no_other_blobs(source: Path, tmp_path: Path) -> None:
    dest = tmp_path / "xen"
    dirs = clone(str(source), "xen", dest, fake_closure())
    assert dirs == [".ci", "build-support", "drivers/xen", "nova-common"]
    files = _checked_out(dest)
    assert {"pants.toml", "README.md", "drivers/xen/nova_xen/driver.py", "nova-common/common.lock"} <= files
    assert not any(f.startswith("drivers/hyperv/") for f in files)
    assert git(dest, "config", "remote.origin.promisor") == "true"
    missing = git(dest, "rev-list", "--objects", "--all", "--missing=print").splitlines()
    assert len([m for m in missing if m.startswith("?")]) == 3  # hyperv's three blobs were never fetched
    state = json.loads((dest / ".git" / "nova-split-sparse").read_text())
    assert state == {"subproject": "xen", "path": "drivers/xen", "dirs": dirs}
    assert stats(dest).files == len(files)


def test_refresh_pulls_and_widens_the_checkout_from_the_clones_graph(source: Path, tmp_path: Path) -> None:
    dest = tmp_path / "xen"
    clone(str(source), "xen", dest, fake_closure())
    commit(source, "xen uses a new shared dir", {"shared/util.py": "u = 1\n", "drivers/xen/nova_xen/new.py": "n\n"})
    dirs = refresh(dest, fake_closure({"shared/util.py"}))
    assert "shared" in dirs
    assert {"shared/util.py", "drivers/xen/nova_xen/new.py"} <= _checked_out(dest)
    assert json.loads((dest / ".git" / "nova-split-sparse").read_text())["dirs"] == dirs


def test_refusals_are_one_line(source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x\n")
    with pytest.raises(ToolError, match="exists and is not empty"):
        clone(str(source), "xen", busy, fake_closure())
    with pytest.raises(ToolError, match=r"unknown subproject 'nope'; choose one of: hyperv, xen"):
        clone(str(source), "nope", tmp_path / "new", fake_closure())
    assert not (tmp_path / "new").exists()
    assert main(["--repo", str(source), "clone", "--refresh"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a nova-split closure clone" in err
