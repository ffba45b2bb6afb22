"""bench-export at a tiny scale on real git: behaviour, not timing."""

import json
from pathlib import Path

import pytest

from nova_split_tools.bench_export_cmd import _has_subtree
from nova_split_tools.cli import main
from nova_split_tools.export import check_export, export
from nova_split_tools.synthetic_history import SyntheticHistory
from nova_split_tools.testing.repos import commit, git, identify


def test_tiny_run_generates_exports_twice_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keep = tmp_path / "bench"
    assert main(["bench-export", "--commits", "300", "--new", "20", "--seed", "5", "--keep", str(keep)]) == 0
    out = capsys.readouterr().out
    mono, dest = keep / "monorepo", keep / "export-xen"
    assert git(mono, "rev-list", "--count", "HEAD") == "320"
    assert int(git(mono, "rev-list", "--count", "--merges", "HEAD")) > 0
    assert "R100\t" in git(mono, "log", "--format=", "-M", "--name-status", "--", "drivers/xen")
    # The first export, redone from the same seed, is where the kept export starts: the
    # incremental run appended to it and kept its ids.
    alone = tmp_path / "alone"
    SyntheticHistory(5, focus="xen").write(alone, 300)
    first = export(alone, "xen", tmp_path / "first")
    assert git(dest, "merge-base", first[-1].commit, "main") == first[-1].commit
    total = int(git(dest, "rev-list", "--count", "main"))
    assert total > len(first)
    assert f"export: {len(first)} commits, then +{total - len(first)} = {total} (first tip kept: True)" in out
    assert f"check: {total} exported commit(s) against their Monorepo-Commit's drivers/xen: 0 problem(s)" in out
    if _has_subtree():
        assert "git subtree split: " in out and "not available" not in out
    else:
        assert "git subtree split: not available" in out


def test_no_subtree_skips_the_split(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench-export", "--commits", "40", "--new", "5", "--driver", "ironic", "--no-subtree"]) == 0
    out = capsys.readouterr().out
    assert "git subtree split: skipped (--no-subtree)" in out and "ironic" in out


def test_json_is_one_document_with_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["bench-export", "--commits", "40", "--new", "5", "--driver", "xen", "--no-subtree", "--format", "json"]
    assert main(args) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)  # stdout holds the document only
    assert (doc["schema_version"], doc["command"], doc["driver"], doc["new"]) == (1, "bench-export", "xen", 5)
    assert doc["problems"] == [] and doc["first_tip_kept"] is True and doc["checked"] > 0
    assert doc["export_commits"]["total"] == doc["export_commits"]["first"] + doc["export_commits"]["new"]
    assert doc["seconds"]["subtree_split"] is None and doc["ratio_vs_subtree_split"]["first_export"] is None
    assert doc["monorepo_commits"]["after"] > doc["monorepo_commits"]["before"]
    assert "first export of xen ..." in captured.err  # the progress went to stderr


def test_check_allows_a_root_license_and_flags_a_wrong_tree(tmp_path: Path) -> None:
    mono, dest = tmp_path / "mono", tmp_path / "xen"
    SyntheticHistory(1).write(mono, 60)
    exported = export(mono, "xen", dest)
    assert check_export(mono, dest, "drivers/xen") == (len(exported), [])
    identify(dest)
    head = git(mono, "rev-parse", "HEAD")
    commit(dest, f"with a LICENSE\n\nMonorepo-Commit: {head}", {"LICENSE": "Apache\n"})
    assert check_export(mono, dest, "drivers/xen")[1] == []
    commit(dest, f"edited\n\nMonorepo-Commit: {head}", {"BUILD": "changed\n"})
    commit(dest, "no trailer", {"BUILD": "again\n"})
    count, problems = check_export(mono, dest, "drivers/xen")
    assert count == len(exported) + 2
    assert len(problems) == 2
    assert "no Monorepo-Commit trailer" in problems[0]
    assert "tree differs" in problems[1] and "\tBUILD" in problems[1]
    assert git(mono, "for-each-ref", "refs/nova-split-bench") == ""  # the scratch ref is gone


def test_refuses_a_busy_keep_dir_and_a_tiny_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "f").write_text("f\n")
    assert main(["bench-export", "--keep", str(tmp_path)]) == 2
    assert main(["bench-export", "--commits", "5"]) == 2
    err = capsys.readouterr().err
    assert "is not an empty directory; pass a new one" in err and "--commits must be at least 20" in err


def test_json_of_a_failed_check_is_on_stdout_before_the_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from nova_split_tools import bench_export_cmd
    from nova_split_tools.errors import CheckFailed

    def failing(_args: object, figures: dict[str, object]) -> int:
        figures["problems"] = ["a wrong tree"]
        print("the table, for people")
        raise CheckFailed("the export failed its check (1 problem(s), listed above)")

    monkeypatch.setattr(bench_export_cmd, "_run", failing)
    assert main(["bench-export", "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["problems"] == ["a wrong tree"]
    assert "the table, for people" in captured.err and captured.err.rstrip().endswith("listed above)")
