"""The audit's journal: an interrupted audit goes on where it stopped, in a real git repository.

The graph and the test runs are the fixture graph's (nova_split_tools.testing.graphs) and a runner
that fails a subproject's test when one of its files differs from the fixture: Pants is not run
here (the CI's sampled audit runs it), the worktree, the commits, the plan and the journal are real.
"""

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from nova_common_cli.args import Terminated
from nova_split_tools import audit as audit_module
from nova_split_tools.audit import RunResult, audit, covers
from nova_split_tools.audit_cmd import summarize
from nova_split_tools.audit_journal import open_journal
from nova_split_tools.cli import main
from nova_split_tools.errors import ToolError
from nova_split_tools.proc import git
from nova_split_tools.testing.graphs import LV, NC, SOURCES, XN, graph, subprojects
from nova_split_tools.testing.repos import commit, new_repo

#: The fixture's test file that fails when a file under each package differs from SOURCES.
_FAILS = {NC: f"{NC}/driver_test.py", LV: f"{LV}/driver_test.py", XN: f"{XN}/driver_test.py"}


class Runner:
    """Stands in for ``pants test ::``: counts its runs and can be told to be interrupted."""

    def __init__(self, interrupt_at: int | None = None, signal: type[BaseException] = KeyboardInterrupt) -> None:
        self.runs = 0
        self.interrupt_at = interrupt_at
        self.signal = signal

    def __call__(self, tree: Path, specs: Sequence[str]) -> RunResult:
        self.runs += 1
        if self.runs == self.interrupt_at:
            raise self.signal()
        failed = {
            test
            for pkg, test in _FAILS.items()
            for path, text in SOURCES.items()
            if path.startswith(pkg) and (tree / path).read_text() != text and any(covers(s, test) for s in specs)
        }
        return RunResult(failed=failed, rerun=set(failed))


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = new_repo(tmp_path / "repo")
    commit(root, "the fixture's sources", dict(SOURCES))
    monkeypatch.setattr(audit_module, "load_graph", lambda tree, pantsd: graph())
    monkeypatch.setattr(audit_module, "load_subprojects", lambda tree: subprojects())
    monkeypatch.setattr(audit_module, "tool_resolves", lambda tree: {})
    return root


def _plain(outcomes: list[audit_module.Outcome]) -> list[tuple[str, str, str, list[str]]]:
    return [(o.path, o.description, o.outcome, o.failed) for o in outcomes]


@pytest.mark.parametrize("signal", [KeyboardInterrupt, Terminated], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_audit_goes_on_where_it_stopped(repo: Path, tmp_path: Path, signal: type[BaseException]) -> None:
    whole, _ = audit(repo, sample=None, seed=0, kinds=["python"], runner=Runner())
    assert len(whole) >= 4 and {o.outcome for o in whole} >= {"caught"}
    journal = tmp_path / "audit.jsonl"

    first = Runner(interrupt_at=4, signal=signal)  # the baseline, two mutations, then the signal
    with pytest.raises(signal) as stopped:
        audit(repo, sample=None, seed=0, kinds=["python"], runner=first, journal=journal)
    assert stopped.value.__notes__ == [
        f"2 of {len(whole)} mutation(s) recorded in {journal}: run the same command again to go on"
    ]
    assert len(journal.read_text().splitlines()) == 1 + 2  # the header and two outcomes

    second = Runner()
    resumed, _ = audit(repo, sample=None, seed=0, kinds=["python"], runner=second, journal=journal)
    assert second.runs == 1 + len(whole) - 2  # the baseline and only the missing mutations
    assert _plain(resumed) == _plain(whole)

    third = Runner()
    again, _ = audit(repo, sample=None, seed=0, kinds=["python"], runner=third, journal=journal)
    assert third.runs == 1 and _plain(again) == _plain(whole)


def test_without_a_journal_an_interruption_says_how_to_keep_results(repo: Path) -> None:
    with pytest.raises(KeyboardInterrupt) as stopped:
        audit(repo, sample=None, seed=0, kinds=["python"], runner=Runner(interrupt_at=3))
    [note] = stopped.value.__notes__
    assert note.startswith("1 of ") and note.endswith("mutation(s) done and not kept: --journal FILE keeps them")


def test_parts_of_an_audit_add_up_in_one_journal(repo: Path, tmp_path: Path) -> None:
    journal = tmp_path / "audit.jsonl"
    whole, _ = audit(repo, sample=None, seed=0, kinds=["python"], runner=Runner())
    paths = sorted({o.path for o in whole})
    audit(repo, sample=None, seed=0, kinds=["python"], paths=paths[:2], runner=Runner(), journal=journal)
    rest = Runner()
    combined, _ = audit(repo, sample=None, seed=0, kinds=["python"], runner=rest, journal=journal)
    assert rest.runs == 1 + sum(o.path not in paths[:2] for o in whole)
    assert _plain(combined) == _plain(whole)


def test_a_journal_of_another_commit_or_seed_is_refused(repo: Path, tmp_path: Path) -> None:
    journal = tmp_path / "audit.jsonl"
    audit(repo, sample=1, seed=0, kinds=["python"], runner=Runner(), journal=journal)
    kept = journal.read_text()
    with pytest.raises(ToolError, match=r"records the audit of commit \w{12} with seed 0, not \w{12} with seed 1; "):
        audit(repo, sample=1, seed=1, kinds=["python"], runner=Runner(), journal=journal)
    commit(repo, "newer work", {f"{NC}/driver.py": SOURCES[f"{NC}/driver.py"] + "# newer\n"})
    with pytest.raises(ToolError, match=r"give another --journal, or remove it to start over$"):
        audit(repo, sample=1, seed=0, kinds=["python"], runner=Runner(), journal=journal)
    assert journal.read_text() == kept  # refused: nothing appended


def test_a_line_cut_short_by_a_kill_is_dropped(repo: Path, tmp_path: Path) -> None:
    journal = tmp_path / "audit.jsonl"
    audit(repo, sample=2, seed=0, kinds=["python"], runner=Runner(), journal=journal)
    whole = journal.read_text()
    journal.write_text(whole + '{"mutation": ["python", "nova-com')  # SIGKILL in the middle of a write
    again = Runner()
    audit(repo, sample=2, seed=0, kinds=["python"], runner=again, journal=journal)
    assert again.runs == 1 and journal.read_text() == whole


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json\n", "is not a journal this audit can read"),
        ('{"journal": 1, "commit": "c", "seed": 0}\n[1, 2]\n', "line 2 is not a recorded mutation"),
        ('{"journal": 1, "commit": "c", "seed": 0}\n{"mutation": [1], "outcome": {}}\n', "line 2 does not name"),
    ],
)
def test_a_damaged_journal_is_one_line_and_left_as_it_is(tmp_path: Path, text: str, message: str) -> None:
    journal = tmp_path / "audit.jsonl"
    journal.write_text(text)
    with pytest.raises(ToolError, match=message):
        open_journal(journal, "c", 0)
    assert journal.read_text() == text


def test_two_audits_cannot_share_a_journal_at_once(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    held = open_journal(path, "c" * 40, 0)
    try:
        errors: list[str] = []

        def second() -> None:
            try:
                open_journal(path, "c" * 40, 0)
            except ToolError as e:
                errors.append(str(e))

        worker = threading.Thread(target=second)  # another open file description: flock applies
        worker.start()
        worker.join()
        assert errors == [f"--journal {path} is in use by another audit; wait for it, or give another file"]
    finally:
        held.close()
    open_journal(path, "c" * 40, 0).close()  # free again once the first closed
    assert json.loads(path.read_text().splitlines()[0]) == {"journal": 1, "commit": "c" * 40, "seed": 0}


def test_a_journal_in_a_directory_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match=r"--journal .*/nowhere/a.jsonl: No such file or directory; give a file"):
        open_journal(tmp_path / "nowhere" / "a.jsonl", "c", 0)


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_report_gives_the_figures_of_the_run_that_wrote_the_journal(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = tmp_path / "audit.jsonl"
    outcomes, _ = audit(repo, sample=None, seed=0, kinds=["python"], runner=Runner(), journal=journal)
    audited = git(repo, "rev-parse", "HEAD").strip()
    # later work: the report reads the journal of an older commit as it is, and runs nothing
    commit(repo, "newer work", {f"{NC}/driver.py": SOURCES[f"{NC}/driver.py"] + "# newer\n"})
    code, out, _ = _cli(capsys, "--repo", str(repo), "audit", "--report", str(journal), "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert (doc["commit"], doc["seed"], doc["baseline_failures"]) == (audited, 0, None)
    assert doc["summary"] == summarize(outcomes) and doc["summary"]["caught"] > 0
    assert [m["path"] for m in doc["mutations"]] == [o.path for o in outcomes]
    code, out, _ = _cli(capsys, "--repo", str(repo), "audit", "--report", str(journal))
    assert code == 0 and f"commit {audited[:12]}, seed 0): {doc['summary']['caught']} caught, 0 miss(es)" in out


def test_a_report_leaves_out_a_line_still_being_written_and_filters_by_kind(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = tmp_path / "audit.jsonl"
    audit(repo, sample=2, seed=0, kinds=["python"], runner=Runner(), journal=journal)
    whole = journal.read_text()
    journal.write_text(whole + '{"mutation": ["python", "nova-com')  # the running audit's next line
    code, out, _ = _cli(capsys, "audit", "--report", str(journal), "--format", "json")
    assert code == 0 and json.loads(out)["summary"]["mutations"] == 2
    assert journal.read_text() == whole + '{"mutation": ["python", "nova-com'  # read only
    code, _, err = _cli(capsys, "audit", "--report", str(journal), "--kind", "inputs")
    assert code == 2 and err.strip().endswith(f"--report {journal} records no mutation of kind inputs")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--journal", "j.jsonl"], "--report prints a journal's figures and runs nothing; drop --journal"),
        (["--sample", "3", "--path", "x.py"], "runs nothing; drop --sample, --path"),
    ],
)
def test_a_report_with_options_of_a_run_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = _cli(capsys, "audit", "--report", str(tmp_path / "a.jsonl"), *argv)
    assert (code, out) == (2, "") and len(err.splitlines()) == 1 and message in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "No such file or directory; give an audit journal"),
        ("", "is empty: no audit has recorded a mutation there yet"),
        ("not json\n", "is not a journal this audit can read"),
        ('{"journal": 1}\n', "its seed is not a number"),
        ('{"journal": 1, "seed": 0}\n', "its first line names no commit and seed"),
    ],
)
def test_a_report_of_something_else_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str | None, message: str
) -> None:
    path = tmp_path / "a.jsonl"
    if text is not None:
        path.write_text(text)
    code, out, err = _cli(capsys, "audit", "--report", str(path))
    assert (code, out) == (2, "") and len(err.splitlines()) == 1 and message in err


_GOOD = {
    "path": "p.py",
    "kind": "python",
    "operator": "op",
    "description": "d",
    "outcome": "caught",
    "planned": 2,
    "failed": ["t.py"],
    "misses": [],
    "uncaught_skips": [],
    "unplanned_reruns": [],
    "error": None,
    "seconds": 1.5,
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"extra": 1}, "its outcome has other fields than an audit writes (extra)"),
        ({"failed": 5}, "failed of its outcome are not of the types"),
        ({"failed": None}, "failed of its outcome are not of the types"),
        ({"planned": "3"}, "planned of its outcome are not of the types"),
        ({"planned": True}, "planned of its outcome are not of the types"),
        ({"misses": "abc"}, "misses of its outcome are not of the types"),
        ({"seconds": 1e308 * 10}, "seconds of its outcome are not of the types"),
        ({"outcome": "MISS"}, "its outcome MISS disagrees with its misses"),
        ({"misses": ["t.py"]}, "its outcome caught disagrees with its misses"),
        ({"outcome": "great"}, "'great' is not an outcome"),
    ],
)
def test_a_report_refuses_an_outcome_the_audit_would_not_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict[str, object], message: str
) -> None:
    path = tmp_path / "a.jsonl"
    line = json.dumps({"mutation": ["python", "p.py", "op", "d"], "outcome": {**_GOOD, **change}})
    path.write_text('{"journal": 1, "commit": "c", "seed": 0}\n' + line + "\n")
    code, out, err = _cli(capsys, "audit", "--report", str(path))
    assert (code, out) == (2, "") and len(err.splitlines()) == 1 and f"line 2: {message}" in err


def test_a_report_refuses_a_seed_that_is_not_a_number_and_counts_unsettled_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"journal": 1, "commit": "c", "seed": true}\n')
    code, _, err = _cli(capsys, "audit", "--report", str(path))
    assert code == 2 and "its seed is not a number" in err
    unsettled = {**_GOOD, "outcome": "pants-error", "failed": [], "error": "ResolveError: x"}
    line = json.dumps({"mutation": ["inputs", "x.lock", "op", "d"], "outcome": unsettled})
    path.write_text('{"journal": 1, "commit": "c", "seed": 0}\n' + line + "\n")
    code, out, _ = _cli(capsys, "audit", "--report", str(path), "--format", "json")
    assert code == 1 and json.loads(out)["summary"]["unsettled"] == 1  # a miss is not ruled out
