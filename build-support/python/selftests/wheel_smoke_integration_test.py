"""The wheels work outside Pants: nova-common + nova-libvirt, built in a scratch clone and installed
into a fresh venv (build-support/bin/install-wheels), run the nova-compute lifecycle on libvirt's
embedded test hypervisor, across restarts (each command is a new process), and hold under concurrent
commands, a UUID-shaped name, an oversize flavor, an interrupted boot and a zero-byte database."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from nova_split_tools.testing.scratch import run, scratch_clone

NOT_FOUND = "nova-compute: error: no instance named 'web1'; 'nova-compute list' shows the instances"


def version(repo: Path, subproject: str) -> str:
    found = re.search(r'^version = "(.*)"$', (repo / subproject / "subproject.toml").read_text(), re.M)
    assert found, f"no version in {subproject}/subproject.toml"
    return re.escape(found.group(1))


BASH_COMPLETION = Path("/usr/share/bash-completion/bash_completion")  # Debian's bash-completion (bindep.txt)


def complete_with_bash_completion(venv: Path, words: list[str]) -> list[str]:
    """What bash-completion's own loader completes for ``words`` (the last one being typed), with
    the venv's ``share`` in ``XDG_DATA_DIRS``, as docs/cli.md tells a venv user to set."""
    assert (
        BASH_COMPLETION.is_file()
    ), f"{BASH_COMPLETION} is missing: install bash-completion (build-support/bindep.txt)"
    script = (
        f"source {BASH_COMPLETION}\n"
        '__load_completion "${WORDS[0]}" || { echo "no completion loaded for ${WORDS[0]}" >&2; exit 3; }\n'
        'COMP_WORDS=("${WORDS[@]}"); COMP_CWORD=$((${#WORDS[@]} - 1))\n'
        '"$(complete -p "${WORDS[0]}" | sed -E "s/.*-F ([^ ]+) .*/\\1/")"\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    words_decl = "WORDS=(" + " ".join(f"'{w}'" for w in words) + ")\n"
    env = {
        "XDG_DATA_DIRS": f"{venv / 'share'}:/usr/local/share:/usr/share",
        "HOME": str(venv),
        "PATH": os.environ["PATH"],
    }
    result = subprocess.run(["bash", "-c", words_decl + script], capture_output=True, text=True, env=env)
    assert result.returncode == 0, f"bash-completion failed for {words}: {result.stderr}"
    return result.stdout.split()


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
    core, libvirt = version(repo, "nova-common"), version(repo, "drivers/libvirt")
    expect(
        "--version",
        rf"^nova-compute {core} \(nova-common\); drivers: .*libvirt \(nova-libvirt {libvirt}\)",
        "--version",
    )
    expect("completion from the wheel", r"^complete -F _nova_compute_complete nova-compute$", "completion", "bash")
    installed = venv / "share/bash-completion/completions/nova-compute"
    assert installed.is_file(), "the nova-common wheel did not install share/bash-completion/completions/nova-compute"
    completed = complete_with_bash_completion(venv, ["nova-compute", "bo"])
    assert completed == ["boot"], f"bash-completion completed 'nova-compute bo' to {completed}"
    assert complete_with_bash_completion(venv, ["nova-compute", "boot", "x", "--flavor", "m1.t"]) == ["m1.tiny"]
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

    def one_line(what: str, pattern: str, *args: str, state_dir: Path = state) -> None:
        """The command fails with exactly one stderr line matching ``pattern``."""
        result = run([venv / "bin/nova-compute", "--state-dir", state_dir, *args], tmp_path)
        assert result.returncode != 0, f"{what}: 'nova-compute {' '.join(args)}' succeeded"
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and re.search(pattern, lines[0]), f"{what}: {result.stderr}"

    # Concurrent boots and deletes (each a process of its own) leave records and guests equal.
    def start(*args: str) -> subprocess.Popen[str]:
        cmd = [str(venv / "bin/nova-compute"), "--state-dir", str(state), *args]
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    for rnd in (1, 2, 3):
        procs = [start("boot", f"c{rnd}-{n}", "--flavor", "m1.nano") for n in range(1, 7)]
        if rnd > 1:
            procs += [start("delete", f"c{rnd - 1}-{n}") for n in range(1, 4)]
        for p in procs:
            _, err = p.communicate(timeout=600)
            assert p.returncode == 0, f"a concurrent command failed (round {rnd}): {p.args!r}: {err}"
    expect("concurrent boots and deletes leave records and guests equal", r"^in sync", "sync")
    listed = run([venv / "bin/nova-compute", "--state-dir", state, "list"], tmp_path, check=True).stdout
    assert listed.count(" active ") == 12, f"expected 12 active instances:\n{listed}"
    one_line("UUID-shaped name", "looks like a UUID", "boot", "0b7c1a4e-4ab5-4d8e-9a55-7d2d1f0f3c11")
    one_line(
        "oversize flavor", "does not fit node", "boot", "big", "--flavor", "m1.medium", "--ram-allocation-ratio", "0.1"
    )
    half = run([venv / "bin/nova-compute", "--state-dir", state, "boot", "half"], tmp_path,
               env={"NOVA_COMPUTE_TEST_SIGNAL": "1:TERM"})  # fmt: skip
    assert half.returncode == 130, f"interrupted boot exited {half.returncode}, not 130: {half.stderr}"
    expect("an interrupted boot leaves nothing", r"^in sync", "sync")
    damaged = tmp_path / "damaged"
    shutil.copytree(state, damaged)
    (damaged / "instances.sqlite").write_bytes(b"")
    one_line("zero-byte database", "is damaged .*nova-compute sync", "list", state_dir=damaged)
