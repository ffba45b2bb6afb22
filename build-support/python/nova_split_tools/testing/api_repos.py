"""A tiny nova-common with three drivers and a release tag, for review, owners and API gate tests."""

from __future__ import annotations

from pathlib import Path

from nova_split_tools.testing.repos import commit, git, new_repo

NC = "nova-common/nova_common"

TEAMS = {
    "nova-common": ("nova-core", ["carol", "dave"]),
    "drivers/libvirt": ("libvirt-core", ["lee", "carol"]),
    "drivers/vmware": ("vmware-core", ["vic"]),
    "drivers/xen": ("xen-core", ["xena"]),
}

WIDGET = '''
from nova_common.objects.base import VersionedObject


class Widget(VersionedObject):
    """Used only by libvirt."""

    VERSION = "1.0"
    name: str
    size: int
    colour: str = "red"
'''


def metadata(path: str, version: str = "1.0.0") -> str:
    """A subproject.toml whose [owners] members are ``<name>@example.org``, GitHub handle ``<name>``."""
    team, members = TEAMS[path]
    quoted = ", ".join(f'"{m}@example.org"' for m in members)
    handles = ", ".join(f'"{m}@example.org" = "{m}"' for m in members)
    return (
        f'[project]\nname = "x"\nversion = "{version}"\n\n[owners]\nteam = "{team}"\nmembers = [{quoted}]\n'
        f"github = {{ {handles} }}\n"
    )


def make_repo(root: Path) -> Path:
    new_repo(root)
    nc = NC
    files: dict[str, str | None] = {
        "pants.toml": '[python.resolves]\ncommon = "nova-common/common.lock"\n'
        + "".join(f'{d} = "drivers/{d}/{d}.lock"\n' for d in ("libvirt", "vmware", "xen")),
        "README.md": "x\n",
        f"{nc}/__init__.py": "from nova_common.driver import ComputeDriver\n\n__all__ = ['ComputeDriver']\n",
        f"{nc}/driver.py": "class ComputeDriver:\n    def spawn(self, name: str) -> None:\n        pass\n",
        f"{nc}/objects/__init__.py": "from nova_common.objects.widget import Widget\n\n__all__ = ['Widget']\n",
        f"{nc}/objects/base.py": "class VersionedObject:\n    pass\n",
        f"{nc}/objects/widget.py": WIDGET,
        "drivers/libvirt/nova_libvirt/driver.py": "from nova_common.objects import Widget\n\nW = Widget\n",
        "drivers/vmware/nova_vmware/driver.py": "from nova_common import driver\n\nD = driver.ComputeDriver\n",
        "drivers/xen/nova_xen/driver.py": "import nova_common.driver\n\nD = nova_common.driver.ComputeDriver\n",
    }
    for path in TEAMS:
        files[f"{path}/subproject.toml"] = metadata(path)
    commit(root, "base", files)
    git(root, "tag", "nova-common-1.0.0")
    return root
