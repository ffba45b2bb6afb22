"""Generated files are replaced atomically: a write killed halfway leaves the old file and a temporary
sibling that no ``--check`` candidates glob picks up and the next run removes."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from nova_split_tools.ci_jobs import HEADER
from nova_split_tools.errors import CheckFailed
from nova_split_tools.generated import TEMP_SUFFIX, sync_generated, write_atomically
from nova_split_tools.generators import ci_config_candidates
from nova_split_tools.testing.interrupt import killed_mid_write

WORKFLOW = ".github/workflows/driver-xen.yml"
ZUUL = "zuul.d/nova-split.yaml"
#: What `nova-split ci-config` wrote before, and what it writes now (both start with its header).
OLD = {WORKFLOW: HEADER + "name: driver-xen\n", ZUUL: HEADER + "- job: {name: nova-split-xen}\n"}
NEW = {rel: text + "# " + "a longer rendering, " * 400 + "\n" for rel, text in OLD.items()}
LIMIT = 4096  # bytes a file may have in the killed child; each NEW text is longer

# The child: write_atomically, as sync_generated calls it, on each file in turn.
WRITE = """
import sys
from pathlib import Path
from nova_split_tools.generated import write_atomically
root, rels, text = Path(sys.argv[1]), sys.argv[2].split(","), sys.argv[3]
for rel in rels:
    write_atomically(root / rel, text)
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for rel, text in OLD.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def kill_writes(root: Path) -> list[Path]:
    """Kill one child halfway through writing each generated file; the temporary files left."""
    for rel in OLD:
        proc = killed_mid_write(["-c", WRITE, str(root), rel, NEW[rel]], root, LIMIT)
        assert proc.returncode == -signal.SIGXFSZ, proc
    return sorted(root.rglob(f"*{TEMP_SUFFIX}"))


def test_a_killed_write_leaves_the_old_file_whole(root: Path) -> None:
    leftovers = kill_writes(root)
    assert {rel: (root / rel).read_text() for rel in OLD} == OLD
    # Each killed write left its temporary file, cut at the limit, beside the file it was replacing.
    assert [(p.parent, p.stat().st_size) for p in leftovers] == [
        (root / ".github/workflows", LIMIT),
        (root / "zuul.d", LIMIT),
    ], leftovers
    assert all(p.read_text().startswith(HEADER) for p in leftovers)


def test_a_leftover_is_no_candidate_and_the_next_run_removes_it(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leftovers = kill_writes(root)
    # It starts with ci-config's header, yet ci-config's candidates never include it...
    assert ci_config_candidates(root) == [root / WORKFLOW, root / ZUUL]
    # ...so --check sees the old files as stale and nothing else, and (writing nothing) keeps it.
    with pytest.raises(CheckFailed) as failed:
        sync_generated(root, NEW, header=HEADER, candidates=ci_config_candidates(root), check=True, command="x ci")
    assert sorted(failed.value.details) == sorted(NEW)
    assert TEMP_SUFFIX not in capsys.readouterr().out and all(p.exists() for p in leftovers)
    # The next run writes the files, removes the leftovers (not as generated files), and --check passes.
    sync_generated(root, NEW, header=HEADER, candidates=ci_config_candidates(root), check=False, command="x ci")
    out = capsys.readouterr().out
    for p in leftovers:
        assert f"removed {p.relative_to(root).as_posix()} (left by an interrupted run)\n" in out, out
    assert "no longer generated" not in out
    assert not list(root.rglob(f"*{TEMP_SUFFIX}")) and {rel: (root / rel).read_text() for rel in NEW} == NEW
    sync_generated(root, NEW, header=HEADER, candidates=ci_config_candidates(root), check=True, command="x ci")
    assert "ci: 2 generated file(s) are current\n" == capsys.readouterr().out


def test_the_mode_of_the_replaced_file_is_kept(root: Path) -> None:
    (root / WORKFLOW).chmod(0o751)
    write_atomically(root / WORKFLOW, NEW[WORKFLOW])
    assert (root / WORKFLOW).stat().st_mode & 0o7777 == 0o751 and (root / WORKFLOW).read_text() == NEW[WORKFLOW]
