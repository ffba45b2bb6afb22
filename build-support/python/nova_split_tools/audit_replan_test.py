"""``audit --report FILE --replan``: a journal's mutations planned again at HEAD, on a real git
repository (its commits and renames real; the graphs are the fixture's, as in audit_graph_test)."""

import json
import random
from pathlib import Path

import pytest

from nova_split_tools import audit_replan
from nova_split_tools.audit import mutants
from nova_split_tools.audit_journal import read_journal
from nova_split_tools.cli import main
from nova_split_tools.errors import ToolError
from nova_split_tools.graph import Graph
from nova_split_tools.mutations import choose, sites
from nova_split_tools.testing.graphs import LV, NC, SOURCES, XN, graph, subprojects
from nova_split_tools.testing.repos import commit, git, new_repo

NETWORK = f"{NC}/objects/network.py"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = new_repo(tmp_path / "repo")
    commit(root, "sources", dict(SOURCES))
    monkeypatch.setattr(audit_replan, "load_subprojects", lambda tree: subprojects())
    monkeypatch.setattr(audit_replan, "tool_resolves", lambda tree: {})
    monkeypatch.setattr(audit_replan, "graph_at", lambda repo, rev: graph())
    return root


def _journal(
    root: Path, path: Path, failures: dict[str, list[str]], planned: int = 9, seed: int = 0, **fields: object
) -> Path:
    """A journal of HEAD of ``root``: the mutation of each file in ``failures`` (with ``seed``),
    with those failing test files (and ``fields`` of the outcome as given)."""
    head = git(root, "rev-parse", "HEAD").strip()
    found = {m.path: m for m in mutants(root, graph(), ["python"], seed)}
    lines = [json.dumps({"journal": 1, "commit": head, "seed": seed})]
    for file, failed in failures.items():
        m = found[file]
        outcome = {
            "path": file,
            "kind": "python",
            "operator": m.operator,
            "description": m.description,
            "outcome": "caught" if failed else "survived",
            "planned": planned,
            "failed": failed,
            "misses": [],
            "uncaught_skips": [],
            "unplanned_reruns": [],
            "error": None,
            "seconds": 1.0,
            **fields,
        }
        lines.append(json.dumps({"mutation": ["python", file, m.operator, m.description], "outcome": outcome}))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_recorded_failures_are_planned_again_at_head(repo: Path, tmp_path: Path) -> None:
    journal = read_journal(_journal(repo, tmp_path / "j.jsonl", {NETWORK: [f"{LV}/driver_test.py"]}))
    out = audit_replan.replan(repo, journal)
    (o,) = out.outcomes
    assert (o.outcome, o.misses, o.failed, out.changed) == ("caught", [], [f"{LV}/driver_test.py"], 0)
    assert o.planned >= 1 and "changed since" not in o.description


def test_a_failure_the_selection_no_longer_plans_is_a_miss(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The selection changed: libvirt's guest_xml no longer depends on the network object."""

    def without_edge() -> Graph:
        g = graph()
        for r in ("common", "libvirt", "xen"):
            g.dependents[f"{NETWORK}:lib@resolve={r}"].discard(f"{LV}/guest_xml.py:lib@resolve=libvirt")
        return g

    journal = read_journal(_journal(repo, tmp_path / "j.jsonl", {NETWORK: [f"{LV}/driver_test.py"]}))
    monkeypatch.setattr(audit_replan, "graph_at", lambda repo, rev: without_edge())
    (o,) = audit_replan.replan(repo, journal).outcomes
    assert (o.outcome, o.misses) == ("MISS", [f"{LV}/driver_test.py"])


def test_renames_are_followed_and_changed_modules_marked(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = read_journal(
        _journal(repo, tmp_path / "j.jsonl", {f"{XN}/driver.py": [f"{XN}/driver_test.py"], NETWORK: []})
    )
    git(repo, "mv", f"{XN}/driver_test.py", f"{XN}/xen_driver_test.py")
    (repo / NETWORK).write_text("# a comment\n" + SOURCES[NETWORK])
    git(repo, "commit", "-qam", "rename a test, edit a module")
    assert audit_replan.renames_since(repo, journal.commit, "HEAD") == {
        f"{XN}/driver_test.py": f"{XN}/xen_driver_test.py"
    }

    def renamed() -> Graph:
        g = graph()
        for address, sources in g.sources.items():
            if sources == [f"{XN}/driver_test.py"]:
                g.sources[address] = [f"{XN}/xen_driver_test.py"]
                g.owners[f"{XN}/xen_driver_test.py"] = g.owners.pop(f"{XN}/driver_test.py")
        return g

    monkeypatch.setattr(audit_replan, "graph_at", lambda repo, rev: renamed())
    out = audit_replan.replan(repo, journal)
    by_path = {o.path: o for o in out.outcomes}
    assert by_path[f"{XN}/driver.py"].failed == [f"{XN}/xen_driver_test.py"]
    assert by_path[f"{XN}/driver.py"].outcome == "caught"
    assert "changed since" in by_path[NETWORK].description and out.changed == 1
    assert "(now line 3)" in by_path[NETWORK].description  # the same edit, one line down


def test_a_journal_of_a_commit_this_repository_lacks_is_refused(repo: Path, tmp_path: Path) -> None:
    path = _journal(repo, tmp_path / "j.jsonl", {NETWORK: []})
    path.write_text(path.read_text().replace(git(repo, "rev-parse", "HEAD").strip(), "0" * 40, 1))
    with pytest.raises(ToolError, match="is not in"):
        audit_replan.replan(repo, read_journal(path))


def test_the_command_prints_the_replanned_figures_and_says_where_they_come_from(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _journal(repo, tmp_path / "j.jsonl", {NETWORK: [f"{LV}/driver_test.py"]})
    head = git(repo, "rev-parse", "HEAD").strip()
    assert main(["--repo", str(repo), "audit", "--report", str(path), "--replan", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["commit"] == head and doc["summary"]["misses"] == 0 and doc["summary"]["caught"] == 1
    assert doc["replanned"] == {
        "head": head,
        "journal_commit": head,
        "changed_since": 0,
        "left_out": [],
        "inputs_not_replanned": 0,
    }
    assert doc["summary"]["unplanned_reruns"] is None and doc["mutations"][0]["seconds"] is None
    assert main(["--repo", str(repo), "audit", "--report", str(path), "--replan"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("PROJECTION: ") and f"(projected at HEAD {head[:12]} from journal" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--replan"], "--replan re-plans a journal's mutations: give the journal with --report FILE"),
        (["--replan", "--report", "J", "--kind", "inputs"], "re-plans behavioural (python) mutations only"),
    ],
)
def test_replan_without_a_journal_or_for_inputs_is_refused_in_one_line(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    path = _journal(repo, tmp_path / "j.jsonl", {NETWORK: []})
    code = main(["--repo", str(repo), "audit", *[str(path) if a == "J" else a for a in argv]])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "") and len(err.splitlines()) == 1 and message in err


def test_a_renamed_module_gets_the_recorded_mutation_not_the_seeds_choice_for_its_new_name(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seed picks a site by path: after a rename it would pick another edit than the one whose
    failures the journal holds (red-team). The recorded edit is found again instead."""
    flavor, flavors = f"{NC}/objects/flavor.py", f"{NC}/objects/flavors.py"
    # a seed whose choice differs between the two names (the fixture's module offers several sites)
    seed = next(
        n
        for n in range(50)
        if choose(SOURCES[flavor], random.Random(f"{n}:{flavor}"))
        != choose(SOURCES[flavor], random.Random(f"{n}:{flavors}"))
    )
    path = _journal(repo, tmp_path / "j.jsonl", {flavor: [f"{XN}/driver_test.py"]}, seed=seed)
    recorded = json.loads(path.read_text().splitlines()[1])["outcome"]
    git(repo, "mv", flavor, flavors)
    git(repo, "commit", "-qm", "rename")

    def renamed_graph() -> Graph:
        g = graph()
        for address, sources in g.sources.items():
            if sources == [flavor]:
                g.sources[address] = [flavors]
        g.owners[flavors] = g.owners.pop(flavor)
        return g

    monkeypatch.setattr(audit_replan, "graph_at", lambda repo, rev: renamed_graph())
    (o,) = audit_replan.replan(repo, read_journal(path)).outcomes
    assert o.path == flavors
    assert o.description == recorded["description"] and o.operator == recorded["operator"]


def test_find_site_is_the_same_edit_nearest_the_recorded_line() -> None:
    source = "def f(x):\n    return x > 1\n\n\ndef g(x):\n    return x > 1\n"
    found = [s for s in sites(source) if s.line == 6]
    assert found, "the fixture offers a site on line 6"
    site = audit_replan.find_site(source, found[0].description.replace("line 6", "line 5"))
    assert site is not None and site.line == 6
    assert audit_replan.find_site(source, "flip-compare line 2: nothing -> like this") is None
    assert audit_replan.find_site(source, "not a description") is None


def test_a_mutation_whose_recorded_failures_are_all_gone_is_left_out_not_a_survivor(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _journal(repo, tmp_path / "j.jsonl", {NETWORK: [f"{LV}/gone_test.py"], f"{XN}/driver.py": []})
    out = audit_replan.replan(repo, read_journal(path))
    assert [o.path for o in out.outcomes] == [f"{XN}/driver.py"]  # a recorded survivor stays one
    assert len(out.left_out) == 2 and "gone_test.py is gone at HEAD" in out.left_out[0]
    assert "none of its recorded failing tests is left" in out.left_out[1]
    assert "left out:" in capsys.readouterr().err


def test_a_recorded_pants_error_stays_caught_and_an_unsettled_one_is_left_out(repo: Path, tmp_path: Path) -> None:
    path = _journal(repo, tmp_path / "j.jsonl", {NETWORK: []}, error="There was 1 error downloading")
    (o,) = audit_replan.replan(repo, read_journal(path)).outcomes
    assert (o.outcome, o.error) == ("caught", "There was 1 error downloading")
    path = _journal(repo, tmp_path / "k.jsonl", {NETWORK: []}, outcome="pants-error", error="boom")
    out = audit_replan.replan(repo, read_journal(path))
    assert out.outcomes == [] and "left unsettled" in out.left_out[0]


def test_crlf_bytes_unchanged_are_not_changed_since(repo: Path, tmp_path: Path) -> None:
    (repo / NETWORK).write_bytes(SOURCES[NETWORK].replace("\n", "\r\n").encode())
    git(repo, "commit", "-qam", "crlf")
    path = _journal(repo, tmp_path / "j.jsonl", {NETWORK: [f"{LV}/driver_test.py"]})
    out = audit_replan.replan(repo, read_journal(path))
    assert out.changed == 0 and "changed since" not in out.outcomes[0].description


def test_a_dirty_work_tree_is_refused(repo: Path, tmp_path: Path) -> None:
    path = _journal(repo, tmp_path / "j.jsonl", {NETWORK: []})
    (repo / NETWORK).write_text("edited = 1\n")
    with pytest.raises(ToolError, match="uncommitted changes"):
        audit_replan.replan(repo, read_journal(path))
