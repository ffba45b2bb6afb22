"""The build graph's boundaries hold: each kind of forbidden import, injected into a scratch clone,
makes `./pants dependencies ::` fail, naming the file and the rule that refused it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from nova_split_tools.testing.scratch import buildroot, git, pants, scratch_clone

DENIED = "DependencyRuleActionDeniedError"
UNOWNED = "UnownedDependencyError"


def _other_driver() -> str:
    others = sorted(p.name for p in (buildroot() / "drivers").iterdir() if p.is_dir() and p.name != "libvirt")
    assert others, "the repository has no driver besides libvirt"
    return others[0]


OTHER = _other_driver()

# (what, file, line appended, the errors that may name the refusal)
CASES = [
    ("driver -> nova-common compute service", "drivers/libvirt/nova_libvirt/config.py",
     "import nova_common.compute.manager  # noqa", (DENIED,)),
    ("driver -> nova-common command-line plumbing", "drivers/libvirt/nova_libvirt/config.py",
     "import nova_common_cli.args  # noqa", (DENIED,)),
    ("command-line plumbing -> nova_common", "nova-common/nova_common_cli/progress.py",
     "import nova_common.driver  # noqa", (DENIED,)),
    ("tooling -> nova_common", "build-support/python/nova_split_tools/graph.py",
     "import nova_common.objects  # noqa", (DENIED,)),
    ("tooling test -> nova_common", "build-support/python/nova_split_tools/plan_test.py",
     "import nova_common.driver  # noqa", (DENIED,)),
    ("nova-common -> driver", "nova-common/nova_common/loader.py", "import nova_libvirt.driver  # noqa",
     (DENIED, UNOWNED)),
    ("nova-common -> a driver's third-party library", "nova-common/nova_common/loader.py",
     "import libvirt  # noqa", (UNOWNED,)),
    (f"driver {OTHER} -> driver libvirt", f"drivers/{OTHER}/nova_{OTHER}/config.py",
     "import nova_libvirt.config  # noqa", (DENIED, UNOWNED)),
    (f"driver {OTHER} -> libvirt's third-party library", f"drivers/{OTHER}/nova_{OTHER}/config.py",
     "import libvirt  # noqa", (UNOWNED,)),
    ("command module -> command module", "build-support/python/nova_split_tools/plan_cmd.py",
     "import nova_split_tools.review_cmd  # noqa", (DENIED,)),
    ("tooling test -> test", "build-support/python/nova_split_tools/plan_test.py",
     "import nova_split_tools.repo_test  # noqa", (DENIED,)),
    ("nova-common test -> test", "nova-common/nova_common/api_version_test.py",
     "import nova_common.deprecation_test  # noqa", (DENIED,)),
    (f"driver {OTHER} test -> test", f"drivers/{OTHER}/nova_{OTHER}/driver_test.py",
     f"import nova_{OTHER}.conformance_test  # noqa", (DENIED,)),
]  # fmt: skip


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield scratch_clone(tmp_path_factory.mktemp("boundary"))


def test_clean_tree_passes(repo: Path) -> None:
    git(repo, "checkout", "-q", "--", ".")
    result = pants(repo, "dependencies", "::")
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize("what,path,line,errors", CASES, ids=[c[0] for c in CASES])
def test_forbidden_import_is_refused(repo: Path, what: str, path: str, line: str, errors: tuple[str, ...]) -> None:
    git(repo, "checkout", "-q", "--", ".")
    with (repo / path).open("a") as f:
        f.write(line + "\n")
    result = pants(repo, "dependencies", "::")
    out = result.stdout + result.stderr
    assert result.returncode != 0, f"NOT REFUSED: {what} ({path}: {line})"
    assert re.search("|".join(errors), out), f"refused without naming the rule ({' or '.join(errors)}):\n{out[-2000:]}"
    assert path in out, f"refused without naming {path}:\n{out[-2000:]}"
