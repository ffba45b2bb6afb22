"""The generated GitHub workflows: their shape, and their triggers against the plan's decisions."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from nova_split_tools import ci_github
from nova_split_tools.ci_jobs import render
from nova_split_tools.plan import compute_plan
from nova_split_tools.plan_cmd import _as_matrix
from nova_split_tools.repo import Change
from nova_split_tools.subprojects import CorePolicy
from nova_split_tools.testing.github import job_result, runs
from nova_split_tools.testing.graphs import LV, NC, XN, graph, no_base, subprojects


def _load(policy: CorePolicy = CorePolicy.VOTE) -> dict[str, dict[str, Any]]:
    files = render(graph(), subprojects(policy))
    return {p: yaml.safe_load(t) for p, t in files.items() if p.startswith(".github/workflows/")}


def _on(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads an unquoted `on` key as True; GitHub reads it as "on". The dump quotes it.
    assert "on" in workflow, "the `on` key must survive a YAML 1.1 loader"
    on: dict[str, Any] = workflow["on"]
    return on


def test_files_are_yaml_from_a_library_not_json() -> None:
    text = render(graph(), subprojects())[".github/workflows/ci.yml"]
    assert not text.lstrip("# \n").startswith("{") and "\n  plan:\n" in text
    assert "run: |\n" in text  # multi-line scripts are literal blocks


def test_main_workflow_plans_then_tests_the_matrix_and_always_checks() -> None:
    ci = _load()[".github/workflows/ci.yml"]
    assert _on(ci) == {"pull_request": {}, "push": {"branches": ["main"]}}
    assert ci["permissions"] == {"contents": "read"}
    # a pull request's runs share a group (a new push cancels the stale run); each push to main is
    # its own group, since GitHub cancels a group's pending run when another arrives
    assert ci["concurrency"] == {
        "group": "${{ github.workflow }}-${{ github.event_name == 'pull_request' && github.ref || github.sha }}",
        "cancel-in-progress": "${{ github.event_name == 'pull_request' }}",
    }
    assert ci["env"]["PANTS_CONFIG_FILES"] == "pants.ci.toml"
    plan, test, checks = ci["jobs"]["plan"], ci["jobs"]["test"], ci["jobs"]["checks"]
    assert "nova-split plan" in plan["steps"][-1]["run"] and "--format github" in plan["steps"][-1]["run"]
    assert test["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert test["continue-on-error"] == "${{ !matrix.voting }}" and test["needs"] == "plan"
    assert "needs" not in checks and "if" not in checks
    runs = "\n".join(s.get("run", "") for s in checks["steps"])
    for gate in ("lint ::", "check ::", "dependencies ::", "ci-config --check", "packaging --check", "actionlint"):
        assert gate in runs
    for job in (plan, test, checks):
        assert job["timeout-minutes"] > 0
        uses = [s.get("uses", "") for s in job["steps"]]
        assert "actions/setup-python@v5" in uses and "actions/cache@v4" in uses
        setup = next(s for s in job["steps"] if s.get("uses") == "actions/setup-python@v5")
        assert setup["with"]["python-version"].split() == ["3.9", "3.11"]
        assert any("ensure-system-deps" in s.get("run", "") for s in job["steps"])
    for job in (test, checks):
        upload = job["steps"][-1]
        assert upload["if"] == "failure()" and "dist/test/reports/" in upload["with"]["path"]
        assert ".pants.d/pants.log" in upload["with"]["path"] and upload["with"]["include-hidden-files"] is True


def _triggered(workflow: dict[str, Any], paths: list[str]) -> bool:
    assert _on(workflow)["pull_request"]["paths"]
    return ci_github.triggered(workflow, paths)


SAMPLE = [
    ["drivers/libvirt/nova_libvirt/driver.py"],
    ["drivers/xen/nova_xen/driver.py"],
    [f"{NC}/driver.py"],
    [f"{NC}/objects/network.py"],
    ["nova-common/BUILD"],
    ["pants.toml"],
    [".ci/run"],
    ["drivers/xen/README.md"],
    ["docs/ci.md"],
    [f"{NC}/objects/network.py", "drivers/xen/nova_xen/driver.py"],
    ["drivers/libvirt/subproject.toml"],
    ["nova-common/common.lock"],
    ["drivers/xen/xen.lock"],
]
# Not in the sample: a path no target owns. The plan runs everything for it ("to be safe"), which
# a path filter cannot express; the main workflow (ci.yml) has no filter and follows the plan.


@pytest.mark.parametrize("policy", list(CorePolicy))
@pytest.mark.parametrize("paths", SAMPLE, ids=lambda p: ",".join(p))
def test_driver_workflows_trigger_whenever_the_plan_runs_the_driver(paths: list[str], policy: CorePolicy) -> None:
    """A path filter may over-trigger (the workflow's plan job then skips the tests); it must
    never miss a change the plan runs the driver for, nor fire for another driver's own files."""
    workflows = _load(policy)
    plan = compute_plan([Change(p, "M") for p in paths], subprojects(policy), graph(), no_base)
    for name in ("libvirt", "xen"):
        workflow = workflows[f".github/workflows/driver-{name}.yml"]
        if plan.subprojects[name].run:
            assert _triggered(workflow, paths), f"plan runs {name} for {paths} but its workflow does not trigger"
        other = "xen" if name == "libvirt" else "libvirt"
        if all(p.startswith(f"drivers/{other}/") for p in paths):
            assert not _triggered(workflow, paths), f"{name}'s workflow fires on {other}'s own change"
    assert workflows[".github/workflows/ci.yml"]["on"]["pull_request"] == {}  # the plan job decides


def test_driver_workflow_takes_run_and_voting_from_the_plan() -> None:
    xen = _load()[".github/workflows/driver-xen.yml"]
    assert xen["jobs"]["test"]["if"] == "needs.plan.outputs.run == 'true'"
    assert xen["jobs"]["test"]["continue-on-error"] == "${{ needs.plan.outputs.voting != 'true' }}"
    plan_step = xen["jobs"]["plan"]["steps"][-1]
    assert plan_step["env"]["SUBPROJECT"] == "xen" and "--format github" in plan_step["run"]
    assert './pants test "${specs[@]}"' in xen["jobs"]["test"]["steps"][-2]["run"]


def test_overlay_turns_off_the_dynamic_ui() -> None:
    assert "dynamic_ui = false" in ci_github.PANTS_CI_TOML
    assert render(graph(), subprojects())["pants.ci.toml"] == ci_github.PANTS_CI_TOML


def test_plan_sample_reaches_each_kind_of_decision() -> None:
    """The sample above is not vacuous: it holds runs, skips, and both drivers reached by core."""
    decisions = [compute_plan([Change(p, "M") for p in ps], subprojects(), graph(), no_base) for ps in SAMPLE]
    assert any(d.subprojects["libvirt"].run and not d.subprojects["xen"].run for d in decisions)
    assert any(d.subprojects["xen"].run and not d.subprojects["libvirt"].run for d in decisions)
    assert any(not d.subprojects["xen"].run and not d.subprojects["libvirt"].run for d in decisions)


def _cache_steps() -> dict[str, dict[str, str]]:
    """``workflow/job`` -> the ``with:`` of its cache step, for every job of every workflow."""
    out = {}
    for path, workflow in _load().items():
        for job_id, job in workflow["jobs"].items():
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/cache@"):
                    out[f"{path.rsplit('/', 1)[-1]}/{job_id}"] = step["with"]
    return out


def test_each_kind_of_job_keys_its_own_cache_and_falls_back_to_its_own_then_any() -> None:
    """GitHub writes an entry once per key: one key for all jobs would hold only the first job's caches."""
    caches = _cache_steps()
    assert {"ci.yml/plan", "ci.yml/test", "ci.yml/checks", "driver-xen.yml/plan", "driver-xen.yml/test"} <= set(caches)
    lockfiles = "${{ hashFiles('pants.toml', 'pants.ci.toml', '**/*.lock') }}"
    any_job = "pants-${{ runner.os }}-"
    kinds = {
        "ci.yml/plan": "plan",
        "ci.yml/test": "test-${{ matrix.subproject }}",
        "ci.yml/checks": "checks",
        # a driver workflow's jobs do the work of ci.yml's plan and test of that driver
        "driver-xen.yml/plan": "plan",
        "driver-xen.yml/test": "test-xen",
        "driver-libvirt.yml/test": "test-libvirt",
    }
    for job, kind in kinds.items():
        assert caches[job]["key"] == f"{any_job}{kind}-{lockfiles}", job
        assert caches[job]["restore-keys"].split("\n") == [f"{any_job}{kind}-", any_job, ""], job
    assert len({caches[j]["key"] for j in ("ci.yml/plan", "ci.yml/test", "ci.yml/checks")}) == 3


def _result_of(plan: str, test: str, checks: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Runs the `ci result` job's step with the given ``needs.<job>.result`` values."""
    job = _load()[".github/workflows/ci.yml"]["jobs"]["result"]
    (step,) = job["steps"]
    results = {"plan": plan, "test": test, "checks": checks}
    env = {}
    for var, expr in step["env"].items():
        needed = re.fullmatch(r"\$\{\{ needs\.(\w+)\.result \}\}", expr)
        assert needed, f"{var}: {expr}"
        env[var] = results[needed[1]]
    script = tmp_path / "result.sh"
    script.write_text(step["run"])
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
    )


def test_ci_result_is_one_status_over_plan_tests_and_checks() -> None:
    result = _load()[".github/workflows/ci.yml"]["jobs"]["result"]
    assert result["name"] == "ci result" and result["if"] == "always()"
    assert set(result["needs"]) == {"plan", "test", "checks"}


VOTING_PASSED, VOTING_FAILED, NON_VOTING_FAILED = (True, False), (False, False), (False, True)


@pytest.mark.parametrize(
    "plan,test,checks,passes",
    [
        pytest.param("success", job_result([VOTING_PASSED, VOTING_PASSED]), "success", True, id="all-passed"),
        pytest.param("success", job_result([VOTING_PASSED, VOTING_FAILED]), "success", False, id="voting-test-failed"),
        pytest.param(
            "success", job_result([VOTING_PASSED, NON_VOTING_FAILED]), "success", True, id="non-voting-failed"
        ),
        # no subproject planned: the test job's `if` is false, GitHub skips it
        pytest.param("success", "skipped", "success", True, id="nothing-planned"),
        # the plan failed: the test job that needs it is skipped
        pytest.param("failure", "skipped", "success", False, id="plan-failed"),
        pytest.param("success", job_result([VOTING_PASSED]), "failure", False, id="checks-failed"),
        pytest.param("success", "cancelled", "success", False, id="tests-cancelled"),
    ],
)
def test_ci_result_decides(plan: str, test: str, checks: str, passes: bool, tmp_path: Path) -> None:
    done = _result_of(plan, test, checks, tmp_path)
    assert (done.returncode == 0) == passes, done.stdout + done.stderr
    assert ("ci result: passed" in done.stdout) == passes
    if not passes:
        assert "ci result: failed: " in done.stdout


def test_github_job_rules() -> None:
    """The rules the tests above and the workflow self-test apply (nova_split_tools.testing.github)."""
    assert job_result([VOTING_PASSED, NON_VOTING_FAILED]) == "success"
    assert job_result([NON_VOTING_FAILED, VOTING_FAILED]) == "failure"
    assert runs(None, {"plan": "success"}, True) and not runs(None, {"plan": "failure"}, True)
    assert not runs("needs.plan.outputs.any == 'true'", {"plan": "success"}, False)
    assert not runs("needs.plan.outputs.any == 'true'", {"plan": "failure"}, True)
    assert runs("always()", {"plan": "failure", "test": "skipped"}, True)


def _remote_cache_env(event: str, ref: str, server: str, tmp_path: Path) -> dict[str, str]:
    """What the remote-cache step writes to GITHUB_ENV for a run of ``event`` on ``ref``."""
    steps = [
        s
        for workflow in _load().values()
        for job in workflow["jobs"].values()
        for s in job["steps"]
        if s.get("name") == "Remote cache (when configured)"
    ]
    assert len(steps) == 3 + 2 * 2 and all(s == steps[0] for s in steps)  # ci.yml's three jobs, two drivers'
    context = {
        "${{ secrets.NOVA_SPLIT_REMOTE_CACHE }}": server,
        "${{ github.event_name }}": event,
        "${{ github.ref }}": ref,
    }
    github_env = tmp_path / "github_env"
    github_env.write_text("")
    script = tmp_path / "remote.sh"
    script.write_text(steps[0]["run"])
    env = {k: context[v] for k, v in steps[0]["env"].items()}
    subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        env={"PATH": os.environ["PATH"], "GITHUB_ENV": str(github_env), **env},
        check=True,
        capture_output=True,
    )
    return dict(line.split("=", 1) for line in github_env.read_text().splitlines())


@pytest.mark.parametrize(
    "event,ref,writes",
    [
        ("pull_request", "refs/pull/7/merge", False),
        ("push", "refs/heads/main", True),
        ("push", "refs/heads/feature", False),
    ],
)
def test_only_pushes_to_main_write_the_remote_cache(event: str, ref: str, writes: bool, tmp_path: Path) -> None:
    """A pull request's build (unreviewed code) must not land in the cache that later runs read."""
    # pants.remote.toml sets remote_cache_write = true; Pants' PANTS_* variables override config files.
    env = _remote_cache_env(event, ref, "grpc://cache.example.invalid:50051", tmp_path)
    assert env["PANTS_CONFIG_FILES"] == "+['pants.ci.toml','pants.remote.toml']"
    assert env["PANTS_REMOTE_STORE_ADDRESS"] == "grpc://cache.example.invalid:50051"
    assert env["PANTS_REMOTE_CACHE_WRITE"] == ("true" if writes else "false")
    assert _remote_cache_env(event, ref, "", tmp_path) == {}  # no server: neither reads nor writes


def _bash(script: str, cwd: Path, env: dict[str, str]) -> None:
    """Runs a ``run:`` step as the runner does (bash -eo pipefail), in ``cwd``."""
    path = cwd.parent / "step.sh"
    path.write_text(script)
    subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], **env},
        check=True,
        capture_output=True,
        text=True,
    )


def _checkout_planning(tmp_path: Path, matrix: dict[str, Any]) -> tuple[Path, str]:
    """A two-commit repository whose ``nova-split plan`` prints ``matrix`` and whose ``./pants``
    records its arguments (in ``pants-args``, one a line); returns it and the base commit."""
    repo = tmp_path / "repo"
    (repo / "build-support/bin").mkdir(parents=True)
    nova_split = repo / "build-support/bin/nova-split"
    nova_split.write_text(f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(matrix)}\nEOF\n")
    pants = repo / "pants"
    pants.write_text('#!/bin/sh\nprintf "%s\\n" "$@" >"$(dirname "$0")/pants-args"\n')
    for f in (nova_split, pants):
        f.chmod(0o755)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    for n in range(2):
        (repo / "change").write_text(str(n))
        subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", str(n)],
            cwd=repo,
            check=True,
        )
    base = subprocess.run(["git", "rev-parse", "HEAD~1"], cwd=repo, check=True, capture_output=True, text=True)
    return repo, base.stdout.strip()


def _step(job: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in job["steps"] if s.get("name") == name)
    return found


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


XEN_CHANGE = [f"{XN}/driver.py"]


def test_matrix_carries_exactly_the_planned_tests() -> None:
    by_name = {s.name: s for s in subprojects()}
    plan = compute_plan([Change(p, "M") for p in XEN_CHANGE], subprojects(), graph(), no_base)
    assert _as_matrix(plan, by_name) == {
        "include": [{"subproject": "xen", "path": "drivers/xen", "voting": True, "tests": [f"{XN}/driver_test.py"]}]
    }
    # build metadata: all of the subproject's tests, as one spec
    plan = compute_plan([Change("drivers/libvirt/subproject.toml", "M")], subprojects(), graph(), no_base)
    assert [e["tests"] for e in _as_matrix(plan, by_name)["include"]] == [["drivers/libvirt::"]]


def test_test_jobs_run_exactly_the_planned_tests(tmp_path: Path) -> None:
    """ci.yml: plan -> matrix -> each leg's Tests step runs ``./pants test`` on that leg's planned specs."""
    by_name = {s.name: s for s in subprojects()}
    plan = compute_plan([Change(p, "M") for p in [f"{NC}/driver.py"]], subprojects(), graph(), no_base)
    repo, base = _checkout_planning(tmp_path, _as_matrix(plan, by_name))
    ci = _load()[".github/workflows/ci.yml"]
    output = tmp_path / "plan-output"
    output.write_text("")
    plan_step = _step(ci["jobs"]["plan"], "nova-split plan --format github")
    _bash(plan_step["run"], repo, {"BASE_SHA": base, "GITHUB_OUTPUT": str(output)})
    matrix = json.loads(_outputs(output)["matrix"])
    tests = _step(ci["jobs"]["test"], "Tests")
    assert tests["env"]["TESTS"] == "${{ toJSON(matrix.tests) }}"
    ran = {}
    for entry in matrix["include"]:
        # toJSON() pretty-prints
        _bash(tests["run"], repo, {"SUBPROJECT_PATH": entry["path"], "TESTS": json.dumps(entry["tests"], indent=2)})
        ran[entry["subproject"]] = (repo / "pants-args").read_text().splitlines()
    assert ran == {
        "nova-common": ["test", f"{NC}/driver_test.py"],
        "libvirt": ["test", f"{LV}/driver_test.py"],
        "xen": ["test", f"{XN}/driver_test.py"],
    }


def test_driver_workflow_runs_exactly_its_planned_tests(tmp_path: Path) -> None:
    by_name = {s.name: s for s in subprojects()}
    plan = compute_plan([Change(p, "M") for p in XEN_CHANGE], subprojects(), graph(), no_base)
    repo, base = _checkout_planning(tmp_path, _as_matrix(plan, by_name))
    xen = _load()[".github/workflows/driver-xen.yml"]
    output = tmp_path / "plan-output"
    output.write_text("")
    plan_step = _step(xen["jobs"]["plan"], "nova-split plan --format github")
    assert plan_step["env"]["SUBPROJECT"] == "xen"
    _bash(plan_step["run"], repo, {**plan_step["env"], "BASE_SHA": base, "GITHUB_OUTPUT": str(output)})
    outputs = _outputs(output)
    assert outputs["run"] == "true" and outputs["voting"] == "true"
    assert xen["jobs"]["plan"]["outputs"]["tests"] == "${{ steps.plan.outputs.tests }}"
    tests = _step(xen["jobs"]["test"], "Tests")
    assert tests["env"]["TESTS"] == "${{ needs.plan.outputs.tests }}"
    _bash(tests["run"], repo, {"SUBPROJECT_PATH": "drivers/xen", "TESTS": outputs["tests"]})
    assert (repo / "pants-args").read_text().splitlines() == ["test", f"{XN}/driver_test.py"]
