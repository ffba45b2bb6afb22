"""The synthetic history on real git: deterministic, and the commit mix the export benchmark needs."""

import tomllib
from pathlib import Path

from nova_split_tools.synthetic_history import DRIVERS, SyntheticHistory
from nova_split_tools.testing.repos import git


def _both_sides_touched(root: Path, merge: str, path: str) -> bool:
    base = git(root, "merge-base", f"{merge}^1", f"{merge}^2")
    return all(git(root, "rev-list", "-1", f"{base}..{merge}^{side}", "--", path) for side in (1, 2))


def test_same_seed_same_history_and_a_second_write_appends(tmp_path: Path) -> None:
    a, b = SyntheticHistory(7), SyntheticHistory(7)
    a.write(tmp_path / "a", 200)
    b.write(tmp_path / "b", 200)
    assert git(tmp_path / "a", "rev-parse", "HEAD") == git(tmp_path / "b", "rev-parse", "HEAD")
    tip = git(tmp_path / "a", "rev-parse", "HEAD")
    a.write(tmp_path / "a", 30)
    assert git(tmp_path / "a", "rev-list", "--count", "HEAD") == "230"
    assert git(tmp_path / "a", "rev-list", "--count", f"{tip}..HEAD") == "30"
    assert git(tmp_path / "a", "for-each-ref", "--format=%(refname)") == "refs/heads/main"  # topics deleted
    assert git(tmp_path / "a", "status", "--porcelain") == ""  # checked out at the tip


def test_history_has_merges_renames_moves_and_deletions(tmp_path: Path) -> None:
    root = tmp_path / "mono"
    SyntheticHistory(3, focus="xen").write(root, 400)
    assert git(root, "rev-list", "--count", "HEAD") == "400"
    resolves = tomllib.loads((root / "pants.toml").read_text())["python"]["resolves"]
    assert resolves == {"common": "nova-common/common.lock", **{d: f"drivers/{d}/{d}.lock" for d in DRIVERS}}
    merges = git(root, "rev-list", "--merges", "HEAD").split()
    assert len(merges) >= 5
    assert any(_both_sides_touched(root, m, "drivers/xen") for m in merges)
    renames = [line.split("\t")[1:] for line in git(root, "log", "--format=", "-M", "--name-status").splitlines()]
    renames = [r for r in renames if len(r) == 2]
    owner = [(old.split("/")[:2] == new.split("/")[:2]) for old, new in renames]
    assert True in owner and False in owner  # within a subproject and across subprojects
    assert git(root, "log", "--format=%H", "--diff-filter=D", "-1", "--", "drivers/")
    authors = set(git(root, "log", "--format=%an", "HEAD").splitlines())
    assert 2 < len(authors) <= 8
    for d in DRIVERS:
        assert (root / f"drivers/{d}/BUILD").exists()
