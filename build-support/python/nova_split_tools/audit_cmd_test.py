from collections.abc import Sequence
from pathlib import Path

import pytest

from nova_split_tools.audit import (
    Outcome,
    RunResult,
    classify,
    covers,
    input_files,
    parse_test_run,
    planned_and_skipped,
    settle_error,
    source_files,
)
from nova_split_tools.audit_cmd import summarize
from nova_split_tools.graph import failed_tests
from nova_split_tools.subprojects import CorePolicy
from nova_split_tools.testing.graphs import LV, NC, SOURCES, XN, graph, subprojects

ALL_TESTS = {f"{NC}/driver_test.py", f"{LV}/driver_test.py", f"{XN}/driver_test.py"}
NETWORK = f"{NC}/objects/network.py"


def network_break() -> tuple[set[str], set[str]]:
    """The plan of a behavioural break of ``VIF.mtu``: a member only libvirt uses (xen imports the
    objects package, which re-exports ``network``, but never uses ``VIF``)."""
    broken = SOURCES[NETWORK].replace("mtu: int = 0", "mtu: int = 1")
    return planned_and_skipped(
        NETWORK,
        subprojects(),
        graph(),
        ALL_TESTS,
        texts=lambda p: (SOURCES[NETWORK], broken) if p == NETWORK else (SOURCES.get(p), SOURCES.get(p)),
    )


def test_source_files_are_non_test_python_of_core_and_drivers() -> None:
    files = source_files(graph())
    assert f"{NC}/driver.py" in files and f"{LV}/guest_xml.py" in files
    assert not any(f.endswith("_test.py") for f in files)


def test_input_files_are_the_non_python_inputs_of_core_drivers_and_pants_toml() -> None:
    tracked = [
        "pants.toml",
        "BUILD",
        "build-support/python/BUILD",
        "nova-common/BUILD",
        "nova-common/common.lock",
        "nova-common/requirements.txt",
        "drivers/vmware/vcsim/main.go",
        "drivers/libvirt/system-deps",
        "drivers/xen/subproject.toml",
        "drivers/xen/README.md",
        f"{XN}/driver.py",
    ]
    assert input_files(tracked) == sorted(
        [
            "pants.toml",
            "nova-common/BUILD",
            "nova-common/common.lock",
            "nova-common/requirements.txt",
            "drivers/vmware/vcsim/main.go",
            "drivers/libvirt/system-deps",
            "drivers/xen/subproject.toml",
        ]
    )


def test_failing_and_rerun_tests_are_read_from_pants_output() -> None:
    out = (
        "✓ nova-common/nova_common/api_version_test.py:../tests succeeded in 0.4s (cached locally).\n"
        "✕ drivers/xen/nova_xen/driver_test.py:../tests failed in 1.2s.\n"
        "  ✕ drivers/libvirt/nova_libvirt/conformance_test.py:../tests failed in 0.9s (cached locally).\n"
        "✓ drivers/libvirt/nova_libvirt/driver_test.py:../tests succeeded in 3.1s.\n"
    )
    run = parse_test_run(1, out)
    assert (
        run.failed
        == failed_tests(out)
        == {
            "drivers/xen/nova_xen/driver_test.py",
            "drivers/libvirt/nova_libvirt/conformance_test.py",
        }
    )
    assert run.rerun == {"drivers/xen/nova_xen/driver_test.py", "drivers/libvirt/nova_libvirt/driver_test.py"}
    assert run.error is None


def test_a_pants_run_that_ran_no_test_is_an_error_not_a_survivor() -> None:
    run = parse_test_run(1, "12:00:00 [ERROR] 1 Exception encountered:\n  ResolveError: bad BUILD\n")
    assert run.error == "ResolveError: bad BUILD"  # the line that says what is wrong
    assert classify(set(), set(), run)[0] == "caught"  # the planned run's error: a red plan
    assert parse_test_run(0, "").error is None  # nothing to test is not an error


class ErrorRunner:
    """``pants test`` on specs: errors (``error``) when the specs hold a test of ``broken``'s
    packages, else fails the tests in ``failing``; records each run's specs."""

    def __init__(self, broken: dict[str, str], failing: frozenset[str] = frozenset()) -> None:
        self.broken = broken
        self.failing = failing
        self.runs: list[list[str]] = []

    def __call__(self, tree: Path, specs: Sequence[str]) -> RunResult:
        tests = {t for t in ALL_TESTS if any(covers(s, t) for s in specs)}
        self.runs.append(sorted(specs))
        errors = [e for pkg, e in self.broken.items() if any(t.startswith(pkg) for t in tests)]
        if errors:
            return RunResult(set(), set(), errors[0])
        return RunResult(tests & self.failing, set())


def test_an_error_only_in_the_planned_tests_is_caught_and_the_rest_runs_once() -> None:
    # a corrupted libvirt.lock: libvirt's tests cannot build, the others run and pass
    runner = ErrorRunner({LV: "There was 1 error downloading required artifacts:"})
    planned = {f"{LV}/driver_test.py"}
    run = settle_error(Path("."), runner, planned, ALL_TESTS, subprojects())
    assert run.error == "There was 1 error downloading required artifacts:" and run.failed == set()
    assert runner.runs == [[f"{LV}/driver_test.py"], sorted([f"{NC}/driver_test.py", f"{XN}/driver_test.py"])]
    assert classify(planned, set(), run)[:3] == ("caught", [], [])


def test_an_error_outside_the_plan_is_a_miss_of_the_subprojects_that_error() -> None:
    # the plan ran libvirt, which passes; xen's tests cannot even be built
    runner = ErrorRunner({XN: "UnownedDependencyError: Pants cannot infer owners"})
    planned = {f"{LV}/driver_test.py"}
    run = settle_error(Path("."), runner, planned, ALL_TESTS, subprojects())
    assert run.error is None
    assert run.failed == {f"{XN}/driver_test.py"}  # nova-common's share ran alone and passed
    assert [f"{NC}/driver_test.py"] in runner.runs and [f"{XN}/driver_test.py"] in runner.runs
    assert classify(planned, set(), run)[:3] == ("MISS", [f"{XN}/driver_test.py"], [])


def test_an_empty_plan_with_an_error_anywhere_is_a_miss() -> None:
    runner = ErrorRunner({NC: "ResolveError: bad BUILD"})
    run = settle_error(Path("."), runner, set(), ALL_TESTS, subprojects())
    assert classify(set(), set(), run)[:2] == ("MISS", [f"{NC}/driver_test.py"])


def test_the_same_error_everywhere_is_caught_by_the_plan() -> None:
    # a BUILD file no target can be read past: every run errors alike, the planned one included
    same = "InvalidFieldException: Unused key in the `overrides` field"
    runner = ErrorRunner({NC: same, LV: same, XN: same})
    planned = {f"{XN}/driver_test.py"}
    run = settle_error(Path("."), runner, planned, ALL_TESTS, subprojects())
    assert len(runner.runs) == 4  # the plan, the rest, then each share of the rest (nova-common, libvirt)
    assert (run.error, run.failed) == (same, set())
    assert classify(planned, set(), run)[:3] == ("caught", [], [])


def test_the_same_error_text_in_only_some_shares_is_still_a_miss() -> None:
    # two lockfiles' download errors read alike: xen's (planned) and libvirt's (not planned)
    same = "There was 1 error downloading required artifacts:"
    runner = ErrorRunner({LV: same, XN: same})
    planned = {f"{XN}/driver_test.py"}
    run = settle_error(Path("."), runner, planned, ALL_TESTS, subprojects())
    assert classify(planned, set(), run)[:2] == ("MISS", [f"{LV}/driver_test.py"])


def test_a_neutral_edit_a_test_reran_for_outside_the_plan_is_a_miss() -> None:
    planned, skipped = network_break()
    rerun = RunResult(set(), {f"{XN}/driver_test.py"})
    assert classify(planned, skipped, rerun, neutral=True)[:2] == ("MISS", [f"{XN}/driver_test.py"])
    assert classify(planned, skipped, rerun)[:2] == ("survived", [])  # a behavioural edit: a re-run is no miss


def test_an_error_in_a_policy_skipped_driver_is_uncaught_unless_the_plan_is_red() -> None:
    planned, skipped = planned_and_skipped(
        f"{NC}/driver.py", subprojects(CorePolicy.SKIP, CorePolicy.SKIP), graph(), ALL_TESTS
    )
    assert f"{XN}/driver_test.py" in skipped
    green_plan = settle_error(Path("."), ErrorRunner({XN: "E"}), planned, ALL_TESTS, subprojects())
    assert classify(planned, skipped, green_plan)[:3] == ("UNCAUGHT-SKIP", [], [f"{XN}/driver_test.py"])
    red_plan = settle_error(
        Path("."), ErrorRunner({XN: "E"}, frozenset({f"{NC}/driver_test.py"})), planned, ALL_TESTS, subprojects()
    )
    assert classify(planned, skipped, red_plan)[:3] == ("caught", [], [])


def test_specs_cover_files_and_directories() -> None:
    assert covers("drivers/xen::", "drivers/xen/nova_xen/driver_test.py")
    assert not covers("drivers/xen::", "drivers/xenon/nova_xenon/driver_test.py")
    assert covers(f"{LV}/driver_test.py", f"{LV}/driver_test.py")
    assert covers("::", f"{LV}/driver_test.py")


def test_a_seeded_break_the_plan_reaches_is_caught() -> None:
    # VIF.mtu is used only by libvirt: the plan runs libvirt's test, which is the one failing
    planned, skipped = network_break()
    assert f"{LV}/driver_test.py" in planned and f"{XN}/driver_test.py" not in planned
    outcome, misses, uncaught, _ = classify(planned, skipped, RunResult({f"{LV}/driver_test.py"}, set()))
    assert (outcome, misses, uncaught) == ("caught", [], [])


def test_a_failing_test_outside_the_plan_is_a_miss() -> None:
    planned, skipped = network_break()
    run = RunResult({f"{LV}/driver_test.py", f"{XN}/driver_test.py"}, {f"{XN}/driver_test.py"})
    outcome, misses, _, unplanned = classify(planned, skipped, run)
    assert outcome == "MISS" and misses == [f"{XN}/driver_test.py"] and unplanned == [f"{XN}/driver_test.py"]


def test_a_driver_break_its_policy_skipped_is_uncaught_unless_a_planned_test_fails_too() -> None:
    planned, skipped = planned_and_skipped(
        f"{NC}/driver.py", subprojects(CorePolicy.SKIP, CorePolicy.SKIP), graph(), ALL_TESTS
    )
    assert f"{XN}/driver_test.py" in skipped and f"{XN}/driver_test.py" not in planned
    only_xen = RunResult({f"{XN}/driver_test.py"}, set())
    outcome, misses, uncaught, _ = classify(planned, skipped, only_xen)
    assert (outcome, misses, uncaught) == ("UNCAUGHT-SKIP", [], [f"{XN}/driver_test.py"])
    with_core = RunResult({f"{XN}/driver_test.py", f"{NC}/driver_test.py"}, set())
    assert classify(planned, skipped, with_core)[:3] == ("caught", [], [])


def test_tests_failing_without_the_mutation_are_not_counted() -> None:
    planned, skipped = network_break()
    flaky = {f"{XN}/driver_test.py"}
    assert classify(planned, skipped, RunResult(flaky, flaky), flaky)[:3] == ("survived", [], [])


def test_a_rerun_outside_the_plan_is_reported_even_when_nothing_fails() -> None:
    planned, skipped = network_break()
    outcome, _, _, unplanned = classify(planned, skipped, RunResult(set(), {f"{XN}/driver_test.py"}))
    assert outcome == "survived" and unplanned == [f"{XN}/driver_test.py"]


def _outcome(outcome: str, planned: int, failed: list[str], **kw: list[str]) -> Outcome:
    return Outcome("p", "python", "op", "d", outcome, planned, failed, kw.get("m", []), kw.get("u", []), [])


def test_summary_counts_and_precision_over_caught_mutations() -> None:
    s = summarize(
        [
            _outcome("caught", 4, ["a", "b"]),
            _outcome("survived", 10, []),
            _outcome("MISS", 2, ["c"], m=["c"]),
            _outcome("UNCAUGHT-SKIP", 0, ["d"], u=["d"]),
        ]
    )
    assert (s["mutations"], s["caught"], s["survivors"], s["misses"], s["uncaught_skips"]) == (4, 1, 1, 1, 1)
    assert s["precision"] == round(6 / 4, 2)  # survivors do not count; (4 + 2 + 0) planned / 4 failing
    assert summarize([])["precision"] is None


def test_a_neutral_edit_nothing_failed_on_is_not_a_survivor() -> None:
    refresh = Outcome("x.lock", "inputs", "lock-valid-refresh", "d", "survived", 3, [], [], [], [])
    corrupt = Outcome("x.lock", "inputs", "lock-corrupt-hash", "d", "survived", 3, [], [], [], [])
    version = Outcome("subproject.toml", "inputs", "subproject-version", "d", "caught", 3, ["t"], [], [], [])
    s = summarize([refresh, corrupt, version])
    assert (s["survivors"], s["neutral"], s["caught"]) == (1, 1, 1)  # a neutral edit that broke a test is caught


def test_a_running_drivers_tests_its_policy_left_out_count_as_skipped_not_missed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A testing helper reaches libvirt through the driver API (one test runs) and through the
    compute service (core-changes=skip leaves out its end-to-end test): a failure there, with
    nova-common's own planned test failing too, is a caught break, not a miss."""
    import nova_split_tools.audit as audit
    from nova_split_tools.plan import Decision, Plan

    api_test, e2e_test = f"{LV}/driver_test.py", f"{LV}/cli_integration_test.py"
    decisions = {
        "nova-common": Decision(run=True, voting=True, why=["own"], tests={f"{NC}/driver_test.py"}),
        "libvirt": Decision(run=True, voting=True, why=["api", "e2e"], tests={api_test}, skipped_tests={e2e_test}),
    }
    monkeypatch.setattr(audit, "compute_plan", lambda *a, **k: Plan(decisions, False, [], False))
    tests = ALL_TESTS | {e2e_test}
    planned, skipped = planned_and_skipped(f"{NC}/testing/helper.py", subprojects(), graph(), tests)
    assert api_test in planned and e2e_test in skipped and e2e_test not in planned
    both = RunResult({e2e_test, f"{NC}/driver_test.py"}, set())
    assert classify(planned, skipped, both)[:3] == ("caught", [], [])
    alone = RunResult({e2e_test}, set())
    assert classify(planned, skipped, alone)[:3] == ("UNCAUGHT-SKIP", [], [e2e_test])


def test_a_failing_unit_test_of_a_driver_reached_only_end_to_end_is_a_miss_not_a_skip() -> None:
    """compute/manager.py reaches libvirt only through its end-to-end test (core-changes=skip):
    that test is skipped by policy; its unit test was never reached, so failing it is a miss."""
    tests = ALL_TESTS | {f"{LV}/cli_integration_test.py"}
    planned, skipped = planned_and_skipped(f"{NC}/compute/manager.py", subprojects(), graph(), tests)
    assert skipped == {f"{LV}/cli_integration_test.py"} and f"{LV}/driver_test.py" not in planned
    unit = RunResult({f"{LV}/driver_test.py", f"{NC}/driver_test.py"}, set())
    assert classify(planned, skipped, unit)[:2] == ("MISS", [f"{LV}/driver_test.py"])
