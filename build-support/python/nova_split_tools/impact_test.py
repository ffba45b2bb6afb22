"""The plan with a test-impact map: a change inside function bodies runs the tests that executed
them; the map at a revision holds only for the tests nothing changed under since its recording."""

import json
from pathlib import Path

import pytest

from nova_split_tools.changes import texts_between
from nova_split_tools.impact import impact_at
from nova_split_tools.impact_map import MAP_PATH, FileRecord, Impact, ImpactMap, git_blob
from nova_split_tools.plan import API, Plan, compute_plan
from nova_split_tools.repo import Change, Repository
from nova_split_tools.testing.graphs import LV, NC, SOURCES, XN, graph, no_base, subprojects, texts
from nova_split_tools.testing.repos import commit, new_repo

DRIVER = f"{NC}/driver.py"
DRIVER_EDIT = SOURCES[DRIVER].replace("raise NotImplementedError", "raise RuntimeError('no')")
TESTS = (f"{NC}/driver_test.py", f"{LV}/driver_test.py", f"{LV}/cli_integration_test.py", f"{XN}/driver_test.py")
TOOLS = {"common": ["mypy", "pytest"]}


def recorded(executing: set[str], untrusted: dict[str, str] | None = None) -> ImpactMap:
    """A map of the fixture tree: every test imported driver.py; ``executing`` ran spawn()."""
    trusted = tuple(t for t in TESTS if t not in (untrusted or {}))
    ids = {t: i for i, t in enumerate(trusted)}
    rec = FileRecord(
        git_blob(SOURCES[DRIVER]),
        frozenset(ids.values()),
        {"ComputeDriver.spawn": frozenset(ids[t] for t in executing if t in ids)},
    )
    return ImpactMap("a" * 40, trusted, untrusted or {}, {DRIVER: rec})


def plan(impact: Impact | None, new: str = DRIVER_EDIT) -> Plan:
    return compute_plan(
        [Change(DRIVER, "M")],
        subprojects(),
        graph(),
        no_base,
        tool_resolves=TOOLS,
        texts=texts({DRIVER: new}),
        impact=impact,
    )


def planned(p: Plan) -> dict[str, set[str]]:
    return {n: set(d.tests) for n, d in p.subprojects.items() if d.run}


def test_without_a_map_a_driver_api_body_change_reaches_every_user() -> None:
    assert planned(plan(None)) == {
        "nova-common": {f"{NC}/driver_test.py"},
        "libvirt": {f"{LV}/driver_test.py"},
        "xen": {f"{XN}/driver_test.py"},
    }


def test_a_body_change_runs_only_the_tests_that_executed_the_function() -> None:
    p = plan(Impact(recorded({f"{LV}/driver_test.py"})))
    assert planned(p) == {"libvirt": {f"{LV}/driver_test.py"}}
    assert p.subprojects["libvirt"].paths == {API}
    said = f"{DRIVER}: changed only inside ComputeDriver.spawn; the test-impact map (aaaaaaaaaaaa) keeps"
    assert p.subprojects["nova-common"].why == [
        f"{said} 0 of 1 reached test file(s): 0 executed it: no test runs for it here"
    ]
    # every subproject the map narrowed says how many of its reached tests it left out
    assert f"{said} 1 of 2 reached test file(s): 1 executed it" in p.subprojects["libvirt"].why
    assert not p.subprojects["xen"].run
    assert p.subprojects["xen"].why == [f"{said} 0 of 1 reached test file(s): 0 executed it: no test runs for it here"]


def test_tests_the_map_cannot_vouch_for_still_run() -> None:
    untrusted = {f"{XN}/driver_test.py": "it failed in the recording"}
    p = plan(Impact(recorded({f"{LV}/driver_test.py"}, untrusted), stale={f"{NC}/driver_test.py"}))
    assert planned(p) == {
        "nova-common": {f"{NC}/driver_test.py"},  # stale: something under it changed since the recording
        "libvirt": {f"{LV}/driver_test.py"},
        "xen": {f"{XN}/driver_test.py"},  # not trusted
    }
    said = f"{DRIVER}: changed only inside ComputeDriver.spawn; the test-impact map (aaaaaaaaaaaa) keeps"
    # kept without having executed the change: labelled as such
    assert p.subprojects["nova-common"].why[0] == (
        f"{said} 1 of 1 reached test file(s): 0 executed it, 1 it cannot vouch for (untrusted, stale or not recorded)"
    )


def test_a_function_no_test_executed_runs_nothing_and_says_so() -> None:
    p = plan(Impact(recorded(set())))
    assert planned(p) == {}
    assert p.subprojects["nova-common"].why[-1].endswith("0 executed it: no test runs for it here")


def test_a_change_outside_function_bodies_is_planned_from_the_graph() -> None:
    edit = SOURCES[DRIVER].replace("class ComputeDriver:", "class ComputeDriver:\n    limit = 1\n")
    assert planned(plan(Impact(recorded(set())), edit)) == planned(plan(None, edit))


# The map at a revision: a scratch repository with the fixture graph's files.


def repo_with_map(tmp_path: Path, imap_commit: str | None = None, text: str | None = None) -> tuple[Repository, str]:
    root = new_repo(tmp_path / "repo")
    recorded_at = commit(root, "the tree", dict(SOURCES))
    body = text if text is not None else json.dumps(recorded(set()).to_json() | {"commit": imap_commit or recorded_at})
    commit(root, "the map", {MAP_PATH: body})
    return Repository(root), recorded_at


def test_the_map_at_a_revision_marks_stale_what_changed_since_its_recording(tmp_path: Path) -> None:
    repo, _ = repo_with_map(tmp_path)
    assert impact_at(repo, "HEAD", graph(), subprojects(), TOOLS) is not None
    got = impact_at(repo, "HEAD", graph(), subprojects(), TOOLS)
    assert got is not None and got.stale == frozenset()  # the map's own commit changes no test's input
    commit(repo.root, "a libvirt change", {f"{LV}/guest_xml.py": SOURCES[f"{LV}/guest_xml.py"] + "# touched\n"})
    got = impact_at(repo, "HEAD", graph(), subprojects(), TOOLS)
    assert got is not None and got.stale == {f"{LV}/driver_test.py"}


def test_a_test_a_policy_skips_is_stale_all_the_same(tmp_path: Path) -> None:
    repo, _ = repo_with_map(tmp_path)
    manager = f"{NC}/compute/manager.py"
    commit(repo.root, "a compute service change", {manager: SOURCES[manager] + "# touched\n"})
    got = impact_at(repo, "HEAD", graph(), subprojects(), TOOLS)
    # libvirt's end-to-end test is not run for it (core-changes = skip), but it runs the code
    assert got is not None and f"{LV}/cli_integration_test.py" in got.stale


def test_narrowing_works_on_texts_read_from_git(tmp_path: Path) -> None:
    repo, _ = repo_with_map(tmp_path)
    commit(repo.root, "spawn", {DRIVER: DRIVER_EDIT})
    got = impact_at(repo, "HEAD~1", graph(), subprojects(), TOOLS)
    assert got is not None
    old, new = texts_between(repo, "HEAD~1", "HEAD")(DRIVER)
    assert old == SOURCES[DRIVER] and new == DRIVER_EDIT  # final newlines kept: the blob matches
    narrowing = got.narrow(DRIVER, old, new)
    assert narrowing is not None and narrowing.functions == {"ComputeDriver.spawn"}


def test_no_map_is_no_narrowing_without_a_word(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = new_repo(tmp_path / "repo")
    commit(root, "the tree", dict(SOURCES))
    assert impact_at(Repository(root), "HEAD", graph(), subprojects(), TOOLS) is None
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("imap_commit", "text", "says"),
    [
        (None, "{", "not JSON"),
        ("b" * 40, None, "which is not in the history of HEAD"),
    ],
)
def test_an_unusable_map_is_one_line_and_the_plan_goes_on_from_the_graph(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], imap_commit: str | None, text: str | None, says: str
) -> None:
    repo, _ = repo_with_map(tmp_path, imap_commit, text)
    assert impact_at(repo, "HEAD", graph(), subprojects(), TOOLS) is None
    err = capsys.readouterr().err
    assert says in err and err.endswith("planning from the build graph alone\n") and err.count("\n") == 1


def test_a_full_revision_is_shown_short(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo, _ = repo_with_map(tmp_path, None, "{")
    head = repo.resolve("HEAD")
    assert impact_at(repo, head, graph(), subprojects(), TOOLS) is None
    err = capsys.readouterr().err
    assert f"{MAP_PATH} at {head[:12]}: not JSON" in err and head not in err


def test_build_configuration_changed_since_the_recording_voids_the_map(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, _ = repo_with_map(tmp_path)
    commit(repo.root, "pants.toml", {"pants.toml": "[GLOBAL]\n"})
    assert impact_at(repo, "HEAD", graph(), subprojects(), TOOLS) is None
    assert "pants.toml: build configuration affects every subproject" in capsys.readouterr().err
