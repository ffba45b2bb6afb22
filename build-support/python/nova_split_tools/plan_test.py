"""The planning rules, over a graph in the shape `pants peek` produces for this repository."""

from collections.abc import Callable

import pytest

from nova_split_tools.graph import Graph
from nova_split_tools.plan import Plan, compute_plan
from nova_split_tools.repo import Change
from nova_split_tools.subprojects import CorePolicy
from nova_split_tools.testing.graphs import LV, NC, XN, graph, no_base, subprojects


def plan(*changes: Change, policy: CorePolicy = CorePolicy.VOTE, base: Callable[[], Graph] = no_base) -> Plan:
    return compute_plan(list(changes), subprojects(policy), graph(), base)


def runs(p: Plan) -> dict[str, tuple[bool, bool]]:
    return {n: (d.run, d.voting) for n, d in p.subprojects.items() if d.run}


def test_driver_change_runs_only_that_driver_voting() -> None:
    p = plan(Change(f"{LV}/guest_xml.py", "M"))
    assert runs(p) == {"libvirt": (True, True)}
    assert p.subprojects["libvirt"].why[0] == f"{LV}/guest_xml.py"
    assert p.subprojects["libvirt"].tests == {f"{LV}/driver_test.py"}
    assert p.subprojects["xen"].why == [] and not p.run_all


def test_core_module_used_by_some_drivers_runs_only_those() -> None:
    p = plan(Change(f"{NC}/objects/network.py", "M"))
    assert runs(p) == {"nova-common": (True, True), "libvirt": (True, True)}
    assert f"{NC}/objects/network.py -> {LV}/guest_xml.py" in p.subprojects["libvirt"].why


def test_core_change_follows_each_drivers_policy() -> None:
    change = Change(f"{NC}/driver.py", "M")
    assert runs(plan(change))["xen"] == (True, True)
    assert runs(plan(change, policy=CorePolicy.ADVISORY))["xen"] == (True, False)
    skipped = plan(change, policy=CorePolicy.SKIP)
    assert "xen" not in runs(skipped)
    assert skipped.subprojects["xen"].why[0] == f"{NC}/driver.py -> {XN}/driver.py [core-changes=skip]"


def test_driver_policy_never_silences_its_own_changes() -> None:
    assert runs(plan(Change(f"{XN}/driver.py", "M"), policy=CorePolicy.SKIP)) == {"xen": (True, True)}


def test_lockfile_runs_only_its_resolve() -> None:
    assert runs(plan(Change("drivers/xen/xen.lock", "M"))) == {"xen": (True, True)}
    assert runs(plan(Change("nova-common/common.lock", "M"))) == {
        "nova-common": (True, True),
        "build-support": (True, True),
    }


@pytest.mark.parametrize(
    "path", ["pants.toml", "pants", ".ci/run", "build-support/macros/subprojects.py", "pyproject.toml"]
)
def test_build_configuration_runs_everything_with_a_reason(path: str) -> None:
    p = plan(Change(path, "M"))
    assert p.run_all and p.run_all_reasons == [f"{path}: build configuration affects every subproject"]
    assert all(d.run and d.voting for d in p.subprojects.values())
    assert p.subprojects["xen"].why == [f"everything runs: {path}: build configuration affects every subproject"]
    assert p.test_specs({s.name: s for s in subprojects()}) == ["::"]


def test_documentation_only_runs_nothing() -> None:
    p = plan(Change("README.md", "M"), Change("drivers/xen/README.md", "M"), Change("docs/guide.rst", "A"))
    assert runs(p) == {} and p.docs_only


def test_unowned_path_fails_safe() -> None:
    p = plan(Change("tools/mystery.py", "A"))
    assert p.run_all and "tools/mystery.py: owned by no target" in p.run_all_reasons[0]


def test_deleted_module_finds_dependents_in_the_base_graph() -> None:
    base_calls: list[int] = []

    def base() -> Graph:
        base_calls.append(1)
        return graph()

    p = plan(Change(f"{NC}/objects/network.py", "D"), base=base)
    assert base_calls == [1]
    assert runs(p) == {"nova-common": (True, True), "libvirt": (True, True)}


def test_rename_uses_both_graphs() -> None:
    p = plan(Change(f"{LV}/guest_xml.py", "R", old_path=f"{XN}/driver.py"), base=graph)
    assert runs(p) == {"libvirt": (True, True), "xen": (True, True)}


def test_subproject_metadata_runs_that_subproject_and_core_metadata_reaches_drivers() -> None:
    assert runs(plan(Change("drivers/libvirt/subproject.toml", "M"))) == {"libvirt": (True, True)}
    assert runs(plan(Change("drivers/xen/tox.ini", "M"))) == {"xen": (True, True)}
    p = plan(Change("nova-common/requirements.txt", "M"), policy=CorePolicy.ADVISORY)
    assert runs(p) == {"nova-common": (True, True), "libvirt": (True, True), "xen": (True, False)}


def test_test_specs_are_the_reached_tests() -> None:
    p = plan(Change(f"{NC}/driver.py", "M"))
    specs = p.test_specs({s.name: s for s in subprojects()})
    assert specs == [f"{LV}/driver_test.py", f"{XN}/driver_test.py", f"{NC}/driver_test.py"]


def test_graph_round_trips_through_its_cache_form() -> None:
    g = graph()
    again = Graph.from_peek(g.to_peek())
    assert again.reach([f"{NC}/driver.py"]) == g.reach([f"{NC}/driver.py"])
