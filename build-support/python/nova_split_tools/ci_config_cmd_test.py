from nova_split_tools.ci_jobs import render, trigger_paths
from nova_split_tools.subprojects import CorePolicy
from nova_split_tools.testing.graphs import LV, NC, XN, graph, subprojects

TOOLS = {"common": ["mypy", "pytest"]}


def test_trigger_paths_follow_the_plan_rules() -> None:
    libvirt = subprojects()[1]
    paths = trigger_paths(graph(), libvirt, tool_resolves=TOOLS)
    assert paths[0] == "drivers/libvirt/**"
    # the driver API path (its code imports these), not the compute service (core-changes = skip)
    assert f"{NC}/objects/network.py" in paths and f"{NC}/driver.py" in paths
    assert f"{NC}/compute/manager.py" not in paths and f"{NC}/testing/cli.py" not in paths
    # every file that changes its resolve or the resolve pytest and mypy come from
    for p in ("nova-common/common.lock", "nova-common/requirements.txt", "build-support/requirements.txt"):
        assert p in paths
    assert "drivers/xen/xen.lock" not in paths
    assert "nova-common/subproject.toml" in paths and "pants.toml" in paths and ".ci/**" in paths
    assert not any(p.startswith(XN) for p in paths)


def test_without_tool_resolves_the_common_resolve_counts_as_the_tools() -> None:
    xen = subprojects()[2]
    assert "nova-common/common.lock" in trigger_paths(graph(), xen)
    assert "nova-common/common.lock" not in trigger_paths(graph(), xen, tool_resolves={})


def test_xen_does_not_trigger_on_modules_it_does_not_import() -> None:
    xen = subprojects()[2]
    paths = trigger_paths(graph(), xen, tool_resolves=TOOLS)
    assert f"{NC}/driver.py" in paths and f"{NC}/objects/flavor.py" in paths
    assert f"{LV}/guest_xml.py" not in paths


def test_end_to_end_opt_in_adds_the_compute_service() -> None:
    from dataclasses import replace

    libvirt = replace(subprojects()[1], core_changes=CorePolicy.ADVISORY)
    paths = trigger_paths(graph(), libvirt, tool_resolves=TOOLS)
    assert f"{NC}/compute/manager.py" in paths and f"{NC}/testing/cli.py" in paths


def test_skip_policies_drop_core_paths_and_advisory_does_not_vote() -> None:
    skipping = subprojects(CorePolicy.SKIP, CorePolicy.SKIP)[2]
    core = [p for p in trigger_paths(graph(), skipping, tool_resolves=TOOLS) if p.startswith("nova-common/")]
    # pytest and mypy come from the common resolve: its files (and the BUILD declaring them) still run it
    assert core == ["nova-common/BUILD", "nova-common/common.lock", "nova-common/requirements.txt"]
    files = render(graph(), subprojects(CorePolicy.SKIP, CorePolicy.ADVISORY), TOOLS)
    assert set(files) == {
        ".github/workflows/driver-libvirt.yml",
        ".github/workflows/driver-xen.yml",
        "zuul.d/drivers.yaml",
    }
    assert '"continue-on-error": true' in files[".github/workflows/driver-xen.yml"]
    assert '"continue-on-error": false' in files[".github/workflows/driver-libvirt.yml"]
    zuul = files["zuul.d/drivers.yaml"]
    assert "name: nova-split-xen" in zuul and "voting: false" in zuul and "- ^drivers/xen/.*$" in zuul
    assert r"- ^nova\-common/nova_common/driver\.py$" in zuul
