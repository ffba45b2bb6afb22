from nova_split_tools.ci_jobs import render, trigger_paths
from nova_split_tools.subprojects import CorePolicy
from nova_split_tools.testing.graphs import NC, XN, graph, subprojects


def test_trigger_paths_follow_the_dependency_closure() -> None:
    libvirt = subprojects()[1]
    paths = trigger_paths(graph(), libvirt, ["nova-common/BUILD"])
    assert paths[0] == "drivers/libvirt/**"
    assert f"{NC}/objects/network.py" in paths and f"{NC}/driver.py" in paths
    assert "nova-common/BUILD" in paths and "pants.toml" in paths and ".ci/**" in paths
    assert not any(p.startswith(XN) for p in paths)


def test_xen_does_not_trigger_on_modules_it_does_not_import() -> None:
    xen = subprojects()[2]
    paths = trigger_paths(graph(), xen, [])
    assert f"{NC}/driver.py" in paths and f"{NC}/objects/network.py" not in paths


def test_skip_policy_drops_core_paths_and_advisory_does_not_block() -> None:
    skipping = subprojects(CorePolicy.SKIP)[2]
    assert not any(p.startswith("nova-common/") for p in trigger_paths(graph(), skipping, ["nova-common/BUILD"]))
    files = render(graph(), subprojects(CorePolicy.ADVISORY))
    assert set(files) == {
        ".github/workflows/driver-libvirt.yml",
        ".github/workflows/driver-xen.yml",
    }
    assert '"continue-on-error": true' in files[".github/workflows/driver-xen.yml"]
    assert '"continue-on-error": false' in files[".github/workflows/driver-libvirt.yml"]
