import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from nova_split_tools.ci_github import CHECK_COMMANDS
from nova_split_tools.ci_jobs import DEFAULT_TOOL_RESOLVES
from nova_split_tools.ci_zuul import (
    BASE_JOB,
    CHECKS_JOB,
    DOC_REGEXES,
    DOCS_JOB,
    GUARD_JOB,
    PATH,
    ansible_literal,
    foreign_config,
    glob_regex,
    job_starts,
    render,
    uncovered,
)
from nova_split_tools.plan import API, CORE_METADATA, END_TO_END, OWN, compute_plan
from nova_split_tools.repo import Change
from nova_split_tools.subprojects import CorePolicy
from nova_split_tools.testing.graphs import DOCS_TEST, NC, graph, no_base, subprojects


def load(
    core: CorePolicy = CorePolicy.VOTE, api: CorePolicy = CorePolicy.VOTE
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The Zuul jobs and project of the fixture graph, xen with ``core-changes`` and ``api-changes`` given."""
    files = render(graph(), subprojects(core, api))
    assert set(files) == {PATH}
    entries = yaml.safe_load(files[PATH])
    jobs = {e["job"]["name"]: e["job"] for e in entries if "job" in e}
    (project,) = (e["project"] for e in entries if "project" in e)
    return jobs, project


def core_sources(files: list[str]) -> list[str]:
    """The nova-common Python sources among a job's ``files`` regexes (not its lockfile/BUILD/requirements)."""
    return [f for f in files if f.startswith(r"^nova\-common/nova_common/") and f.endswith(r"\.py$")]


def starts(jobs: dict[str, dict[str, Any]], name: str, paths: list[str]) -> bool:
    """Whether Zuul starts job ``name`` for a change to ``paths`` (:func:`ci_zuul.job_starts`)."""
    return job_starts(jobs, name, paths)


def test_base_job_names_the_playbooks_and_nodeset() -> None:
    jobs, _ = load()
    base = jobs[BASE_JOB]
    assert base["abstract"] is True
    assert (base["pre-run"], base["run"], base["post-run"]) == (
        "playbooks/pre.yaml",
        "playbooks/run.yaml",
        "playbooks/post.yaml",
    )
    assert base["nodeset"]["nodes"][0]["label"]
    assert base["roles"] == [{"zuul": "zuul/zuul-jobs"}]  # pre.yaml's ensure-python
    assert "irrelevant-files" not in base  # the docs job inherits from it
    for s in subprojects():
        assert jobs[f"nova-split-{s.name}"]["irrelevant-files"] == list(DOC_REGEXES)


DOC_CHANGES = [
    ["README.md"],
    ["drivers/xen/README.md"],
    ["docs/ci.md"],
    ["docs/guide.rst"],
    ["LICENSE"],
    ["docs/BUILD"],
]


@pytest.mark.parametrize("paths", DOC_CHANGES, ids=lambda p: ",".join(p))
def test_documentation_starts_only_the_docs_job_which_runs_the_planned_docs_tests(paths: list[str]) -> None:
    jobs, project = load()
    plan = compute_plan([Change(p, "M") for p in paths], subprojects(), graph(), no_base)
    assert {n: d.run for n, d in plan.subprojects.items() if d.run} == {"build-support": True}
    assert plan.subprojects["build-support"].tests == {DOCS_TEST}
    # (the guard starts on every change; it runs nothing here: the docs job covers the plan)
    assert [n for n in project["check"]["jobs"] if starts(jobs, n, paths)] == [DOCS_JOB, GUARD_JOB, CHECKS_JOB]
    docs = jobs[DOCS_JOB]
    assert docs["vars"]["subproject"] == "build-support" and docs["vars"]["only_tests"] == [DOCS_TEST]
    assert docs.get("voting", True) and DOCS_JOB in project["gate"]["jobs"]


def test_documentation_beside_code_starts_the_docs_job_too() -> None:
    jobs, project = load()
    paths = ["docs/ci.md", "drivers/xen/nova_xen/driver.py"]
    assert [n for n in project["check"]["jobs"] if starts(jobs, n, paths)] == [
        "nova-split-xen",
        DOCS_JOB,
        GUARD_JOB,
        CHECKS_JOB,
    ]


def test_every_subproject_votes_in_check_and_gate_under_the_vote_policy() -> None:
    jobs, project = load()
    names = [f"nova-split-{s.name}" for s in subprojects()] + [DOCS_JOB, GUARD_JOB, CHECKS_JOB]
    assert project["check"]["jobs"] == names and project["gate"]["jobs"] == names
    for s in subprojects():
        job = jobs[f"nova-split-{s.name}"]
        assert job["parent"] == BASE_JOB and job.get("voting", True)
        assert job["vars"] == {"subproject": s.name, "subproject_path": s.path}
        assert job["files"][0] == glob_regex(f"{s.path}/**")
    assert rf"^{re.escape(NC)}/driver\.py$" in jobs["nova-split-xen"]["files"]
    # libvirt keeps the defaults: the driver API path votes, the end-to-end path (compute service) is skipped
    libvirt = jobs["nova-split-libvirt"]["files"]
    assert rf"^{re.escape(NC)}/objects/network\.py$" in libvirt
    assert rf"^{re.escape(NC)}/compute/manager\.py$" not in libvirt
    assert rf"^{re.escape(NC)}/testing/cli\.py$" not in libvirt


def test_advisory_api_changes_are_a_non_voting_job_kept_out_of_gate() -> None:
    jobs, project = load(CorePolicy.SKIP, CorePolicy.ADVISORY)
    xen, advisory = jobs["nova-split-xen"], jobs["nova-split-xen-core-advisory"]
    assert core_sources(xen["files"]) == []
    # the common resolve's files still vote: pytest and mypy come from it
    assert r"^nova\-common/common\.lock$" in xen["files"]
    assert advisory["voting"] is False and advisory["parent"] == "nova-split-xen"
    assert rf"^{re.escape(NC)}/driver\.py$" in advisory["files"]
    assert all(f.startswith(r"^nova\-common/") for f in advisory["files"])
    assert "nova-split-xen-core-advisory" in project["check"]["jobs"]
    assert "nova-split-xen-core-advisory" not in project["gate"]["jobs"]


def test_skip_policies_have_no_advisory_job_and_no_core_sources() -> None:
    jobs, project = load(CorePolicy.SKIP, CorePolicy.SKIP)
    assert "nova-split-xen-core-advisory" not in jobs
    assert core_sources(jobs["nova-split-xen"]["files"]) == []
    assert "nova-split-xen" in project["gate"]["jobs"]


def test_regexes_are_anchored_and_escape_globs() -> None:
    assert glob_regex("drivers/xen/**") == r"^drivers/xen/.*$"
    assert glob_regex("pants.toml") == r"^pants\.toml$"
    assert re.match(glob_regex(".ci/**"), ".ci/run") and not re.match(glob_regex(".ci/**"), "x.ci/run")
    assert not re.match(glob_regex("pants"), "pants.toml")


#: every nova-common file a change can touch: the graph's, its metadata, and its BUILD file
CORE_FILES = sorted(
    {f for f in graph().owners if f.startswith("nova-common/")}
    | {f"nova-common/{m}" for m in CORE_METADATA}
    | {"nova-common/BUILD"}
)


@pytest.mark.parametrize("core", list(CorePolicy), ids=lambda p: f"core-{p.value}")
@pytest.mark.parametrize("api", list(CorePolicy), ids=lambda p: f"api-{p.value}")
def test_each_nova_common_file_runs_and_votes_in_zuul_as_the_plan_decides(api: CorePolicy, core: CorePolicy) -> None:
    """Both drivers with ``api-changes`` and ``core-changes`` given: for every nova-common file as
    a one-file change, a driver's jobs whose ``files`` match (the voting job, the non-voting
    ``-core-advisory`` one) run and vote exactly as :func:`compute_plan` (file level) decides."""
    subs = [replace(s, api_changes=api, core_changes=core) if s.is_driver else s for s in subprojects()]
    entries = yaml.safe_load(render(graph(), subs, DEFAULT_TOOL_RESOLVES)[PATH])
    jobs = {e["job"]["name"]: e["job"] for e in entries if "job" in e}
    mismatches, outcomes, paths = [], set(), set()
    for path in CORE_FILES:
        plan = compute_plan([Change(path, "M")], subs, graph(), no_base, tool_resolves=DEFAULT_TOOL_RESOLVES)
        for s in (s for s in subs if s.is_driver):
            votes = starts(jobs, f"nova-split-{s.name}", [path])
            ran = votes or starts(jobs, f"nova-split-{s.name}-core-advisory", [path])
            d = plan.subprojects[s.name]
            if (ran, votes) != (d.run, d.run and d.voting):
                mismatches.append(f"{path}: {s.name} zuul run={ran} voting={votes}, plan run={d.run} voting={d.voting}")
            if OWN not in d.paths:  # reached from nova-common only (not as a resolve's file)
                outcomes.add((d.run, d.voting))
                paths |= d.paths
    assert not mismatches, "\n".join(mismatches)
    # Not vacuous: both paths from nova-common to a driver are taken, with each outcome the policies give.
    assert {API, END_TO_END} <= paths
    assert ((True, False) in outcomes) == (CorePolicy.ADVISORY in (api, core))
    assert ((True, True) in outcomes) == (CorePolicy.VOTE in (api, core))


def test_the_guard_job_has_no_file_matchers_and_votes_in_check_and_gate() -> None:
    jobs, project = load()
    guard = jobs[GUARD_JOB]
    assert "files" not in guard and "irrelevant-files" not in guard and guard.get("voting", True)
    assert guard["vars"]["guard"] is True and guard["parent"] == BASE_JOB
    assert GUARD_JOB in project["check"]["jobs"] and GUARD_JOB in project["gate"]["jobs"]
    assert starts(jobs, GUARD_JOB, ["README.md"]) and starts(jobs, GUARD_JOB, ["anything/new.sh"])


def _uncovered(changes: list[Change], zuul_paths: list[str]) -> set[str]:
    subs = subprojects(CorePolicy.VOTE)
    plan = compute_plan(changes, subs, graph(), graph, tool_resolves=DEFAULT_TOOL_RESOLVES)
    return uncovered(render(graph(), subs, DEFAULT_TOOL_RESOLVES)[PATH], plan, zuul_paths)


@pytest.mark.parametrize("path", ["Makefile", ".gitattributes", "tools/new.sh"])
def test_the_guard_runs_what_a_new_file_outside_every_subproject_makes_the_plan_run(path: str) -> None:
    """The plan runs everything for a file no target owns; no job's ``files`` can list a file that
    did not exist when they were generated, so the guard runs every subproject."""
    assert _uncovered([Change(path, "A")], [path]) == {s.name for s in subprojects()}


def test_the_guard_runs_the_dependents_of_a_renamed_files_old_path() -> None:
    """Zuul sees a rename by its new path only: the drivers that reach the old path start no job."""
    old = f"{NC}/driver.py"
    new = f"{NC}/driver_api.py"
    left = _uncovered([Change(new, "R", old)], [new])
    assert left and "nova-common" not in left and left <= {s.name for s in subprojects() if s.is_driver}, left


@pytest.mark.parametrize("path", [f"{NC}/driver.py", "drivers/xen/nova_xen/driver.py", "docs/guide.md"])
def test_the_guard_runs_nothing_when_every_planned_subproject_has_its_job(path: str) -> None:
    assert _uncovered([Change(path, "M")], [path]) == set()


def test_the_docs_job_covers_only_the_docs_tests_of_its_subproject() -> None:
    """Documentation beside a new root file: the docs job starts, but the plan runs all of the
    tooling's tests, which the docs job (``only_tests``) does not: the guard runs them."""
    paths = ["tools/new.sh", "docs/guide.md"]
    assert _uncovered([Change(paths[0], "A"), Change(paths[1], "M")], paths) == {s.name for s in subprojects()}


def _uncovered_with(changes: list[Change], zuul_paths: list[str], api: CorePolicy) -> set[str]:
    subs = subprojects(CorePolicy.SKIP, api)
    plan = compute_plan(changes, subs, graph(), graph, tool_resolves=DEFAULT_TOOL_RESOLVES)
    return uncovered(render(graph(), subs, DEFAULT_TOOL_RESOLVES)[PATH], plan, zuul_paths)


def test_an_advisory_job_does_not_cover_tests_the_plan_says_vote() -> None:
    """A new root file makes the plan run xen voting; the driver API file beside it starts only
    xen's ``-core-advisory`` job (``votes: false``), whose run playbook leaves voting tests to the
    voting job, which did not start: the guard runs xen."""
    paths = ["Makefile", f"{NC}/driver.py"]
    changes = [Change(paths[0], "A"), Change(paths[1], "M")]
    jobs, _ = load(CorePolicy.SKIP, CorePolicy.ADVISORY)
    assert starts(jobs, "nova-split-xen-core-advisory", paths) and not starts(jobs, "nova-split-xen", paths)
    assert "xen" in _uncovered_with(changes, paths, CorePolicy.ADVISORY)


def test_an_advisory_job_covers_what_the_plan_says_is_advisory() -> None:
    path = f"{NC}/driver.py"
    assert "xen" not in _uncovered_with([Change(path, "M")], [path], CorePolicy.ADVISORY)


def test_the_checks_job_runs_githubs_checks_on_every_change_and_votes() -> None:
    jobs, project = load()
    checks = jobs[CHECKS_JOB]
    assert "files" not in checks and "irrelevant-files" not in checks and checks.get("voting", True)
    assert checks["run"] == "playbooks/checks.yaml" and checks["parent"] == BASE_JOB
    assert [(c["name"], c["run"]) for c in checks["vars"]["checks"]] == list(CHECK_COMMANDS)
    assert CHECKS_JOB in project["check"]["jobs"] and CHECKS_JOB in project["gate"]["jobs"]
    # it tests nothing, so it covers no subproject for the guard
    path = "Makefile"
    assert "build-support" in _uncovered([Change(path, "A")], [path])


def _zuul_tree(tmp_path: Path, **extra: str) -> tuple[Path, str]:
    generated = render(graph(), subprojects(), DEFAULT_TOOL_RESOLVES)[PATH]
    (tmp_path / "zuul.d").mkdir()
    (tmp_path / PATH).write_text(generated)
    for name, text in extra.items():
        (tmp_path / name.replace("__", "/")).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name.replace("__", "/")).write_text(text)
    return tmp_path, generated


def test_own_jobs_and_other_teams_jobs_beside_the_generated_file_are_fine(tmp_path: Path) -> None:
    local = (
        "- job: {name: team-extra, parent: nova-split-xen}\n"
        "- project: {check: {jobs: [team-extra, nova-split-xen]}}\n"
    )
    # Zuul's own tags: a secret for a team's job, !override/!inherit; a .yml file Zuul does not read
    secret = (
        "- secret:\n    name: team-token\n    data:\n      token: !encrypted/pkcs1-oaep\n        - c2VjcmV0\n"
        "- job:\n    name: team-publish\n    tags: !override [a]\n    secrets: [team-token]\n"
    )
    root, generated = _zuul_tree(
        tmp_path,
        **{"zuul.d__local.yaml": local, "zuul.d__secrets.yaml": secret, "zuul.d__notes.yml": "- job: [\n"},
    )
    assert foreign_config(root, generated) is None


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        (
            "zuul.d__local.yaml",
            "- job:\n    name: nova-split-xen\n    files: ['^drivers/xen/.*$']\n",
            "zuul.d/local.yaml: redefines the generated job nova-split-xen (a variant)",
        ),
        (
            "zuul.d__local.yaml",
            "- project:\n    check:\n      jobs:\n        - nova-split-xen: {voting: false}\n",
            "zuul.d/local.yaml: gives the generated job nova-split-xen attributes in a pipeline",
        ),
        ("zuul.yaml", "- job: {name: team-extra}\n", "zuul.yaml: Zuul reads it instead of zuul.d/"),
        (".zuul.yaml", "- job: {name: team-extra}\n", ".zuul.yaml: Zuul ignores it beside zuul.d/"),
        ("zuul.d__broken.yaml", "- job: [\n", "zuul.d/broken.yaml: not YAML"),
        (
            "zuul.d__local.yaml",
            "- project:\n    vars: {votes: false}\n",
            "zuul.d/local.yaml: project vars votes reach every generated job",
        ),
        (
            "zuul.d__local.yaml",
            "- project-template:\n    name: t\n    gate:\n      jobs:\n        - nova-split-xen: {voting: false}\n",
            "zuul.d/local.yaml: gives the generated job nova-split-xen attributes in a pipeline (project-template)",
        ),
        (
            "zuul.d__sub__v.yaml",
            "- job:\n    name: nova-split-xen\n    files: ['^nothing$']\n",
            "zuul.d/sub/v.yaml: redefines the generated job nova-split-xen",
        ),
        ("zuul.d__.zuul.ignore", "", "zuul.d/.zuul.ignore: Zuul skips everything"),
    ],
)
def test_configuration_that_changes_the_generated_jobs_behind_the_plan_is_refused(
    tmp_path: Path, name: str, text: str, said: str
) -> None:
    root, generated = _zuul_tree(tmp_path, **{name: text})
    problem = foreign_config(root, generated)
    assert problem is not None and problem.startswith(said) and "\n" not in problem, problem


def test_text_ansible_would_template_is_passed_as_a_raw_block() -> None:
    assert ansible_literal("./pants lint ::") == "./pants lint ::"
    assert ansible_literal('echo "${#x[@]}"') == '{% raw %}echo "${#x[@]}"{% endraw %}'
    assert ansible_literal("echo {{ x }}") == "{% raw %}echo {{ x }}{% endraw %}"
    with pytest.raises(ValueError, match="endraw"):
        ansible_literal("{% endraw %}{{ x }}")
