"""Ranges mean the changes on B since it left A (merge base), in real git repositories."""

import subprocess
from pathlib import Path

import pytest

from nova_split_tools.changes import parse_range, read_paths, texts_between, unquote_git_path
from nova_split_tools.errors import ToolError
from nova_split_tools.repo import Change, Repository
from nova_split_tools.testing.repos import commit, git, new_repo


@pytest.fixture
def behind(tmp_path: Path) -> Repository:
    """main: a, b (b newer than the branch); branch: a, c — the branch is behind main."""
    root = new_repo(tmp_path / "r")
    commit(root, "a", {"a.txt": "a"})
    git(root, "checkout", "-q", "-b", "branch")
    commit(root, "c", {"c.txt": "c"})
    git(root, "checkout", "-q", "main")
    commit(root, "b", {"b.txt": "b"})
    git(root, "checkout", "-q", "branch")
    return Repository(root)


@pytest.mark.parametrize("spec", ["main..branch", "main...branch", "main..HEAD", "main"])
def test_a_branch_behind_main_is_charged_only_with_its_own_changes(behind: Repository, spec: str) -> None:
    base, head = parse_range(behind, spec)
    assert base == behind.merge_base("main", "branch")
    assert head is None  # branch is HEAD: the work tree
    assert [c.path for c in behind.changes(base, head or "HEAD")] == ["c.txt"]


def test_a_head_other_than_the_checkout(behind: Repository) -> None:
    git(behind.root, "checkout", "-q", "main")
    base, head = parse_range(behind, "main..branch")
    assert head == behind.resolve("branch")
    assert [c.path for c in behind.changes(base, head)] == ["c.txt"]
    # the other way round: main's own change since it left the branch
    base, head = parse_range(behind, "branch..main")
    assert head is None and [c.path for c in behind.changes(base, "HEAD")] == ["b.txt"]


@pytest.mark.parametrize(
    "spec,message",
    [("nope..branch", "unknown revision 'nope'"), ("main..nope", "unknown revision 'nope'"), ("..main", "has no base")],
)
def test_bad_ranges_are_one_line_errors(behind: Repository, spec: str, message: str) -> None:
    with pytest.raises(ToolError, match=message):
        parse_range(behind, spec)


def test_unrelated_histories_have_no_merge_base(behind: Repository) -> None:
    git(behind.root, "checkout", "-q", "--orphan", "other")
    commit(behind.root, "x", {"x.txt": "x"})
    with pytest.raises(ToolError, match="no common ancestor"):
        parse_range(behind, "main..other")


def test_texts_between_reads_both_sides(behind: Repository) -> None:
    base = behind.resolve("main")
    (behind.root / "c.txt").write_text("c2")
    texts = texts_between(behind, base, None)
    assert texts("c.txt") == (None, "c2") and texts("b.txt") == ("b", None) and texts("a.txt") == ("a", "a")
    at_head = texts_between(behind, base, behind.resolve("HEAD"))
    assert at_head("c.txt") == (None, "c")


def test_paths_git_quotes_are_read_as_the_paths_themselves(tmp_path: Path) -> None:
    """``git diff --name-only | nova-split plan --paths-from -``: git quotes non-ASCII and control
    characters (core.quotePath), and the plan must see the files, not their quoted names."""
    root = new_repo(tmp_path / "repo")
    names = ["plain.py", "café.py", "tab\tname.py", 'say "hi".py', "back\\slash.py"]
    commit(root, "base", {n: "a\n" for n in names})
    commit(root, "change", {n: "b\n" for n in names[:-1]} | {names[-1]: None})
    listed = git(root, "diff", "--name-only", "HEAD~1", "HEAD")
    assert '"caf\\303\\251.py"' in listed.splitlines()  # what git really prints
    (tmp_path / "paths").write_text(listed + "\n")
    changes = read_paths(root, str(tmp_path / "paths"))
    assert sorted((c.path, c.status) for c in changes) == sorted([(n, "M") for n in names[:-1]] + [(names[-1], "D")])


def test_a_file_named_with_quotes_is_taken_as_it_is(tmp_path: Path) -> None:
    root = new_repo(tmp_path / "repo")
    commit(root, "base", {'"quoted".py': "a\n"})
    (tmp_path / "paths").write_text('"quoted".py\n"quoted.py"\n')
    assert [c.path for c in read_paths(root, str(tmp_path / "paths"))] == ['"quoted".py', "quoted.py"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('"a\\qb.py"', "stray backslash"),
        ('"\\377.py"', "not UTF-8"),
        ('"a\\"', "stray backslash"),
        ('"\\777.py"', "stray backslash"),  # no byte: git writes \000 to \377
        ('"a"b"', "quote inside it is not escaped"),
    ],
)
def test_a_bad_quoted_path_is_one_line(line: str, message: str) -> None:
    with pytest.raises(ToolError, match=message):
        unquote_git_path(line)


def test_git_status_porcelain_renames_list_both_paths(tmp_path: Path) -> None:
    """The hint ``git status --porcelain | cut -c4-`` prints a rename as ``old -> new`` (each side
    quoted where git quotes it): both paths changed, the old one deleted."""
    root = new_repo(tmp_path / "repo")
    commit(root, "base", {"café.py": "a\n", "b.py": "b\n", "keep.py": "k\n"})
    git(root, "mv", "café.py", "renamed.py")
    git(root, "mv", "b.py", "é.py")
    (root / "keep.py").write_text("changed\n")
    status = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True)
    listed = "\n".join(line[3:] for line in status.stdout.splitlines())  # cut -c4-
    assert '"caf\\303\\251.py" -> renamed.py' in listed.splitlines()
    (tmp_path / "paths").write_text(listed + "\n")
    assert sorted((c.path, c.status) for c in read_paths(root, str(tmp_path / "paths"))) == [
        ("b.py", "D"),
        ("café.py", "D"),
        ("keep.py", "M"),
        ("renamed.py", "M"),
        ("é.py", "M"),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "listed no paths"),
        (".", "names the repository itself"),
        ('"a\\000.py"', "NUL byte"),
        ("pkg", "pkg: a directory; list the files that changed in it"),  # not a file no target owns
        ("pkg/", "a directory"),
    ],
)
def test_lines_that_name_no_file_are_one_line_errors(tmp_path: Path, line: str, message: str) -> None:
    root = new_repo(tmp_path / "repo")
    commit(root, "base", {"a.py": "a\n", "pkg/b.py": "b\n"})
    (tmp_path / "paths").write_text(line + "\n")
    with pytest.raises(ToolError, match=message):
        read_paths(root, str(tmp_path / "paths"))


def test_a_paths_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    root = new_repo(tmp_path / "repo")
    commit(root, "base", {"a.py": "a\n"})
    (tmp_path / "paths").write_bytes(b"caf\xe9.py\n")
    with pytest.raises(ToolError, match=r"--paths-from .*paths is not UTF-8 text"):
        read_paths(root, str(tmp_path / "paths"))


def test_a_symlink_is_the_changed_file_itself(tmp_path: Path) -> None:
    """git stores a symlink as a file: a listed one is that path, whatever it points to."""
    root = new_repo(tmp_path / "repo")
    commit(root, "base", {"a.py": "a\n", "pkg/b.py": "b\n"})
    (root / "to-pkg").symlink_to("pkg")  # to a directory: not refused as one, not planned as pkg
    (root / "to-a").symlink_to("a.py")
    (root / "dangling").symlink_to("nowhere")
    (root / "outside").symlink_to(tmp_path)
    (tmp_path / "paths").write_text("to-pkg\nto-a\ndangling\noutside\n")
    assert read_paths(root, str(tmp_path / "paths")) == [
        Change("to-pkg", "M"),
        Change("to-a", "M"),
        Change("dangling", "M"),
        Change("outside", "M"),
    ]
