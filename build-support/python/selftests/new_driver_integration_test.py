"""Adding and removing a driver with nova-split, in a scratch clone, and every gate CI runs for it.

The old bash self-test (``build-support/bin/remove-driver-selftest``) is the last test here.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from nova_split_tools.isolation import check_isolation, load_drivers
from nova_split_tools.testing.scratch import (
    Result,
    git,
    nova_split,
    pants,
    pants_daemon,
    scratch_clone,
    share_tooling_venv,
)


def _ok(result: Result) -> str:
    assert result.returncode == 0, f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"
    return result.stdout


def _generated_files_are_current(repo: Path) -> None:
    for command in ("ci-config", "owners", "packaging"):
        _ok(nova_split(repo, command, "--check"))
    assert check_isolation(load_drivers(repo)) == []


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    """A scratch clone whose Pants runs share one daemon (stopped when the test ends)."""
    clone = scratch_clone(tmp_path)
    share_tooling_venv(clone)
    with pants_daemon(clone):
        yield clone


def test_a_scaffolded_driver_passes_every_gate_and_removing_it_restores_the_tree(repo: Path) -> None:
    before = git(repo, "rev-parse", "HEAD")
    # vbox's own client package; xcp shares xen's client library (two drivers, one client package).
    _ok(nova_split(repo, "new-driver", "vbox", "--client-package", "tomli-w>=1.0", "--owner", "ann@example.org"))
    # The next one refuses the uncommitted first one: each addition is its own reviewable change.
    refused = nova_split(repo, "new-driver", "xcp")
    assert refused.returncode == 2 and "the work tree has uncommitted changes" in refused.stderr
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "add vbox")
    _ok(nova_split(repo, "new-driver", "xcp", "--client-package", "XenAPI>=22.19"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "add xcp")
    changed = set(git(repo, "diff", "--name-only", before, "HEAD").splitlines())
    outside = {p for p in changed if not p.startswith(("drivers/vbox/", "drivers/xcp/"))}
    assert outside == {
        "pants.toml",
        ".github/CODEOWNERS",
        ".github/workflows/driver-vbox.yml",
        ".github/workflows/driver-xcp.yml",
        "zuul.d/nova-split.yaml",
        "build-support/clone-closures.json",
    }
    for name in ("vbox", "xcp"):
        for generated in ("OWNERS", "pyproject.toml", "tox.ini", f"{name}.lock"):
            assert f"drivers/{name}/{generated}" in changed
    assert "ann@example.org" in (repo / "drivers/vbox/OWNERS").read_text().splitlines()
    assert '"tomli-w>=1.0"' in (repo / "drivers/vbox/pyproject.toml").read_text()

    tests = pants(repo, "test", "drivers/vbox::", "drivers/xcp::")
    _ok(tests)
    # Pants prints its per-file summary on stderr.
    for name in ("vbox", "xcp"):
        assert f"✓ drivers/{name}/nova_{name}/conformance_test.py" in tests.stderr
        assert f"✓ drivers/{name}/nova_{name}/cli_integration_test.py" in tests.stderr
    _ok(pants(repo, "tailor", "--check", "update-build-files", "--check", "::"))
    _ok(pants(repo, "lint", "check", "drivers/vbox::", "drivers/xcp::"))
    _ok(pants(repo, "dependencies", "::"))
    _generated_files_are_current(repo)

    _ok(nova_split(repo, "remove-driver", "vbox"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "remove vbox")
    _ok(nova_split(repo, "remove-driver", "xcp"))
    git(repo, "add", "-A")
    assert git(repo, "diff", "--cached", "--stat", before) == ""  # exactly the tree before the additions


def test_refusals_and_dry_run_in_a_real_clone(repo: Path) -> None:
    dry = _ok(nova_split(repo, "new-driver", "vbox", "--dry-run"))
    assert "would write drivers/vbox/nova_vbox/driver.py" in dry
    taken = nova_split(repo, "new-driver", "xen")
    assert (taken.returncode, taken.stderr) == (
        2,
        "nova-split new-driver: error: driver 'xen' exists (drivers/xen); remove it first or choose another name\n",
    )
    removing = _ok(nova_split(repo, "remove-driver", "xen", "--dry-run"))
    assert "would delete drivers/xen/ (every file)" in removing
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_removing_an_existing_driver_leaves_everything_else_passing(repo: Path) -> None:
    """What build-support/bin/remove-driver-selftest checked: remove xen, and the rest still builds."""
    out = _ok(nova_split(repo, "remove-driver", "xen"))
    assert "deleted drivers/xen/" in out
    assert git(repo, "ls-files", "--others", "--exclude-standard") == "", "remove-driver left untracked files"
    changed = set(git(repo, "diff", "--name-only", "HEAD").splitlines())
    assert {p for p in changed if not p.startswith("drivers/xen/")} == {
        "pants.toml",
        ".github/CODEOWNERS",
        ".github/workflows/driver-xen.yml",
        "zuul.d/nova-split.yaml",
        "build-support/clone-closures.json",
    }
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "remove xen")
    # BUILD files are complete, and what the removal reaches lints, type-checks and passes its tests
    # (CI's own `lint ::` and `check ::` cover the unchanged rest; a removal reaches other code only
    # through imports, which `dependencies ::` below resolves: a dangling one fails it).
    _ok(pants(repo, "tailor", "--check", "update-build-files", "--check", "::"))
    _ok(pants(repo, "--changed-since=HEAD~1", "--changed-dependents=transitive", "lint", "check"))
    # The docs name each driver (README, architecture): their links to xen's README are the one
    # edit a removal leaves to a person (docs/build-system.md says so), so the link test is not run.
    log = _ok(pants(repo, "--tag=-docs", "--changed-since=HEAD~1", "--changed-dependents=transitive", "test"))
    _ok(pants(repo, "dependencies", "::"))
    _generated_files_are_current(repo)
    assert "drivers/xen" not in log
