"""A release :class:`~nova_split_tools.release.Toolchain` for tests on small real git repositories.

It records its calls and writes real wheels (zip files with the METADATA the Pants plugin writes),
so ``check_wheel`` runs for real; ``regenerate`` writes a real derived file (``<sub>/VERSION.txt``,
standing in for the generated ``pyproject.toml``) so the release commit's completeness is tested.
:func:`main` runs a cut in a child process, for the tests that kill one (release_crash_test.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from nova_split_tools.errors import CheckFailed, ToolError, interrupted_line
from nova_split_tools.release_versions import read_meta
from nova_split_tools.repo import Repository
from nova_split_tools.subprojects import Subproject, load_subprojects
from nova_split_tools.testing.repos import commit, new_repo

__all__ = ["CLOSURE", "DERIVED", "Recorder", "closure", "main", "release_repo", "subproject_files"]

#: The file ``regenerate`` derives from each subproject's version.
DERIVED = "VERSION.txt"

CLOSURE = {
    "drivers/libvirt": {"drivers/libvirt/nova_libvirt/driver.py", "nova-common/nova_common/api.py"},
    "drivers/xen": {
        "drivers/xen/nova_xen/driver.py",
        "nova-common/nova_common/api.py",
        "nova-common/nova_common/xml.py",
    },
}


def closure(path: str) -> set[str]:
    return CLOSURE[path]


TOWNCRIER = """[tool.towncrier]
name = "{dist}"
directory = "changes"
filename = "CHANGELOG.md"
start_string = "<!-- towncrier release notes start -->\\n"
title_format = "## {dist} {{version}} ({{project_date}})"
issue_format = "{{issue}}"
underlines = ["", "", ""]
""" + "".join(
    f'\n[[tool.towncrier.type]]\ndirectory = "{c}"\nname = "{c.title()}"\nshowcontent = true\n'
    for c in ("breaking", "feature", "bugfix", "doc")
)


def subproject_files(path: str, dist: str, driver: bool) -> dict[str, str | None]:
    meta = f'# {dist}\n[project]\nname = "{dist}"\nversion = "1.0.0"\ndescription = "d"\n'
    if driver:
        meta += "\n[driver]\napi-major = 1\n"
    return {
        f"{path}/subproject.toml": meta,
        f"{path}/towncrier.toml": TOWNCRIER.format(dist=dist),
        f"{path}/changes/README.md": "fragments\n",
        f"{path}/CHANGELOG.md": f"# {dist}\n\n<!-- towncrier release notes start -->\n",
        f"{path}/{DERIVED}": "1.0.0\n",
    }


def release_repo(path: Path) -> Path:
    """A real git repository with the release layout in miniature: nova-common, libvirt and xen at 1.0.0."""
    root = new_repo(path)
    files: dict[str, str | None] = {
        "pants.toml": '[python.resolves]\ncommon = "nova-common/common.lock"\n'
        'libvirt = "drivers/libvirt/libvirt.lock"\nxen = "drivers/xen/xen.lock"\n',
        ".gitignore": "/dist/\n",
        "nova-common/common.lock": "lock 1\n",
        "nova-common/nova_common/api.py": "API = 1\n",
        "nova-common/nova_common/xml.py": "XML = 1\n",
        "nova-common/nova_common/compute.py": "COMPUTE = 1\n",
        "drivers/libvirt/libvirt.lock": "lock 1\n",
        "drivers/libvirt/nova_libvirt/driver.py": "D = 1\n",
        "drivers/xen/xen.lock": "lock 1\n",
        "drivers/xen/nova_xen/driver.py": "D = 1\n",
        **subproject_files("nova-common", "nova-common", False),
        **subproject_files("drivers/libvirt", "nova-libvirt", True),
        **subproject_files("drivers/xen", "nova-xen", True),
    }
    commit(root, "base", files)
    return root


class Recorder:
    """The Pants steps, recorded; wheels are real zip files with the METADATA the plugin writes."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.fail_tests = False
        self.requires: str | None = None  # override the Requires-Dist line

    def _derived(self, root: Path) -> dict[Path, str]:
        subs = [s for s in load_subprojects(root) if (root / s.path / "subproject.toml").exists()]
        return {root / s.path / DERIVED: f"{read_meta(root, s).version}\n" for s in subs}

    def check_generated(self, root: Path) -> None:
        self.calls.append(("check_generated",))
        stale = [p for p, v in self._derived(root).items() if not p.exists() or p.read_text() != v]
        if stale:
            raise CheckFailed(f"before the release: {stale[0].relative_to(root)} is stale; regenerate it")

    def regenerate(self, root: Path) -> None:
        self.calls.append(("regenerate",))
        for path, text in self._derived(root).items():
            path.write_text(text)

    def test(self, root: Path, sub: Subproject) -> None:
        self.calls.append(("test", sub.path))
        if self.fail_tests:
            raise CheckFailed(
                f"'./pants test {sub.path}::' failed (x_test.py); fix the tests, then rerun", ["x_test.py"]
            )

    def package(self, root: Path, sub: Subproject, out: Path) -> Path:
        self.calls.append(("package", sub.path))
        meta = read_meta(root, sub)
        out.mkdir(parents=True, exist_ok=True)
        wheel = out / f"{meta.distribution.replace('-', '_')}-{meta.version}-py3-none-any.whl"
        lines = [f"Name: {meta.distribution}", f"Version: {meta.version}"]
        if meta.api_major is not None:
            lines += ["Requires-Dist: nova-common", self.requires or "Requires-Dist: nova-common (<2,>=1.0)"]
        with zipfile.ZipFile(wheel, "w") as z:
            z.writestr(f"{meta.distribution.replace('-', '_')}-{meta.version}.dist-info/METADATA", "\n".join(lines))
        return wheel

    def package_at(self, repo: Repository, rev: str, sub: Subproject, out: Path) -> Path:
        self.calls.append(("package_at", rev))
        out.mkdir(parents=True, exist_ok=True)
        # A real worktree left registered, as a cut killed while building leaves it: the cut must remove it.
        subprocess.run(
            ["git", "worktree", "add", "-q", "--detach", str(out / "worktree"), rev], cwd=repo.root, check=True
        )
        wheel = out / f"{rev}.whl"
        wheel.write_bytes(b"")
        return wheel

    def smoke(self, wheels: list[Path], driver: str, scratch: Path) -> list[str]:
        self.calls.append(("smoke", driver, *sorted(w.name for w in wheels)))
        scratch.mkdir(parents=True, exist_ok=True)  # stands in for the venv, which must be cleaned up
        return [f"{driver} smoked"]


def main(argv: list[str]) -> int:
    """``python -m nova_split_tools.testing.release_toolchain ROOT SUBPROJECT [cut|continue|abort] [VERSION]``:
    the real cut/resume/abort with this toolchain; a ToolError is one line and its exit code
    (2, or 1 for a CheckFailed, as the CLI).
    """
    from nova_split_tools.release import abort, cut, find_subproject, resume

    root, name, action = Path(argv[0]), argv[1], argv[2] if len(argv) > 2 else "cut"
    repo = Repository(root)
    sub = find_subproject(root, name)
    out = root / "dist" / "release" / sub.name
    try:
        if action == "abort":
            abort(repo, sub)
        elif action == "continue":
            resume(repo, sub, Recorder(), out)
        else:
            version = argv[3] if len(argv) > 3 else None
            result = cut(repo, sub, closure, Recorder(), out, version=version)
            print(json.dumps({"tag": result.tag}))
    except ToolError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt as e:
        print(interrupted_line(e, "interrupted"), file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
