"""A small graph in the shape `pants peek` gives for this repository, its subprojects and sources.

nova-common: ``objects/network.py`` (used only by libvirt's ``guest_xml.py``), ``objects/flavor.py``
(re-exported by ``objects/__init__.py``, which xen imports and reads ``vcpus`` through),
``driver.py`` (both drivers), the compute service ``compute/manager.py`` and ``testing/cli.py``
(which pulls it; libvirt's end-to-end test uses it). The docs link test reads the READMEs and
``docs/`` (``files`` targets). Requirements and lockfiles are targets as Pants gives them: a
``python_requirement`` per resolve depends on ``requirements.txt`` and on its resolve's lockfile.
:data:`SOURCES` are the files' texts, for member-level reach.
"""

from collections.abc import Callable

from nova_split_tools.graph import Graph
from nova_split_tools.subprojects import CorePolicy, Subproject

NC = "nova-common/nova_common"
LV = "drivers/libvirt/nova_libvirt"
XN = "drivers/xen/nova_xen"
BS = "build-support/python/nova_split_tools"
#: the test that reads the documentation (``README.md``, a driver's README, ``docs/``)
DOCS_TEST = "build-support/python/selftests/docs_links_test.py"
RESOLVES = ("common", "libvirt", "xen")
LOCKS = {"common": "nova-common/common.lock", "libvirt": "drivers/libvirt/libvirt.lock", "xen": "drivers/xen/xen.lock"}

SOURCES = {
    f"{NC}/objects/network.py": "class VIF:\n    mtu: int = 0\n    bridge: str = ''\n",
    f"{NC}/objects/flavor.py": (
        "class Flavor:\n    vcpus: int = 1\n    memory_mb: int = 128\n\n"
        "    def gib(self):\n        return self.memory_mb // 1024\n"
    ),
    f"{NC}/objects/__init__.py": (
        "from nova_common.objects.flavor import Flavor\nfrom nova_common.objects.network import VIF\n"
        "__all__ = ['Flavor', 'VIF']\n"
    ),
    f"{NC}/driver.py": "class ComputeDriver:\n    def spawn(self):\n        raise NotImplementedError\n",
    f"{NC}/driver_test.py": "from nova_common.driver import ComputeDriver\n",
    f"{NC}/compute/manager.py": "from nova_common.driver import ComputeDriver\ndef boot(d):\n    d.spawn()\n",
    f"{NC}/testing/cli.py": "from nova_common.compute.manager import boot\ndef run(d):\n    boot(d)\n",
    f"{LV}/guest_xml.py": "from nova_common.objects.network import VIF\ndef xml(v):\n    return v.mtu\n",
    f"{LV}/driver.py": (
        "from nova_common.driver import ComputeDriver\nfrom nova_libvirt.guest_xml import xml\n"
        "class LibvirtDriver(ComputeDriver):\n    def spawn(self):\n        return xml\n"
    ),
    f"{LV}/driver_test.py": "from nova_libvirt.driver import LibvirtDriver\n",
    f"{LV}/cli_integration_test.py": "from nova_common.testing.cli import run\n",
    f"{XN}/driver.py": (
        "from nova_common.driver import ComputeDriver\nfrom nova_common.objects import Flavor\n"
        "class XenDriver(ComputeDriver):\n    def spawn(self, f: Flavor):\n        return f.vcpus\n"
    ),
    f"{XN}/driver_test.py": "from nova_xen.driver import XenDriver\n",
    f"{BS}/plan_test.py": "import pytest\n",
}


def target(path: str, resolve: str, deps: list[str], kind: str = "python_source") -> dict[str, object]:
    return {
        "address": f"{path}:lib@resolve={resolve}",
        "target_type": kind,
        "sources": [path],
        "dependencies": deps,
        "resolve": resolve,
    }


def _requirements() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for _r, lock in LOCKS.items():
        out.append({"address": f"{lock}:_lock", "target_type": "_lockfile", "sources": [lock], "dependencies": []})
    out.append(
        {
            "address": "nova-common/requirements.txt:reqs",
            "target_type": "_generator_sources_helper",
            "sources": ["nova-common/requirements.txt"],
            "dependencies": [],
        }
    )
    out.append(
        {
            "address": "build-support/requirements.txt:reqs",
            "target_type": "_generator_sources_helper",
            "sources": ["build-support/requirements.txt"],
            "dependencies": [],
        }
    )
    for r in RESOLVES:
        out.append(
            {
                "address": f"nova-common:reqs#pytest@resolve={r}",
                "target_type": "python_requirement",
                "dependencies": ["nova-common/requirements.txt:reqs", f"{LOCKS[r]}:_lock"],
                "resolve": r,
            }
        )
    out.append(
        {
            "address": "build-support:reqs#griffe",
            "target_type": "python_requirement",
            "dependencies": ["build-support/requirements.txt:reqs", f"{LOCKS['common']}:_lock"],
            "resolve": "common",
        }
    )
    return out


def graph() -> Graph:
    """The fixture graph (see the module docstring)."""
    targets = _requirements()
    for r in RESOLVES:
        targets += [
            target(f"{NC}/objects/network.py", r, []),
            target(f"{NC}/objects/flavor.py", r, []),
            target(
                f"{NC}/objects/__init__.py",
                r,
                [f"{NC}/objects/network.py:lib@resolve={r}", f"{NC}/objects/flavor.py:lib@resolve={r}"],
            ),
            target(f"{NC}/driver.py", r, []),
            target(f"{NC}/compute/manager.py", r, [f"{NC}/driver.py:lib@resolve={r}"]),
            target(f"{NC}/testing/cli.py", r, [f"{NC}/compute/manager.py:lib@resolve={r}"]),
        ]
    targets += [
        target(
            f"{NC}/driver_test.py",
            "common",
            [f"{NC}/driver.py:lib@resolve=common", "nova-common:reqs#pytest@resolve=common"],
            "python_test",
        ),
        target(f"{LV}/guest_xml.py", "libvirt", [f"{NC}/objects/network.py:lib@resolve=libvirt"]),
        target(
            f"{LV}/driver.py",
            "libvirt",
            [f"{LV}/guest_xml.py:lib@resolve=libvirt", f"{NC}/driver.py:lib@resolve=libvirt"],
        ),
        target(f"{LV}/driver_test.py", "libvirt", [f"{LV}/driver.py:lib@resolve=libvirt"], "python_test"),
        target(f"{LV}/cli_integration_test.py", "libvirt", [f"{NC}/testing/cli.py:lib@resolve=libvirt"], "python_test"),
        target(
            f"{XN}/driver.py", "xen", [f"{NC}/driver.py:lib@resolve=xen", f"{NC}/objects/__init__.py:lib@resolve=xen"]
        ),
        target(f"{XN}/driver_test.py", "xen", [f"{XN}/driver.py:lib@resolve=xen"], "python_test"),
        target(f"{BS}/plan_test.py", "common", ["build-support:reqs#griffe"], "python_test"),
        {"address": "//:readmes", "target_type": "files", "sources": ["README.md", "drivers/xen/README.md"]},
        {"address": "docs:docs", "target_type": "files", "sources": ["docs/ci.md", "docs/guide.rst"]},
        target(DOCS_TEST, "common", ["//:readmes", "docs:docs"], "python_test"),
    ]
    return Graph.from_peek(targets)


def subprojects(xen_policy: CorePolicy = CorePolicy.SKIP, xen_api: CorePolicy = CorePolicy.VOTE) -> list[Subproject]:
    """nova-common, libvirt and build-support with the default policies; xen with those given."""
    return [
        Subproject("nova-common", "nova-common", "common", "nova-common/common.lock", CorePolicy.VOTE),
        Subproject("libvirt", "drivers/libvirt", "libvirt", LOCKS["libvirt"], CorePolicy.SKIP),
        Subproject("xen", "drivers/xen", "xen", LOCKS["xen"], xen_policy, xen_api),
        Subproject("build-support", "build-support", "common", "nova-common/common.lock", CorePolicy.VOTE),
    ]


def texts(changed: dict[str, str] | None = None) -> Callable[[str], tuple[str | None, str | None]]:
    """:data:`SOURCES` as base, with ``changed`` (path -> new text) as head."""
    edits = changed or {}

    def read(path: str) -> tuple[str | None, str | None]:
        old = SOURCES.get(path)
        return old, edits.get(path, old)

    return read


def no_base() -> Graph:
    raise AssertionError("the base graph was not needed")
