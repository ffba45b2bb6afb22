"""Graph queries over targets in the shape `pants peek` gives."""

from nova_split_tools.graph import Graph
from nova_split_tools.testing.graphs import LV, NC, XN, graph


def test_closure_is_what_the_subprojects_targets_depend_on() -> None:
    closure = graph().closure("drivers/libvirt")
    assert {f"{LV}/driver.py", f"{LV}/guest_xml.py", f"{NC}/objects/network.py", f"{NC}/driver.py"} <= closure
    assert not any(p.startswith(XN) for p in closure)


def test_a_root_target_owning_every_readme_does_not_join_the_subprojects_closures() -> None:
    docs = {
        "address": "//:readmes",
        "target_type": "files",
        "sources": ["README.md", "drivers/libvirt/README.md", "drivers/xen/README.md"],
        "dependencies": [],
    }
    g = Graph.from_peek([*graph().to_peek(), docs])
    assert "drivers/xen/README.md" not in g.closure("drivers/libvirt")
    assert "README.md" not in g.closure("drivers/libvirt")
