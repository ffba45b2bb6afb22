"""export against real git repositories with realistic history, checked with git itself."""

from pathlib import Path

import pytest

from nova_split_tools.errors import ToolError
from nova_split_tools.export import SNAPSHOT, export
from nova_split_tools.export_history import Snapshot, rewrite
from nova_split_tools.git_objects import add_trailer, strip_export_trailer
from nova_split_tools.testing.repos import commit, git, identify, new_repo

PANTS_TOML = (
    '[python.resolves]\ncommon = "nova-common/common.lock"\nxen = "drivers/xen/xen.lock"\n'
    'vmware = "drivers/vmware/vmware.lock"\n'
)


def merge(root: Path, branch: str, message: str) -> str:
    git(root, "merge", "-q", "--no-ff", "-m", message, branch)
    return git(root, "rev-parse", "HEAD")


@pytest.fixture
def mono(tmp_path: Path) -> Path:
    """A monorepo whose xen history has renames, a cross-subproject commit and two kinds of merges."""
    root = new_repo(tmp_path / "mono")
    files = {"pants.toml": PANTS_TOML, "LICENSE": "Apache\n", "drivers/xen/a.py": "a\n", "nova-common/x.py": "x\n"}
    commit(root, "base", {**files, "drivers/vmware/v.py": "v\n"})
    commit(root, "core only", {"nova-common/x.py": "x2\n"})
    commit(root, "xen and core\n\nbody", {"drivers/xen/b.py": "b\n", "nova-common/x.py": "x3\n"})
    git(root, "mv", "drivers/xen/a.py", "drivers/xen/renamed.py")
    git(root, "commit", "-qm", "rename in xen")
    # A side branch that touches xen, merged while main also changed xen: the merge is kept.
    git(root, "checkout", "-q", "-b", "side")
    commit(root, "xen on a branch", {"drivers/xen/side.py": "s\n"})
    git(root, "checkout", "-q", "main")
    commit(root, "xen on main", {"drivers/xen/b.py": "b2\n"})
    merge(root, "side", "merge side")
    # A branch that never touches xen: its merge is not in the export.
    git(root, "checkout", "-q", "-b", "vmware-work")
    commit(root, "vmware only", {"drivers/vmware/v.py": "v2\n"})
    git(root, "checkout", "-q", "main")
    merge(root, "vmware-work", "merge vmware work")
    # A branch whose xen change the merge discards (-s ours): git log's default simplification
    # hides the branch; the export keeps its commit and the merge, like --full-history.
    git(root, "checkout", "-q", "-b", "discarded")
    commit(root, "xen change dropped at merge", {"drivers/xen/dropped.py": "d\n"})
    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "-s", "ours", "-m", "merge discarded", "discarded")
    # A file moved from another subproject into xen: a change to xen.
    git(root, "mv", "drivers/vmware/v.py", "drivers/xen/moved.py")
    git(root, "commit", "-qm", "move a file from vmware into xen")
    return root


def test_export_has_exactly_the_commits_git_log_shows_for_the_driver_and_license(mono: Path, tmp_path: Path) -> None:
    out = tmp_path / "xen"
    new = export(mono, "xen", out)
    selection = ["--full-history", "--simplify-merges", "HEAD", "--", "drivers/xen", "LICENSE"]
    assert sorted(e.monorepo_commit for e in new) == sorted(git(mono, "rev-list", *selection).split())
    default = set(git(mono, "rev-list", "HEAD", "--", "drivers/xen", "LICENSE").split())
    assert {e.subject for e in new if e.monorepo_commit not in default} == {
        "xen change dropped at merge",
        "merge discarded",
    }
    assert "core only" not in [e.subject for e in new] and "merge vmware work" not in [e.subject for e in new]
    # Every export commit's tree is the driver's directory at that monorepo commit, plus LICENSE.
    for line in filter(None, git(out, "log", "--format=%H %(trailers:key=Monorepo-Commit,valueonly)").splitlines()):
        exported, original = line.split()
        assert git(out, "rev-parse", f"{exported}:LICENSE") == git(mono, "rev-parse", f"{original}:LICENSE")
        listed = git(out, "ls-tree", "-r", exported).splitlines()
        assert [x for x in listed if not x.endswith("\tLICENSE")] == git(
            mono, "ls-tree", "-r", f"{original}:drivers/xen"
        ).splitlines()
    # The merge that touched xen on both sides is a merge in the export, with both sides' images.
    merged = git(out, "log", "--merges", "--format=%s|%P", "main").splitlines()
    assert [m.split("|")[0] for m in merged] == ["merge side"]
    assert sorted(git(out, "log", "-1", "--format=%s", p) for p in merged[0].split("|")[1].split()) == [
        "xen on a branch",
        "xen on main",
    ]
    # The discarding merge's only new parent is the branch (main's side is its ancestor): it is a
    # commit after the branch's that takes the change back out.
    dropped = git(out, "log", "--format=%H", "--grep=^merge discarded$", "main")
    assert git(out, "log", "-1", "--format=%s", f"{dropped}^@") == "xen change dropped at merge"
    assert git(out, "diff-tree", "-r", "--name-status", "--no-commit-id", dropped) == "D\tdropped.py"
    # Renames are visible to git in the export.
    assert "renamed.py" in git(out, "log", "--follow", "--name-only", "--format=", "--", "renamed.py")
    assert git(out, "log", "--follow", "--format=%s", "--", "renamed.py").splitlines()[-1] == "base"
    assert sorted(git(out, "ls-tree", "--name-only", "main").split()) == [
        "LICENSE",
        "b.py",
        "moved.py",
        "renamed.py",
        "side.py",
    ]
    assert git(out, "status", "--porcelain") == ""  # the work tree is checked out at main


def test_authorship_dates_and_message_are_kept_with_a_trailer(mono: Path, tmp_path: Path) -> None:
    out = tmp_path / "xen"
    git(mono, "-c", "user.name=Ada", "-c", "user.email=ada@example.invalid", "commit", "-q", "--allow-empty", "-m", "x")
    commit(mono, "xen fix\n\nWhy it matters.\n\nCloses-Bug: #1", {"drivers/xen/b.py": "fixed\n"})
    git(
        mono,
        "commit",
        "-q",
        "--amend",
        "--no-edit",
        "--author=Grace <grace@example.invalid>",
        "--date=2014-05-01T10:00:00",
    )
    export(mono, "xen", out)
    head = git(mono, "rev-parse", "HEAD")
    fmt = "%an|%ae|%ad|%cn|%ce|%cd"
    assert git(out, "log", "-1", f"--format={fmt}", "main") == git(mono, "log", "-1", f"--format={fmt}", head)
    assert git(out, "log", "-1", "--format=%B", "main") == (
        f"xen fix\n\nWhy it matters.\n\nCloses-Bug: #1\nMonorepo-Commit: {head}"
    )


def test_same_history_same_ids_and_incremental_equals_from_scratch(mono: Path, tmp_path: Path) -> None:
    first = export(mono, "xen", tmp_path / "one")
    assert [e.commit for e in export(mono, "xen", tmp_path / "two")] == [e.commit for e in first]
    commit(mono, "more xen", {"drivers/xen/c.py": "c\n"})
    git(mono, "checkout", "-q", "-b", "late", "HEAD~1")
    commit(mono, "late xen branch", {"drivers/xen/d.py": "d\n"})
    git(mono, "checkout", "-q", "main")
    merge(mono, "late", "merge late branch")
    commit(mono, "core again", {"nova-common/x.py": "x4\n"})
    appended = export(mono, "xen", tmp_path / "one")
    assert [e.subject for e in appended] == ["more xen", "late xen branch", "merge late branch"]
    assert export(mono, "xen", tmp_path / "one") == []
    # Every earlier id is still on main, and a fresh export of the same history is identical.
    assert all(git(tmp_path / "one", "merge-base", "--is-ancestor", e.commit, "main") == "" for e in first)
    export(mono, "xen", tmp_path / "fresh")
    assert git(tmp_path / "fresh", "rev-parse", "main") == git(tmp_path / "one", "rev-parse", "main")


def test_reexport_into_a_clone_of_the_export_and_dry_run_writes_nothing(mono: Path, tmp_path: Path) -> None:
    out = tmp_path / "xen"
    first = export(mono, "xen", out)
    team = tmp_path / "team"
    git(tmp_path, "clone", "-q", str(out), str(team))  # the driver team's copy: no export config in it
    commit(mono, "more xen", {"drivers/xen/c.py": "c\n"})
    planned = export(mono, "xen", team, dry_run=True)
    assert [e.subject for e in planned] == ["more xen"]
    assert git(team, "rev-parse", "main") == first[-1].commit
    assert export(mono, "xen", team) == planned
    assert git(team, "rev-parse", "main~1") == first[-1].commit
    assert (team / "c.py").read_text() == "c\n"


def test_refusals_are_one_line_and_touch_nothing(mono: Path, tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "f").write_text("f\n")
    with pytest.raises(ToolError, match="not empty and not a previous export of xen"):
        export(mono, "xen", busy)
    assert [p.name for p in busy.iterdir()] == ["f"]
    other = new_repo(tmp_path / "other-repo")
    commit(other, "unrelated", {"f": "f\n"})
    with pytest.raises(ToolError, match="not empty and not a previous export of xen"):
        export(mono, "xen", other)
    with pytest.raises(ToolError, match="drivers/vmware does not exist at HEAD: nothing to export"):
        export(mono, "vmware", tmp_path / "vmware")  # its last file moved into xen
    export(mono, "vmware", tmp_path / "vmware", rev="HEAD~1")
    with pytest.raises(ToolError, match="not empty and not a previous export of xen"):
        export(mono, "xen", tmp_path / "vmware")  # another driver's export
    with pytest.raises(ToolError, match="unknown subproject 'nope'; choose one of: vmware, xen"):
        export(mono, "nope", tmp_path / "n")
    out = tmp_path / "xen"
    export(mono, "xen", out)
    identify(out)
    (out / "b.py").write_text("local edit\n")
    commit(mono, "more xen", {"drivers/xen/c.py": "c\n"})
    with pytest.raises(ToolError, match="uncommitted changes"):
        export(mono, "xen", out)
    git(out, "checkout", "-q", "--", "b.py")
    commit(out, "a team commit", {"team.py": "t\n"})
    tip = git(out, "rev-parse", "main")
    with pytest.raises(
        ToolError, match=r"commits that are not in the monorepo: bring them back with `nova-split import"
    ):
        export(mono, "xen", out)
    assert git(out, "rev-parse", "main") == tip
    with pytest.raises(ToolError, match="unknown revision 'no-such-rev'"):
        export(mono, "xen", tmp_path / "n", rev="no-such-rev")
    assert not (tmp_path / "n").exists()


def test_trailer_round_trip_of_messages() -> None:
    for message in [b"subject\n", b"subject\n\nbody\n", b"subject\n\nbody\n\nSigned-off-by: a <a@b>\n", b""]:
        added = add_trailer(message, "Export-Commit", "e" * 40)
        assert added.endswith(b"Export-Commit: " + b"e" * 40 + b"\n")
        assert strip_export_trailer(added) == (message, "e" * 40)
    assert add_trailer(b"subject\n\nKey: v\n", "K", "w") == b"subject\n\nKey: v\nK: w\n"
    assert add_trailer(b"subject\n\nnot a trailer\n", "K", "w") == b"subject\n\nnot a trailer\n\nK: w\n"
    assert strip_export_trailer(b"subject\n") is None


def test_rewrite_of_a_revision_without_the_driver_has_no_head(mono: Path) -> None:
    first = git(mono, "rev-list", "--max-parents=0", "HEAD")
    assert rewrite(mono, "drivers/nothing-here", first).head is None
    assert rewrite(mono, "drivers/xen", first).head is not None


def test_a_shallow_clone_is_refused_rather_than_exported_with_other_ids(mono: Path, tmp_path: Path) -> None:
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth=1", f"file://{mono}", str(shallow))
    with pytest.raises(
        ToolError, match="is a shallow clone; the export needs the whole history: git fetch --unshallow"
    ):
        export(shallow, "xen", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_snapshot_spares_reading_old_history_and_changes_no_id(mono: Path, tmp_path: Path) -> None:
    out = tmp_path / "xen"
    export(mono, "xen", out)
    file = Path(git(out, "rev-parse", "--absolute-git-dir")) / SNAPSHOT
    commit(mono, "more xen", {"drivers/xen/c.py": "c\n"})
    commit(mono, "core again", {"nova-common/x.py": "x4\n"})
    since = Snapshot.load(file, "drivers/xen")
    assert since is not None
    quick, full = rewrite(mono, "drivers/xen", "HEAD", since), rewrite(mono, "drivers/xen", "HEAD")
    assert (quick.walked, full.walked) == (2, int(git(mono, "rev-list", "--count", "HEAD")))
    assert [c.commit for c in quick.commits] == [c.commit for c in full.commits] and quick.head == full.head
    # Another path's or an unreadable snapshot is not used; the export still works, reading everything.
    assert Snapshot.load(file, "drivers/vmware") is None
    file.write_text("{not json")
    assert Snapshot.load(file, "drivers/xen") is None
    assert [e.subject for e in export(mono, "xen", out)] == ["more xen"]
    # A snapshot of a revision that is no longer in the history (rewritten) is not used either.
    git(mono, "reset", "-q", "--hard", "HEAD~2")
    commit(mono, "other xen", {"drivers/xen/d.py": "d\n"})
    stale = Snapshot.load(file, "drivers/xen")
    assert stale is not None
    assert rewrite(mono, "drivers/xen", "HEAD", stale).walked == int(git(mono, "rev-list", "--count", "HEAD"))
