"""Releases against real git repositories: libvirt releases three times, xen once, nova-common twice.

The throwaway repository has the real layout in miniature (pants.toml resolves, subproject.toml,
towncrier.toml, changes/). The dependency closure is injected and the Pants steps are replaced
by a toolchain that records the calls and writes real wheels (METADATA is checked for real).
"""

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nova_split_tools.errors import CheckFailed, ToolError
from nova_split_tools.release import compute_plan, cut, find_subproject, read_meta
from nova_split_tools.repo import Repository
from nova_split_tools.testing.release_toolchain import DERIVED, Recorder, closure, release_repo
from nova_split_tools.testing.repos import commit, git


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return release_repo(tmp_path / "repo")


def release(
    root: Path, name: str, tools: Recorder, version: str | None = None, dry_run: bool = False, force: bool = False
) -> str:
    sub = find_subproject(root, name)
    result = cut(Repository(root), sub, closure, tools, root / "dist", version=version, dry_run=dry_run, force=force)
    return result.tag


def plan(root: Path, name: str) -> dict[str, Any]:
    return compute_plan(Repository(root), find_subproject(root, name), closure).to_json()


def tags(root: Path) -> list[str]:
    return git(root, "tag", "--list").split()


def state(root: Path) -> tuple[str, str, list[str]]:
    return git(root, "rev-parse", "HEAD"), git(root, "status", "--porcelain", "--untracked-files=all"), tags(root)


def test_three_libvirt_one_xen_two_nova_common_releases(root: Path) -> None:
    tools = Recorder()
    # libvirt 1: a feature -> minor.
    commit(
        root,
        "libvirt: serial console",
        {
            "drivers/libvirt/nova_libvirt/driver.py": "D = 2\n",
            "drivers/libvirt/changes/+console.feature.md": "Serial console output.\n",
        },
    )
    p = plan(root, "libvirt")
    assert (p["last_tag"], p["bump"], p["suggested_version"]) == (None, "minor", "1.1.0")
    assert release(root, "libvirt", tools) == "nova-libvirt-1.1.0"
    assert (
        "smoke",
        "libvirt",
        "nova_common-1.0.0-py3-none-any.whl",
        "nova_libvirt-1.1.0-py3-none-any.whl",
    ) in tools.calls

    # nova-common 1: a fix in a module libvirt does not use: not in libvirt's plan.
    commit(
        root,
        "core: xml escaping",
        {
            "nova-common/nova_common/xml.py": "XML = 2\n",
            "nova-common/changes/+xml.bugfix.md": "Escape XML attributes.\n",
        },
    )
    p = plan(root, "libvirt")
    assert (p["last_tag"], p["commits"], p["files"], p["fragments"]) == ("nova-libvirt-1.1.0", [], [], [])
    with pytest.raises(ToolError, match=r"^nothing to release in drivers/libvirt since nova-libvirt-1.1.0 .*--force"):
        release(root, "libvirt", tools)
    assert "nova-common/nova_common/xml.py" in plan(root, "xen")["files"]
    assert release(root, "nova-common", tools) == "nova-common-1.0.1"
    assert ("smoke", "fake", "nova_common-1.0.1-py3-none-any.whl") in tools.calls

    # xen 1: checked against the one tagged nova-common in its range: the wheel its cut kept.
    commit(root, "xen: fix", {"drivers/xen/nova_xen/driver.py": "D = 2\n", "drivers/xen/changes/7.bugfix.md": "Fix.\n"})
    tools.calls.clear()
    assert release(root, "xen", tools) == "nova-xen-1.0.1"
    assert not [c for c in tools.calls if c[0] == "package_at"], tools.calls
    assert ("smoke", "xen", "nova_common-1.0.1-py3-none-any.whl", "nova_xen-1.0.1-py3-none-any.whl") in tools.calls

    # nova-common 2: a change libvirt uses; it shows in libvirt's plan.
    commit(
        root,
        "core: api",
        {"nova-common/nova_common/api.py": "API = 2\n", "nova-common/changes/+api.feature.md": "New.\n"},
    )
    assert release(root, "nova-common", tools) == "nova-common-1.1.0"
    p = plan(root, "libvirt")
    assert p["files"] == ["nova-common/nova_common/api.py"]
    assert [c["subject"] for c in p["commits"]] == ["core: api"]

    # libvirt 2: breaking -> major; checked with the oldest and the newest nova-common in range.
    commit(root, "libvirt: drop option", {"drivers/libvirt/changes/+opt.breaking.md": "Drop the uri option.\n"})
    tools.calls.clear()
    # A clone that did not cut 1.0.1 itself (its kept wheel gone) builds it from the tag, once.
    for kept in (root / ".git/nova-split-release/tag-wheels").glob("nova-common-1.0.1-*"):
        shutil.rmtree(kept)
    assert release(root, "libvirt", tools) == "nova-libvirt-2.0.0"
    assert [c for c in tools.calls if c[0] == "package_at"] == [("package_at", "nova-common-1.0.1")]
    smoked = [c for c in tools.calls if c[0] == "smoke"]
    assert [c[2] for c in smoked] == ["nova-common-1.0.1.whl", "nova_common-1.1.0-py3-none-any.whl"], smoked
    assert [c[0] for c in tools.calls].count("smoke") == 2

    # libvirt 3 and xen: both pending at one commit, released one after the other.
    commit(root, "both", {"drivers/libvirt/changes/+a.bugfix.md": "A.\n", "drivers/xen/changes/+b.doc.md": "B.\n"})
    assert release(root, "libvirt", tools, version="2.0.1") == "nova-libvirt-2.0.1"
    assert plan(root, "xen")["suggested_version"] == "1.0.2"  # its own fragment is still pending

    assert sorted(tags(root)) == [
        "nova-common-1.0.1",
        "nova-common-1.1.0",
        "nova-libvirt-1.1.0",
        "nova-libvirt-2.0.0",
        "nova-libvirt-2.0.1",
        "nova-xen-1.0.1",
    ]
    for tag in tags(root):
        assert git(root, "cat-file", "-t", tag) == "tag"  # annotated
    assert read_meta(root, find_subproject(root, "libvirt")).version.public == "2.0.1"
    assert read_meta(root, find_subproject(root, "xen")).version.public == "1.0.1"
    assert read_meta(root, find_subproject(root, "nova-common")).version.public == "1.1.0"
    log = (root / "drivers/libvirt/CHANGELOG.md").read_text()
    heads = [line.split(" (")[0] for line in log.splitlines() if line.startswith("## ")]
    assert heads == ["## nova-libvirt 2.0.1", "## nova-libvirt 2.0.0", "## nova-libvirt 1.1.0"]
    assert "Drop the uri option." in log and "Serial console output." in log and "Escape XML" not in log
    assert "Escape XML attributes." in (root / "nova-common/CHANGELOG.md").read_text()
    assert not list((root / "drivers/libvirt/changes").glob("*.md"))[1:]  # only the README is left
    assert "nova-xen 1.0.1" in git(root, "tag", "-n5", "nova-xen-1.0.1")
    # The release commit touches only the subproject.
    assert set(git(root, "show", "--name-only", "--format=", "nova-xen-1.0.1^{commit}").split()) == {
        "drivers/xen/CHANGELOG.md",
        "drivers/xen/subproject.toml",
        "drivers/xen/changes/7.bugfix.md",
        f"drivers/xen/{DERIVED}",  # derived from the version: regenerated in the release commit
    }
    assert (root / f"drivers/xen/{DERIVED}").read_text() == "1.0.1\n"


def test_dry_run_changes_nothing(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit(root, "f", {"drivers/libvirt/changes/+x.feature.md": "X.\n"})
    before = state(root)
    tools = Recorder()
    release(root, "libvirt", tools, dry_run=True)
    assert state(root) == before and tools.calls == [("check_generated",)]  # read-only: it refuses stale files
    out = capsys.readouterr().out
    assert "1.0.0 -> 1.1.0" in out and "nova-libvirt-1.1.0" in out and "X." in out and "dry run" in out


@pytest.mark.parametrize(
    "setup, kwargs, message",
    [
        (
            lambda r: (r / "drivers/libvirt/x.py").write_text("x"),
            {},
            r"^the work tree has uncommitted changes \(drivers/libvirt/x.py\)",
        ),
        (
            lambda r: git(r, "tag", "-a", "nova-libvirt-1.0.1", "-m", "x"),
            {"version": "1.0.1"},
            r"^tag nova-libvirt-1.0.1 already exists",
        ),
        (lambda r: None, {"version": "1.0.0"}, r"^1.0.0 does not increase nova-libvirt's version 1.0.0"),
        (lambda r: None, {"version": "one"}, r"^--version 'one' is not a version"),
        (lambda r: None, {"version": "1.1.0+build.7"}, r"^--version '1.1.0\+build.7' has a local part \(\+build.7\)"),
        (
            lambda r: commit(
                r, "core 2", {"nova-common/subproject.toml": '[project]\nname = "nova-common"\nversion = "2.0.0"\n'}
            ),
            {},
            r"^nova-libvirt requires nova-common<2,>=1.0 but the tree has nova-common 2.0.0",
        ),
    ],
)
def test_refusals_change_nothing(
    root: Path, setup: Callable[[Path], object], kwargs: dict[str, Any], message: str
) -> None:
    commit(root, "f", {"drivers/libvirt/changes/+x.bugfix.md": "X.\n"})
    setup(root)
    before = state(root)
    tools = Recorder()
    with pytest.raises(ToolError, match=message):
        release(root, "libvirt", tools, **kwargs)
    assert state(root) == before and tools.calls == []


def test_nothing_to_release_unless_forced(root: Path) -> None:
    git(root, "tag", "-a", "nova-libvirt-1.0.0", "-m", "first")
    with pytest.raises(ToolError, match="^nothing to release"):
        release(root, "libvirt", Recorder())
    assert release(root, "libvirt", Recorder(), force=True) == "nova-libvirt-1.0.1"


def _assert_rolled_back(root: Path, before: tuple[str, str, list[str]]) -> None:
    assert state(root) == before
    assert (root / "drivers/libvirt/changes/+x.feature.md").read_text() == "X.\n"
    assert "1.1.0" not in (root / "drivers/libvirt/CHANGELOG.md").read_text()
    assert 'version = "1.0.0"' in (root / "drivers/libvirt/subproject.toml").read_text()


def test_failing_tests_refuse_and_roll_back(root: Path) -> None:
    commit(root, "f", {"drivers/libvirt/changes/+x.feature.md": "X.\n"})
    before = state(root)
    tools = Recorder()
    tools.fail_tests = True
    with pytest.raises(  # a failed check, not a tool that could not run: exit 1 (docs/cli.md)
        CheckFailed,
        match=r"^'./pants test drivers/libvirt::' failed \(x_test.py\); .* restored the state before the cut",
    ) as failed:
        release(root, "libvirt", tools)
    assert failed.value.exit_code == 1 and failed.value.details == ["x_test.py"]
    _assert_rolled_back(root, before)
    tools.fail_tests = False  # a rerun restarts cleanly
    assert release(root, "libvirt", tools) == "nova-libvirt-1.1.0"


def test_wheel_without_the_nova_common_range_refuses(root: Path) -> None:
    commit(root, "f", {"drivers/libvirt/changes/+x.feature.md": "X.\n"})
    before = state(root)
    tools = Recorder()
    tools.requires = "Requires-Dist: nova-common (>=1.0)"
    with pytest.raises(
        ToolError, match=r"lacks .Requires-Dist: nova-common<2,>=1.0.* restored the state before the cut"
    ):
        release(root, "libvirt", tools)
    _assert_rolled_back(root, before)


def test_a_stale_generated_file_refuses_before_anything_changes(root: Path) -> None:
    commit(root, "f", {"drivers/libvirt/changes/+x.feature.md": "X.\n", f"drivers/xen/{DERIVED}": "0.9\n"})
    before = state(root)
    with pytest.raises(CheckFailed, match=rf"^before the release: drivers/xen/{DERIVED} is stale"):
        release(root, "libvirt", Recorder())
    assert state(root) == before


def test_a_shallow_clone_is_refused_with_the_fetch_command(root: Path, tmp_path: Path) -> None:
    commit(root, "f", {"drivers/libvirt/changes/+x.feature.md": "X.\n"})
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth=1", f"file://{root}", str(shallow))
    with pytest.raises(
        ToolError, match=r"is a shallow clone; a release plans from the whole history: git fetch --unshallow$"
    ):
        release(shallow, "libvirt", Recorder())


def test_unknown_subproject_and_bad_fragment_are_one_line(root: Path) -> None:
    with pytest.raises(ToolError, match=r"^unknown subproject 'nova-x'; choose one of: nova-common, libvirt, xen$"):
        find_subproject(root, "nova-x")
    commit(root, "bad", {"drivers/xen/changes/oops.txt": "?\n"})
    with pytest.raises(ToolError, match=r"^drivers/xen/changes/oops.txt is not a fragment: name it <id>.<category>.md"):
        plan(root, "xen")


def test_plan_command_json(root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from nova_split_tools import cli, release_cmd

    monkeypatch.setattr(release_cmd, "load_graph", lambda *a, **k: type("G", (), {"closure": staticmethod(closure)})())
    commit(root, "core", {"nova-common/nova_common/compute.py": "C = 2\n"})
    assert cli.main(["--repo", str(root), "release", "plan", "libvirt", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["distribution"] == "nova-libvirt" and "nova-common/nova_common/compute.py" not in out["files"]
    assert subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout == ""


def test_plan_names_an_interrupted_cut(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from nova_split_tools import cli, release_cmd
    from nova_split_tools.release_state import CutState, StateDir

    monkeypatch.setattr(release_cmd, "load_graph", lambda *a, **k: type("G", (), {"closure": staticmethod(closure)})())
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
    StateDir(root).save(
        CutState(
            subproject="libvirt",
            path="drivers/libvirt",
            distribution="nova-libvirt",
            version="1.1.0",
            tag="nova-libvirt-1.1.0",
            start=head,
            branch="refs/heads/main",
            had_changelog=True,
            step="test",
            done=False,
        )
    )
    assert cli.main(["--repo", str(root), "release", "plan", "libvirt", "--format", "json"]) == 0
    pending = json.loads(capsys.readouterr().out)["pending_cut"]
    assert "nova-libvirt 1.1.0" in pending and "release cut libvirt --continue" in pending, pending
    assert cli.main(["--repo", str(root), "release", "plan", "libvirt"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("note: a release cut of nova-libvirt 1.1.0"), err
    StateDir(root).clear()
    assert cli.main(["--repo", str(root), "release", "plan", "libvirt", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["pending_cut"] is None


def test_a_state_dir_the_machine_refuses_is_one_line(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from nova_split_tools import cli

    (root / ".git/nova-split-release").write_text("not a directory\n")
    assert cli.main(["--repo", str(root), "release", "cut", "libvirt", "--abort"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("nova-split release: error: Not a directory: "), err
