"""The triggers every path-filtered CI shares (ci_jobs): GitHub's driver workflows and the Zuul jobs."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from nova_split_tools import ci_github, ci_jobs, ci_zuul
from nova_split_tools.ci_jobs import DEFAULT_TOOL_RESOLVES, UNOWNED
from nova_split_tools.plan import compute_plan
from nova_split_tools.repo import Change
from nova_split_tools.testing.graphs import graph, no_base, subprojects

#: a tracked file of each kind outside every subproject that no Pants target owns
UNOWNED_FILES = [
    "OWNERS",
    "pants.ci.toml",
    ".github/workflows/ci.yml",
    ".github/workflows/driver-xen.yml",
    "zuul.d/nova-split.yaml",
    "playbooks/pre.yaml",
    "playbooks/vars.yaml",
]


def _driver_workflows() -> dict[str, dict[str, Any]]:
    files = ci_jobs.render(graph(), subprojects())
    return {p: yaml.safe_load(t) for p, t in files.items() if p.startswith(".github/workflows/driver-")}


def _zuul_jobs() -> dict[str, dict[str, Any]]:
    entries = yaml.safe_load(ci_zuul.render(graph(), subprojects())[ci_zuul.PATH])
    return {e["job"]["name"]: e["job"] for e in entries if "job" in e}


def test_the_samples_cover_every_unowned_entry() -> None:
    for glob in UNOWNED:
        prefix = glob.removesuffix("**")
        assert any(f == glob or (glob.endswith("**") and f.startswith(prefix)) for f in UNOWNED_FILES), glob


@pytest.mark.parametrize("path", UNOWNED_FILES)
def test_a_file_the_plan_runs_everything_for_triggers_every_driver_workflow_and_zuul_job(path: str) -> None:
    plan = compute_plan([Change(path, "M")], subprojects(), graph(), no_base, tool_resolves=DEFAULT_TOOL_RESOLVES)
    assert plan.run_all, f"the plan does not run everything for {path}"
    workflows = _driver_workflows()
    assert len(workflows) == len([s for s in subprojects() if s.is_driver])
    for name, workflow in workflows.items():
        assert ci_github.triggered(workflow, [path]), f"{name} does not trigger on {path}"
    jobs = _zuul_jobs()
    for s in subprojects():
        job = jobs[f"nova-split-{s.name}"]
        assert any(re.match(r, path) for r in job["files"]), f"nova-split-{s.name} does not run on {path}"
        assert not any(re.match(r, path) for r in job["irrelevant-files"])
