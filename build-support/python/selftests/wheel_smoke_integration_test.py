"""The wheels work outside Pants: nova-common + nova-libvirt, built in a scratch clone and installed
into a fresh venv (build-support/bin/install-wheels), run the nova-compute lifecycle on libvirt's
embedded test hypervisor, across restarts (each command is a new process)."""

from __future__ import annotations

import re
from pathlib import Path

from nova_split_tools.testing.scratch import run, scratch_clone

NOT_FOUND = "nova-compute: error: no instance named or with uuid 'web1'; 'nova-compute list' shows the instances"


def version(repo: Path, subproject: str) -> str:
    found = re.search(r'^version = "(.*)"$', (repo / subproject / "subproject.toml").read_text(), re.M)
    assert found, f"no version in {subproject}/subproject.toml"
    return re.escape(found.group(1))


def test_wheels_run_the_lifecycle_in_a_fresh_venv(tmp_path: Path) -> None:
    repo = scratch_clone(tmp_path)
    venv = tmp_path / "venv"
    run([repo / "build-support/bin/install-wheels", venv, "libvirt"], repo, env={"PANTS_PANTSD": "false"}, check=True)
    state = tmp_path / "state"

    def expect(what: str, pattern: str, *args: str) -> None:
        result = run([venv / "bin/nova-compute", "--state-dir", state, *args], tmp_path)
        command = f"nova-compute {' '.join(args)}"
        assert result.returncode == 0, f"{what}: '{command}' exited {result.returncode}: {result.stderr}"
        print(result.stdout, end="")
        assert re.search(pattern, result.stdout, re.M), f"{what}: no line matching {pattern!r} in:\n{result.stdout}"

    expect("libvirt driver installed", rf"^libvirt +nova-libvirt {version(repo, 'drivers/libvirt')}", "drivers")
    expect("fake driver installed", rf"^fake +nova-common {version(repo, 'nova-common')}", "drivers")
    shown = run([venv / "bin/pip", "show", "nova-libvirt"], tmp_path, check=True)
    assert re.search(r"^Requires:.*nova-common", shown.stdout, re.M), shown.stdout
    expect("boot", r"web1 .* active +running", "boot", "web1")
    expect("list after restart", r"web1 .* active +running", "list")
    expect("reboot", r"running", "reboot", "web1", "--hard")
    expect("stop", r"stopped +shutdown", "stop", "web1")
    expect("records and hypervisor agree after restarts", r"in sync", "sync")
    expect("delete", r"web1", "delete", "web1")
    expect("list after delete", r"^\(none\)$", "list")
    shown_deleted = run([venv / "bin/nova-compute", "--state-dir", state, "show", "web1"], tmp_path)
    assert shown_deleted.returncode != 0, "show of a deleted instance succeeded"
    assert shown_deleted.stderr.splitlines() == [NOT_FOUND], shown_deleted.stderr
