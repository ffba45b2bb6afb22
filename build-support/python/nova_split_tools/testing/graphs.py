"""A small graph in the shape `pants peek` gives for this repository, and its subprojects."""

from nova_split_tools.graph import Graph
from nova_split_tools.subprojects import CorePolicy, Subproject

NC = "nova-common/nova_common"
LV = "drivers/libvirt/nova_libvirt"
XN = "drivers/xen/nova_xen"


def target(path: str, resolve: str, deps: list[str], kind: str = "python_source") -> dict[str, object]:
    return {"address": f"{path}:lib@resolve={resolve}", "target_type": kind, "sources": [path], "dependencies": deps}


def graph() -> Graph:
    """nova-common (network.py used only by libvirt; driver.py by both) and two drivers."""
    targets = []
    for r in ("common", "libvirt", "xen"):
        targets += [
            target(f"{NC}/objects/network.py", r, []),
            target(f"{NC}/driver.py", r, []),
        ]
    targets += [
        target(f"{NC}/driver_test.py", "common", [f"{NC}/driver.py:lib@resolve=common"], "python_test"),
        target(f"{LV}/guest_xml.py", "libvirt", [f"{NC}/objects/network.py:lib@resolve=libvirt"]),
        target(
            f"{LV}/driver.py",
            "libvirt",
            [f"{LV}/guest_xml.py:lib@resolve=libvirt", f"{NC}/driver.py:lib@resolve=libvirt"],
        ),
        target(f"{LV}/driver_test.py", "libvirt", [f"{LV}/driver.py:lib@resolve=libvirt"], "python_test"),
        target(f"{XN}/driver.py", "xen", [f"{NC}/driver.py:lib@resolve=xen"]),
        target(f"{XN}/driver_test.py", "xen", [f"{XN}/driver.py:lib@resolve=xen"], "python_test"),
    ]
    return Graph.from_peek(targets)


def subprojects(xen_policy: CorePolicy = CorePolicy.VOTE) -> list[Subproject]:
    return [
        Subproject("nova-common", "nova-common", "common", "nova-common/common.lock", CorePolicy.VOTE),
        Subproject("libvirt", "drivers/libvirt", "libvirt", "drivers/libvirt/libvirt.lock", CorePolicy.VOTE),
        Subproject("xen", "drivers/xen", "xen", "drivers/xen/xen.lock", xen_policy),
        Subproject("build-support", "build-support", "common", "nova-common/common.lock", CorePolicy.VOTE),
    ]


def no_base() -> Graph:
    raise AssertionError("the base graph was not needed")
