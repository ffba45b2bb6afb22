"""export against real git repositories."""

from pathlib import Path

import pytest

from nova_split_tools.errors import ToolError
from nova_split_tools.export_cmd import export
from nova_split_tools.repo_test import commit, git

PANTS_TOML = '[python.resolves]\ncommon = "nova-common/common.lock"\nxen = "drivers/xen/xen.lock"\n'


@pytest.fixture
def mono(tmp_path: Path) -> Path:
    root = tmp_path / "mono"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.invalid")
    git(root, "config", "user.name", "t")
    commit(root, "base", {"pants.toml": PANTS_TOML, "drivers/xen/a.py": "a\n", "nova-common/x.py": "x\n"})
    commit(root, "core only", {"nova-common/x.py": "x2\n"})
    commit(root, "xen work\n\nbody", {"drivers/xen/b.py": "b\n", "nova-common/x.py": "x3\n"})
    return root


def test_export_keeps_only_the_subprojects_commits_at_root_deterministically(mono: Path, tmp_path: Path) -> None:
    new = export(mono, "xen", tmp_path / "xen")
    assert [e.subject for e in new] == ["base", "xen work"]
    out = tmp_path / "xen"
    assert git(out, "ls-tree", "--name-only", "main") == "a.py\nb.py"
    assert git(out, "log", "-1", "--format=%an %ae%n%B", "main") == (
        f"t t@example.invalid\nxen work\n\nbody\n\nMonorepo-Commit: {git(mono, 'rev-parse', 'HEAD')}"
    )
    assert (out / "b.py").read_text() == "b\n"
    again = export(mono, "xen", tmp_path / "again")
    assert [e.commit for e in again] == [e.commit for e in new]  # same input, same ids


def test_reexport_appends_only_new_commits_and_dry_run_writes_nothing(mono: Path, tmp_path: Path) -> None:
    out = tmp_path / "xen"
    first = export(mono, "xen", out)
    assert export(mono, "xen", out) == []
    commit(mono, "more xen", {"drivers/xen/c.py": "c\n"})
    commit(mono, "core again", {"nova-common/x.py": "x4\n"})
    planned = export(mono, "xen", out, dry_run=True)
    assert [e.subject for e in planned] == ["more xen"]
    assert git(out, "rev-parse", "main") == first[-1].commit
    assert export(mono, "xen", out) == planned
    assert git(out, "rev-parse", "main~1") == first[-1].commit


def test_refuses_a_dest_that_is_not_a_previous_export(mono: Path, tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "f").write_text("f\n")
    with pytest.raises(ToolError, match="not empty and not a previous export of xen"):
        export(mono, "xen", busy)
    with pytest.raises(ToolError, match="unknown subproject 'nope'"):
        export(mono, "nope", tmp_path / "n")
