"""Repository against real git repositories built in the test."""

from pathlib import Path

import pytest

from nova_split_tools.errors import ToolError
from nova_split_tools.repo import Change, Repository
from nova_split_tools.testing.repos import commit, git, new_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = new_repo(tmp_path / "repo")
    commit(root, "base", {"a.py": "a = 1\n" * 20, "b.py": "b = 2\n", "docs/x.md": "x\n"})
    return root


def test_changes_report_added_modified_deleted_and_renamed(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "mv", "a.py", "moved.py")
    commit(repo, "work", {"b.py": "b = 3\n", "c.py": "c = 1\n", "docs/x.md": None})
    assert Repository(repo).changes(base, "HEAD") == [
        Change("b.py", "M"),
        Change("c.py", "A"),
        Change("docs/x.md", "D"),
        Change("moved.py", "R", old_path="a.py"),
    ]


def test_default_base_is_the_merge_base_with_main(repo: Path) -> None:
    fork = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-qb", "topic")
    commit(repo, "topic work", {"c.py": "c\n"})
    git(repo, "checkout", "-q", "main")
    commit(repo, "main moves on", {"d.py": "d\n"})
    git(repo, "checkout", "-q", "topic")
    r = Repository(repo)
    assert r.default_base() == fork
    assert [c.path for c in r.changes(r.default_base(), "HEAD")] == ["c.py"]


@pytest.mark.parametrize(
    ("rev", "message"),
    [
        ("no-such-branch", r"^unknown revision 'no-such-branch'$"),
        ("main:", r"^'main:' names a tree, not a commit"),  # git's syntax for a tree, not GitPython's KeyError
        ("HEAD:docs", r"^'HEAD:docs' names a tree, not a commit"),
        ("HEAD:b.py", r"^'HEAD:b.py' names a blob, not a commit"),
        ("main^{tree}", r"names a tree, not a commit"),
        ("HEAD:nothing", r"^unknown revision 'HEAD:nothing'$"),
        ("--all", r"^unknown revision '--all'$"),  # an option, not a revision
        ("", r"^unknown revision ''$"),
    ],
)
def test_unknown_revision_is_one_clear_line(repo: Path, rev: str, message: str) -> None:
    with pytest.raises(ToolError, match=message):
        Repository(repo).resolve(rev)


def test_revisions_resolve_as_git_resolves_them(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    commit(repo, "second", {"b.py": "b = 3\n"})
    git(repo, "tag", "-a", "v1", "-m", "v1")  # an annotated tag: its commit, not the tag object
    r = Repository(repo)
    assert r.resolve("HEAD~1") == r.resolve("main^") == r.resolve(first[:7]) == first
    assert r.resolve("v1") == r.resolve("HEAD") == git(repo, "rev-parse", "HEAD")
    assert r.resolve(":/second") == r.resolve("HEAD@{0}") == r.resolve("HEAD")  # a message search, the reflog
    assert r.resolve(":/base") == first
    tree = git(repo, "rev-parse", "HEAD^{tree}")
    git(repo, "tag", "-a", "tree-tag", "-m", "a tag of a tree", tree)
    with pytest.raises(ToolError, match=r"^'tree-tag' names a tree, not a commit"):
        r.resolve("tree-tag")


def test_shallow_clone_without_the_merge_base_says_how_much_to_fetch(repo: Path, tmp_path: Path) -> None:
    for i in range(3):
        commit(repo, f"c{i}", {"b.py": f"b = {i}\n"})
    git(repo, "checkout", "-qb", "topic", "HEAD~3")
    commit(repo, "topic", {"t.py": "t\n"})
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth=1", "--no-single-branch", f"file://{repo}", str(shallow))
    r = Repository(shallow)
    assert r.is_shallow
    with pytest.raises(ToolError, match="shallow clone; fetch more history .*--deepen"):
        r.merge_base("origin/main", "origin/topic")
    with pytest.raises(ToolError, match="shallow clone may lack it"):
        r.resolve("HEAD~5")
    # the parent a shallow commit records but the clone lacks is named as given, not as its id
    with pytest.raises(ToolError, match=r"^unknown revision 'HEAD~1' \(a shallow clone may lack it"):
        r.resolve("HEAD~1")


def test_dirty_paths_lists_modified_staged_and_untracked(repo: Path) -> None:
    assert Repository(repo).dirty_paths() == []
    (repo / "b.py").write_text("changed\n")
    (repo / "new.py").write_text("new\n")
    (repo / "c.py").write_text("staged\n")
    git(repo, "add", "c.py")
    assert Repository(repo).dirty_paths() == ["b.py", "c.py", "new.py"]


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="is not inside a git repository"):
        Repository(tmp_path)
