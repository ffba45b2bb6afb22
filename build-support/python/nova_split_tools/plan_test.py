"""The planning rules, over a graph in the shape `pants peek` produces for this repository."""

from collections.abc import Callable

import pytest

from nova_split_tools.graph import Graph
from nova_split_tools.plan import API, END_TO_END, OWN, Plan, compute_plan, docs_tests
from nova_split_tools.repo import Change
from nova_split_tools.subprojects import CorePolicy
from nova_split_tools.testing.graphs import BS, DOCS_TEST, LV, NC, SOURCES, XN, graph, no_base, subprojects, texts

TOOLS = {"common": ["mypy", "pytest"]}


def plan(
    *changes: Change,
    policy: CorePolicy = CorePolicy.SKIP,
    api: CorePolicy = CorePolicy.VOTE,
    base: Callable[[], Graph] = no_base,
    edits: dict[str, str] | None = None,
    tools: dict[str, list[str]] | None = None,
) -> Plan:
    return compute_plan(
        list(changes),
        subprojects(policy, api),
        graph(),
        base,
        tool_resolves=TOOLS if tools is None else tools,
        texts=None if edits is None else texts(edits),
    )


def runs(p: Plan) -> dict[str, tuple[bool, bool]]:
    return {n: (d.run, d.voting) for n, d in p.subprojects.items() if d.run}


def specs(p: Plan) -> list[str]:
    return p.test_specs({s.name: s for s in subprojects()})


def test_driver_change_runs_only_that_driver_voting() -> None:
    p = plan(Change(f"{LV}/guest_xml.py", "M"))
    assert runs(p) == {"libvirt": (True, True)}
    assert p.subprojects["libvirt"].why[0] == f"{LV}/guest_xml.py"
    assert p.subprojects["libvirt"].tests == {f"{LV}/driver_test.py"}
    assert p.subprojects["libvirt"].paths == {OWN}
    assert p.subprojects["xen"].why == [] and not p.run_all


def test_core_internal_change_runs_nova_common_and_no_driver_by_default() -> None:
    p = plan(Change(f"{NC}/compute/manager.py", "M"), edits={f"{NC}/compute/manager.py": "def boot(d):\n    pass\n"})
    assert runs(p) == {"nova-common": (True, True)}
    assert p.subprojects["libvirt"].paths == {END_TO_END}
    assert p.subprojects["libvirt"].why == [
        f"{NC}/compute/manager.py -> {NC}/testing/cli.py -> {LV}/cli_integration_test.py"
        " [end-to-end, core-changes=skip: not run]"
    ]
    # the test its policy left out, for the audit (which counts it as skipped, not as a miss)
    assert p.subprojects["libvirt"].skipped_tests == {f"{LV}/cli_integration_test.py"}


def test_a_team_opts_in_to_end_to_end_runs_advisory_or_voting() -> None:
    change = Change(f"{NC}/driver.py", "M")
    edit = {f"{NC}/driver.py": SOURCES[f"{NC}/driver.py"].replace("NotImplementedError", "RuntimeError")}
    # xen's code uses ComputeDriver.spawn: the driver API path votes by default
    assert runs(plan(change, edits=edit))["xen"] == (True, True)
    # libvirt's end-to-end test drives the compute service, which calls spawn: skipped by default
    assert "libvirt" in runs(plan(change, edits=edit))  # its driver.py subclasses ComputeDriver
    skipped = plan(change, api=CorePolicy.SKIP, edits=edit)
    assert "xen" not in runs(skipped)
    assert skipped.subprojects["xen"].why[0].endswith("[driver API, api-changes=skip: not run]")
    advisory = plan(change, api=CorePolicy.ADVISORY, edits=edit)
    assert runs(advisory)["xen"] == (True, False)
    assert advisory.subprojects["xen"].tests == {f"{XN}/driver_test.py"}


def test_end_to_end_policy_opt_in() -> None:
    change = Change(f"{NC}/compute/manager.py", "M")
    edit = {f"{NC}/compute/manager.py": "def boot(d):\n    pass\n"}
    assert "xen" not in runs(plan(change, policy=CorePolicy.VOTE, edits=edit))  # xen has no end-to-end test
    p = compute_plan([change], _libvirt_e2e(CorePolicy.ADVISORY), graph(), no_base, tool_resolves=TOOLS)
    assert runs(p)["libvirt"] == (True, False)
    assert p.subprojects["libvirt"].tests == {f"{LV}/cli_integration_test.py"}


def _libvirt_e2e(policy: CorePolicy) -> list:  # type: ignore[type-arg]
    subs = subprojects()
    from dataclasses import replace

    return [replace(s, core_changes=policy) if s.name == "libvirt" else s for s in subs]


def test_member_change_reaches_only_drivers_that_use_the_member() -> None:
    flavor = f"{NC}/objects/flavor.py"
    unused = plan(Change(flavor, "M"), edits={flavor: SOURCES[flavor].replace("128", "256")})
    # memory_mb changed; xen reads only vcpus, libvirt never names Flavor
    assert runs(unused) == {"nova-common": (True, True)}
    used = plan(Change(flavor, "M"), edits={flavor: SOURCES[flavor].replace("vcpus: int = 1", "vcpus: int = 2")})
    assert runs(used) == {"nova-common": (True, True), "xen": (True, True)}
    assert used.subprojects["xen"].why[0] == (
        f"{flavor} [vcpus] -> {NC}/objects/__init__.py -> {XN}/driver.py [driver API]"
    )
    assert used.subprojects["xen"].paths == {API}


def test_a_helper_change_reaches_users_of_the_members_that_call_it() -> None:
    flavor = f"{NC}/objects/flavor.py"
    src = SOURCES[flavor].replace(
        "    vcpus: int = 1\n", "    vcpus: int = 1\n\n    def cpus(self):\n        return _n()\n"
    )
    src += "\ndef _n():\n    return 1\n"
    new = src.replace("return 1", "return 2")
    p = compute_plan(
        [Change(flavor, "M")],
        subprojects(),
        graph(),
        no_base,
        tool_resolves=TOOLS,
        texts=lambda path: (src, new) if path == flavor else (SOURCES.get(path), SOURCES.get(path)),
    )
    assert "xen" not in runs(p)  # xen uses vcpus, not cpus
    p2 = compute_plan(
        [Change(flavor, "M")],
        subprojects(),
        graph(),
        no_base,
        tool_resolves=TOOLS,
        texts=lambda path: (
            (src, new)
            if path == flavor
            else (SOURCES[f"{XN}/driver.py"].replace("f.vcpus", "f.cpus()"),) * 2
            if path == f"{XN}/driver.py"
            else (SOURCES.get(path), SOURCES.get(path))
        ),
    )
    assert runs(p2)["xen"] == (True, True)


def test_without_texts_a_core_file_reaches_every_importer_on_the_api_path() -> None:
    p = plan(Change(f"{NC}/objects/network.py", "M"))
    assert runs(p) == {"nova-common": (True, True), "libvirt": (True, True), "xen": (True, True)}
    assert f"{NC}/objects/network.py -> {LV}/guest_xml.py [driver API]" in p.subprojects["libvirt"].why


def test_unparsable_or_docstring_only_changes() -> None:
    net = f"{NC}/objects/network.py"
    broken = plan(Change(net, "M"), edits={net: "class VIF(:\n"})
    assert set(runs(broken)) == {"nova-common", "libvirt", "xen"}
    doc = plan(Change(net, "M"), edits={net: '"""Networks."""\n' + SOURCES[net]})
    assert runs(doc) == {"nova-common": (True, True)}


def test_driver_policy_never_silences_its_own_changes() -> None:
    p = plan(Change(f"{XN}/driver.py", "M"), policy=CorePolicy.SKIP, api=CorePolicy.SKIP)
    assert runs(p) == {"xen": (True, True)}


@pytest.mark.parametrize(
    "path", ["nova-common/common.lock", "nova-common/requirements.txt", "build-support/requirements.txt"]
)
def test_a_tool_resolve_reaches_every_test_that_runs_the_tool(path: str) -> None:
    p = plan(Change(path, "M"))
    assert runs(p) == {s: (True, True) for s in ("nova-common", "libvirt", "xen", "build-support")}
    assert all(d.all_tests for d in p.subprojects.values())
    assert "from which mypy, pytest install" in p.subprojects["xen"].why[0]
    assert specs(p) == ["build-support::", "drivers/libvirt::", "drivers/xen::", "nova-common::"]


def test_lockfile_runs_only_its_resolve_unless_a_tool_installs_from_it() -> None:
    p = plan(Change("drivers/xen/xen.lock", "M"))
    assert runs(p) == {"xen": (True, True)} and p.subprojects["xen"].all_tests
    no_tools = plan(Change("nova-common/common.lock", "M"), tools={})
    assert runs(no_tools) == {"nova-common": (True, True), "build-support": (True, True)}


def test_lockfile_runs_only_its_resolve() -> None:
    """The former rule, corrected: common.lock is where pytest and mypy come from, so it runs everything."""
    assert runs(plan(Change("drivers/xen/xen.lock", "M"))) == {"xen": (True, True)}
    assert set(runs(plan(Change("nova-common/common.lock", "M")))) == {"nova-common", "libvirt", "xen", "build-support"}


@pytest.mark.parametrize(
    "path", ["pants.toml", "pants", ".ci/run", "build-support/macros/subprojects.py", "pyproject.toml", "BUILD"]
)
def test_build_configuration_runs_everything_with_a_reason(path: str) -> None:
    p = plan(Change(path, "M"))
    assert p.run_all and p.run_all_reasons == [f"{path}: build configuration affects every subproject"]
    assert all(d.run and d.voting for d in p.subprojects.values())
    assert p.subprojects["xen"].why == [f"everything runs: {path}: build configuration affects every subproject"]
    assert specs(p) == ["::"]


def test_documentation_runs_only_the_tests_that_read_it() -> None:
    p = plan(Change("README.md", "M"), Change("drivers/xen/README.md", "M"), Change("docs/guide.rst", "A"))
    assert runs(p) == {"build-support": (True, True)} and p.docs_only
    tooling = p.subprojects["build-support"]
    assert tooling.tests == {DOCS_TEST} and not tooling.all_tests
    assert f"drivers/xen/README.md: documentation, read by {DOCS_TEST}" in tooling.why
    assert specs(p) == [DOCS_TEST]


def test_documentation_no_target_owns_still_runs_the_docs_tests() -> None:
    """A changelog fragment or a LICENSE is documentation too: a link to it may break."""
    # (a deleted document is looked up in the base graph too: a wheel may have packed it)
    p = plan(Change("drivers/xen/CHANGELOG.md", "M"), Change("LICENSE", "D"), base=graph)
    assert runs(p) == {"build-support": (True, True)} and specs(p) == [DOCS_TEST]


@pytest.mark.parametrize("path", ["build-support/bin/README.md", ".ci/NOTES.rst", "drivers/xen/.md"])
def test_documentation_is_documentation_wherever_it_lies(path: str) -> None:
    """Under the build configuration's directories too, and by its name's ending (a file named
    ``.md``): as Zuul's ``irrelevant-files`` see it, which keep every subproject job off it."""
    p = plan(Change(path, "A"))
    assert not p.run_all and p.docs_only, p.run_all_reasons
    assert runs(p) == {"build-support": (True, True)} and specs(p) == [DOCS_TEST]


def test_documentation_beside_code_adds_the_docs_tests() -> None:
    p = plan(Change("docs/ci.md", "M"), Change("drivers/xen/nova_xen/driver.py", "M"))
    assert runs(p) == {"xen": (True, True), "build-support": (True, True)} and not p.docs_only
    assert p.subprojects["build-support"].tests == {DOCS_TEST}


def test_unowned_path_fails_safe() -> None:
    p = plan(Change("tools/mystery.py", "A"))
    assert p.run_all and "tools/mystery.py: owned by no target" in p.run_all_reasons[0]


def test_unowned_path_in_a_subproject_runs_that_subproject() -> None:
    p = plan(Change("drivers/xen/towncrier.toml", "M"))
    assert not p.run_all and runs(p) == {"xen": (True, True)}
    assert p.subprojects["xen"].all_tests
    assert any(
        "drivers/xen/towncrier.toml: owned by no target (all of xen's tests)" in w for w in p.subprojects["xen"].why
    )


def test_deleted_module_finds_dependents_in_the_base_graph() -> None:
    base_calls: list[int] = []

    def base() -> Graph:
        base_calls.append(1)
        return graph()

    p = plan(Change(f"{NC}/objects/network.py", "D"), base=base, edits={})
    assert base_calls == [1]
    assert runs(p) == {"nova-common": (True, True), "libvirt": (True, True), "xen": (True, True)}


def test_rename_uses_both_graphs() -> None:
    p = plan(Change(f"{LV}/guest_xml.py", "R", old_path=f"{XN}/driver.py"), base=graph)
    assert runs(p) == {"libvirt": (True, True), "xen": (True, True)}


def test_subproject_metadata_runs_all_its_tests_and_core_metadata_reaches_drivers_on_the_api_path() -> None:
    assert runs(plan(Change("drivers/libvirt/subproject.toml", "M"))) == {"libvirt": (True, True)}
    assert runs(plan(Change("drivers/xen/tox.ini", "M"))) == {"xen": (True, True)}
    p = plan(Change("nova-common/subproject.toml", "M"), api=CorePolicy.ADVISORY)
    assert runs(p) == {"nova-common": (True, True), "libvirt": (True, True), "xen": (True, False)}
    assert p.subprojects["xen"].all_tests


def test_all_tests_of_a_subproject_survive_a_file_level_selection_in_the_same_change() -> None:
    p = plan(Change("drivers/xen/subproject.toml", "M"), Change(f"{XN}/driver.py", "M"))
    assert p.subprojects["xen"].tests == {f"{XN}/driver_test.py"} and p.subprojects["xen"].all_tests
    assert specs(p) == ["drivers/xen::"]
    p = plan(Change(f"{XN}/driver.py", "M"))
    assert specs(p) == [f"{XN}/driver_test.py"]


def test_a_build_file_goes_through_the_graph() -> None:
    # xen's BUILD declares nothing in this fixture graph: all of xen's tests run
    p = plan(Change("drivers/xen/BUILD", "M"))
    assert runs(p) == {"xen": (True, True)} and p.subprojects["xen"].all_tests
    # a BUILD file that declares targets: their files changed as a whole
    g = graph()
    g.sources["drivers/libvirt:lib"] = [f"{LV}/guest_xml.py"]
    g.owners[f"{LV}/guest_xml.py"].add("drivers/libvirt:lib")
    g.types["drivers/libvirt:lib"] = "python_sources"
    assert g.declared_in("drivers/libvirt") == {f"{LV}/guest_xml.py"}
    p = compute_plan([Change("drivers/libvirt/BUILD", "M")], subprojects(), g, no_base, tool_resolves=TOOLS)
    assert runs(p) == {"libvirt": (True, True)}
    assert p.subprojects["libvirt"].why[0] == f"drivers/libvirt/BUILD -> {LV}/guest_xml.py"
    # an orphan BUILD file outside every subproject: everything
    assert plan(Change("tools/BUILD", "A")).run_all


def test_test_specs_are_the_reached_tests() -> None:
    p = plan(Change(f"{NC}/driver.py", "M"))
    assert specs(p) == [f"{LV}/driver_test.py", f"{XN}/driver_test.py", f"{NC}/driver_test.py"]


def test_build_support_is_planned_like_any_subproject() -> None:
    p = plan(Change(f"{BS}/plan_test.py", "M"))
    assert runs(p) == {"build-support": (True, True)}


def test_graph_round_trips_through_its_cache_form() -> None:
    g = graph()
    again = Graph.from_peek(g.to_peek())
    assert again.reach([f"{NC}/driver.py"]) == g.reach([f"{NC}/driver.py"])
    assert again.resolves_reached(["nova-common/requirements.txt"]) == g.resolves_reached(
        ["nova-common/requirements.txt"]
    )


def _packed_license_graph() -> Graph:
    links, e2e = "build-support/python/selftests/docs_links_test.py", "drivers/xen/nova_xen/cli_integration_test.py"
    return Graph.from_peek(
        [
            {"address": "docs:docs", "target_type": "files", "sources": ["docs/ci.md", "README.md"]},
            {"address": f"{links}:t", "target_type": "python_test", "sources": [links], "dependencies": ["docs:docs"]},
            {"address": "drivers/xen:license", "target_type": "resource", "sources": ["drivers/xen/LICENSE"]},
            {
                "address": "drivers/xen:dist",
                "target_type": "python_distribution",
                "dependencies": ["drivers/xen:license"],
            },
            {
                "address": f"{e2e}:t",
                "target_type": "python_test",
                "sources": [e2e],
                "dependencies": ["drivers/xen:dist"],
            },
        ]
    )


def test_a_document_a_wheel_packs_runs_the_tests_that_build_the_wheel_only_when_it_changes() -> None:
    """The docs link test reads every document; an end-to-end test that builds its driver's wheel
    (runtime_package_dependencies) reads only the LICENSE the wheel packs."""
    g = _packed_license_graph()
    links, e2e = "build-support/python/selftests/docs_links_test.py", "drivers/xen/nova_xen/cli_integration_test.py"
    assert docs_tests(g, ["docs/ci.md"]) == {links}
    assert docs_tests(g, ["a/new/NOTES.md"]) == {links}  # no target owns it: a link to it may break
    assert docs_tests(g, ["drivers/xen/LICENSE"]) == {links, e2e}
    assert docs_tests(g) == {links, e2e}
    assert e2e not in g.reach(["drivers/xen/LICENSE"], through_packages=False)


def test_core_metadata_a_driver_skips_api_changes_for_leaves_out_all_its_tests() -> None:
    """What the audit counts as skipped by policy: every test of xen, whose api-changes=skip."""
    p = plan(Change("nova-common/subproject.toml", "M"), api=CorePolicy.SKIP)
    xen = p.subprojects["xen"]
    assert (xen.run, xen.skipped_all, xen.skipped_tests) == (False, True, set())
    assert not plan(Change("nova-common/subproject.toml", "M")).subprojects["xen"].skipped_all


def test_the_end_to_end_reason_goes_through_the_compute_service() -> None:
    """A driver's end-to-end test that also imports the objects is reached end to end through
    the compute service: the reason shows that chain, not the shorter one through the objects
    package (which is the driver API path's reason). Red-team #10."""
    g = graph()
    e2e, init = f"{LV}/cli_integration_test.py:lib@resolve=libvirt", f"{NC}/objects/__init__.py:lib@resolve=libvirt"
    g.dependents[init] |= {e2e, f"{NC}/compute/manager.py:lib@resolve=libvirt"}
    p = compute_plan([Change(f"{NC}/objects/flavor.py", "M")], subprojects(), g, no_base, tool_resolves=TOOLS)
    ends = [w for w in p.subprojects["libvirt"].why if "[end-to-end" in w]
    assert ends == [
        f"{NC}/objects/flavor.py -> {NC}/objects/__init__.py -> {NC}/compute/manager.py -> {NC}/testing/cli.py"
        f" -> {LV}/cli_integration_test.py [end-to-end, core-changes=skip: not run]"
    ]
    api = [w for w in p.subprojects["libvirt"].why if "[driver API" in w]
    assert f"{NC}/objects/flavor.py -> {NC}/objects/__init__.py -> {LV}/cli_integration_test.py [driver API]" in api


def test_the_end_to_end_reason_prefers_the_compute_service_to_a_helper_using_it() -> None:
    """testing/cli.py uses the compute service, so it counts as end to end; where it also
    imports the objects, the reason still goes through compute/ (red-team of #10)."""
    g = graph()
    init = f"{NC}/objects/__init__.py:lib@resolve=libvirt"
    g.dependents[init] |= {f"{NC}/testing/cli.py:lib@resolve=libvirt", f"{NC}/compute/manager.py:lib@resolve=libvirt"}
    p = compute_plan([Change(f"{NC}/objects/flavor.py", "M")], subprojects(), g, no_base, tool_resolves=TOOLS)
    ends = [w for w in p.subprojects["libvirt"].why if "[end-to-end" in w]
    assert len(ends) == 1 and f" -> {NC}/compute/manager.py -> {NC}/testing/cli.py -> " in ends[0]


def test_a_deleted_document_the_wheel_packed_runs_the_tests_that_build_the_wheel() -> None:
    """Deleting drivers/xen/LICENSE: the head graph no longer knows it, the base graph shows the
    wheel packed it, so the end-to-end test that builds the wheel runs (it cannot build now)."""
    links, e2e = "build-support/python/selftests/docs_links_test.py", "drivers/xen/nova_xen/cli_integration_test.py"
    base = _packed_license_graph()
    head = Graph.from_peek([t for t in base.to_peek() if t["address"] != "drivers/xen:license"])
    p = compute_plan([Change("drivers/xen/LICENSE", "D")], subprojects(), head, lambda: base, tool_resolves=TOOLS)
    assert p.subprojects["xen"].tests == {e2e} and p.subprojects["build-support"].tests == {links}
    # modified, it is in the head graph: the base graph is not read
    p = compute_plan([Change("drivers/xen/LICENSE", "M")], subprojects(), base, no_base, tool_resolves=TOOLS)
    assert p.subprojects["xen"].tests == {e2e}


def test_a_deleted_packed_document_with_the_test_that_packed_it_plans_no_test_that_is_gone() -> None:
    """Deleting the LICENSE and the end-to-end test that built the wheel: the base graph's reader
    is gone from the head graph, so it is not planned (there is no such file to run)."""
    links, e2e = "build-support/python/selftests/docs_links_test.py", "drivers/xen/nova_xen/cli_integration_test.py"
    base = _packed_license_graph()
    head = Graph.from_peek([t for t in base.to_peek() if t["address"] not in ("drivers/xen:license", f"{e2e}:t")])
    changes = [Change("drivers/xen/LICENSE", "D"), Change(e2e, "D")]
    p = compute_plan(changes, subprojects(), head, lambda: base, tool_resolves=TOOLS)
    assert e2e not in p.subprojects["xen"].tests and p.subprojects["build-support"].tests == {links}


def test_the_command_line_plumbing_is_core_internal_and_reaches_the_tooling() -> None:
    """nova_common_cli (the plumbing nova-compute shares with nova-split): a change to it runs
    nova-common and the tooling that imports it; a driver is reached only end to end (through the
    compute service, or a test of its own that imports the plumbing), and skips it by default."""
    g = graph()
    plumbing = "nova-common/nova_common_cli/progress.py"
    tool, tool_test = f"{BS}/audit.py", f"{BS}/audit_test.py"
    for r in ("common", "libvirt", "xen"):
        address = f"{plumbing}:lib@resolve={r}"
        g.types[address], g.sources[address] = "python_source", [plumbing]
        g.owners[plumbing].add(address)
        g.dependents[address].add(f"{NC}/compute/manager.py:lib@resolve={r}")
    own_test = f"{LV}/progress_test.py"
    for path, kind, dep in (
        (tool, "python_source", f"{plumbing}:lib@resolve=common"),
        (tool_test, "python_test", ""),
        (own_test, "python_test", f"{plumbing}:lib@resolve=libvirt"),
    ):
        address = f"{path}:lib"
        g.types[address], g.sources[address] = kind, [path]
        g.owners[path].add(address)
        g.dependents[dep or f"{tool}:lib"].add(address)
    p = compute_plan([Change(plumbing, "M")], subprojects(), g, no_base, tool_resolves=TOOLS)
    assert runs(p) == {"nova-common": (True, True), "build-support": (True, True)}
    assert p.subprojects["build-support"].tests == {tool_test}
    assert p.subprojects["libvirt"].paths == {END_TO_END}
    assert p.subprojects["libvirt"].skipped_tests == {f"{LV}/cli_integration_test.py", own_test}
    assert p.subprojects["xen"].paths == set()
