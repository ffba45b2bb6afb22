"""nova-compute as separate real processes on one state directory, with the fake driver.

Each command is its own process started through the ``nova-compute`` console-script entry point.
The fake driver keeps guests in the process, so here ``fake`` is registered as
:class:`~nova_common.compute.shared_fake.SharedFakeDriver`, the fake with its guests in a file
of the state directory: one pretend hypervisor that all the processes share.
"""

import fcntl
import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import nova_common.compute.shared_fake  # noqa: F401  (named by the entry point below; a dependency)
from nova_common.compute.harness import Cli, assert_agree, register, stress
from nova_common.compute.manager import BOOT_STEPS
from nova_common.compute.shared_fake import HOST_FILE, SharedFakeDriver
from nova_common.compute.store import SCHEMA_VERSION


@pytest.fixture(autouse=True)
def _hangup_at_its_default() -> Iterator[None]:
    """As from a terminal, also when the run was started under ``nohup`` (which every nova-compute
    started here would inherit, and so run on when a test closes its terminal)."""
    previous = signal.signal(signal.SIGHUP, signal.SIG_DFL)
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, previous)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    site = register(
        tmp_path / "site", "nova-common", {"fake": "nova_common.compute.shared_fake:SharedFakeDriver"}, True
    )
    return Cli(site, tmp_path / "state", ("--driver", "fake"))


def _guests(cli: Cli) -> dict[str, str]:
    path = cli.state / HOST_FILE
    return {u: g["state"] for u, g in json.loads(path.read_text()).items()} if path.exists() else {}


def _boot(cli: Cli, *names: str) -> dict[str, str]:
    """Boot ``names`` concurrently; name -> uuid."""
    procs = {n: cli.popen("--format", "json", "boot", n, "--flavor", "m1.nano") for n in names}
    booted = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        booted[name] = json.loads(out)[0]["uuid"]
    return booted


def test_twenty_concurrent_mixed_commands_keep_records_and_guests_equal(cli: Cli) -> None:
    first = _boot(cli, *(f"base{n}" for n in range(7)))
    results = stress(cli, 1, keep=["base0", "base1", "base2"], doomed=["base3", "base4", "base5", "base6"])
    booted = {r.json()[0]["uuid"] for r in results if r.argv[0] == "boot"}
    deleted = {r.json()[0]["uuid"] for r in results if r.argv[0] == "delete"}
    assert deleted == {first[f"base{n}"] for n in range(3, 7)}
    expected = {first[f"base{n}"] for n in range(3)} | booted
    assert set(assert_agree(cli, lambda: _guests(cli))) == expected and len(expected) == 11
    # A second round deletes what the first booted while booting more.
    results = stress(cli, 2, keep=["base0", "base1", "base2"], doomed=["r1-vm0", "r1-vm1", "r1-vm2", "r1-vm3"])
    assert len(assert_agree(cli, lambda: _guests(cli))) == 11 - 4 + 8


@pytest.mark.parametrize("signal", ["INT", "TERM", "HUP", "KILL"])
def test_a_boot_interrupted_at_each_step_completes_or_leaves_nothing(cli: Cli, signal: str) -> None:
    for step in range(len(BOOT_STEPS)):
        result = cli.run("boot", f"vm{step}", env={"NOVA_COMPUTE_TEST_SIGNAL": f"{step}:{signal}"})
        if signal == "KILL":
            assert result.code == -9
            cli.run("sync")  # the recovery a killed command needs: finish or remove its boot
        elif step < 2:  # before the guest exists: rolled back
            assert (result.code, result.err) == (
                130,
                f"nova-compute: interrupted by SIG{signal}; boot was rolled back\n",
            )
        else:  # the guest exists: completed
            assert result.code == 0 and f"SIG{signal} arrived after boot had completed" in result.err
        records = assert_agree(cli, lambda: _guests(cli))
        names = {r["name"] for r in cli.json("list")}
        assert (f"vm{step}" in names) is (step >= 2), (step, names)
        assert all(state == "running" for state in records.values())


def test_sigterm_at_arbitrary_moments_never_leaves_half_a_boot(cli: Cli) -> None:
    # Real signals from outside at spread-out moments (before, during and after the boot's
    # steps, depending on the machine's speed): whatever the moment, no sync is needed after.
    for n, delay in enumerate((0.05, 0.2, 0.4, 0.6, 0.8, 1.0, 1.5, 2.5)):
        proc = cli.popen("boot", f"vm{n}")
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, 130, -signal.SIGTERM), err
        assert "Traceback" not in err
        records = assert_agree(cli, lambda: _guests(cli))
        assert (f"vm{n}" in {r["name"] for r in cli.json("list")}) is (proc.returncode == 0)
        assert all(state == "running" for state in records.values())


def _opened(pid: int, path: Path, timeout: float = 120.0) -> None:
    """Wait until process ``pid`` has ``path`` open (it is then waiting for its lock)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if str(path) in _open_files(pid):
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} never opened {path}")


def _open_files(pid: int) -> set[str]:
    """The paths ``pid`` has open now. A starting process opens and closes files all the time
    (its imports), so a descriptor listed a moment ago may be gone: skipped, not an error."""
    opened: set[str] = set()
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except FileNotFoundError:  # the process has exited; the caller's deadline decides
        return opened
    for fd in fds:
        try:
            opened.add(os.readlink(fd))
        except FileNotFoundError:
            continue
    return opened


@pytest.mark.parametrize(("command", "signum"), [("boot", signal.SIGINT), ("delete", signal.SIGTERM)])
def test_a_command_waiting_for_its_turn_stops_at_once_when_interrupted(
    cli: Cli, command: str, signum: signal.Signals
) -> None:
    uuid = _boot(cli, "web1")["web1"]
    lock = cli.state / "store.lock"
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another command's turn, for as long as this test likes
        proc = cli.popen(command, "web1" if command == "delete" else "web2")
        _opened(proc.pid, lock)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=30)  # not the 300 s lock timeout
    finally:
        os.close(fd)
    assert proc.returncode == 130 and err.startswith(f"nova-compute: interrupted by {signum.name}; {command} "), err
    assert err.count("\n") == 1
    assert assert_agree(cli, lambda: _guests(cli)) == {uuid: "running"}


def test_output_that_cannot_be_written_is_one_line_and_the_command_still_counts(cli: Cli) -> None:
    with open("/dev/full", "w") as full:  # every write fails with ENOSPC
        boot = subprocess.run(
            cli.argv("boot", "web1"), env=cli.environ(), stdout=full, stderr=subprocess.PIPE, text=True
        )
    assert boot.returncode == 1 and boot.stderr == (
        "nova-compute: error: cannot write the output (No space left on device); "
        "the command itself completed: 'nova-compute list' shows the state\n"
    )
    assert [r["name"] for r in cli.json("list")] == ["web1"]
    listing = cli.popen("list")  # a reader that went away (`| head -0`) before the output came
    assert listing.stdout is not None
    listing.stdout.close()
    assert listing.wait(timeout=300) == 1
    assert listing.stderr is not None and listing.stderr.read() == (
        "nova-compute: error: cannot write the output (Broken pipe); "
        "the command itself completed: 'nova-compute list' shows the state\n"
    )
    assert len(assert_agree(cli, lambda: _guests(cli))) == 1


def test_a_closed_stdout_is_refused_before_the_command_runs(cli: Cli) -> None:
    boot = subprocess.run(  # as `nova-compute boot web1 >&-`: the child has no fd 1
        cli.argv("boot", "web1"), env=cli.environ(), preexec_fn=lambda: os.close(1), stderr=subprocess.PIPE, text=True
    )
    assert boot.returncode == 2 and boot.stderr == (
        "nova-compute: error: standard output is closed; run the command with it open "
        "(>/dev/null discards the output)\n"
    )
    assert cli.json("list") == [] and _guests(cli) == {}  # nothing was booted that it could not report


def test_output_the_encoding_cannot_hold_is_escaped_not_a_traceback(cli: Cli) -> None:
    ascii_only = {"PYTHONIOENCODING": "ascii"}
    boot = cli.run("boot", "wéb1", env=ascii_only)
    assert boot.code == 0 and boot.err == "" and "w\\xe9b1" in boot.out
    listing = cli.run("list", env=ascii_only)
    assert listing.code == 0 and "w\\xe9b1" in listing.out
    assert [r["name"] for r in cli.json("list")] == ["wéb1"]  # JSON is ASCII-safe by itself


def test_a_uuid_named_instance_cannot_steal_a_delete(cli: Cli) -> None:
    victim = _boot(cli, "victim")["victim"]
    refusal = cli.run("boot", victim).one_line_error()
    assert "looks like a UUID" in refusal
    refusal = cli.run("boot", victim.upper()).one_line_error()
    assert "looks like a UUID" in refusal
    assert [r["name"] for r in cli.json("delete", victim)] == ["victim"]
    assert assert_agree(cli, lambda: _guests(cli)) == {}


@pytest.mark.parametrize(
    ("name", "shown"),
    [("", "''"), ("\x1b[31mred", "'\\x1b[31mred'"), ("a\nb", "'a\\nb'"), ("x" * 300, "'" + "x" * 80 + "'...")],
    ids=["empty", "escape", "newline", "long"],
)
def test_bad_names_give_one_clean_line(cli: Cli, name: str, shown: str) -> None:
    err = cli.run("boot", name).one_line_error()
    assert err.startswith(f"nova-compute: error: invalid instance name {shown}: ")
    assert "\x1b" not in err
    assert not (cli.state / HOST_FILE).exists() or _guests(cli) == {}


def test_delete_says_what_it_deleted_and_host_gives_numbers(cli: Cli) -> None:
    uuid = _boot(cli, "web1")["web1"]
    [host] = cli.json("host")
    assert (host["vcpus"], host["vcpus_used"], host["memory_mb"], host["memory_mb_used"]) == (16, 1, 32768, 128)
    assert (host["disk_gb"], host["disk_gb_used"]) == (1000, 1)
    assert cli.json("delete", "web1") == [
        {
            "name": "web1",
            "uuid": uuid,
            "flavor": "m1.nano",
            "record": "removed",
            "guest": "destroyed",
            "schema_version": 1,
        }
    ]
    table = cli.run("host").out.splitlines()
    assert table[0].split() == [
        "node",
        "hypervisor",
        "vcpus",
        "used/total",
        "memory_mb",
        "used/total",
        "disk_gb",
        "used/total",
    ]
    assert table[1].split()[-3:] == ["0/16", "0/32768", "0/1000"]


def test_an_oversize_flavor_is_refused_in_one_line(tmp_path: Path, cli: Cli) -> None:
    small = Cli(
        cli.site, tmp_path / "small", ("--driver", "fake", "--driver-opt", "vcpus=2", "--driver-opt", "memory_mb=3000")
    )
    assert small.run("boot", "a", "--flavor", "m1.small").code == 0
    err = small.run("boot", "b", "--flavor", "m1.small").one_line_error()
    assert "flavor m1.small does not fit node" in err and "needs 2048 MB of memory, 952 free" in err
    assert small.run("boot", "b", "--flavor", "m1.small", "--ram-allocation-ratio", "1.5").code == 0
    err = small.run("boot", "c", "--flavor", "m1.medium", "--cpu-allocation-ratio", "1").one_line_error()
    assert "needs 2 vCPUs, 0 free (2 x allocation ratio 1 - 2 used)" in err
    assert len(assert_agree(small, lambda: _guests(small))) == 2


def test_the_state_dir_keeps_its_hypervisor_and_expands_tilde(tmp_path: Path, cli: Cli) -> None:
    home = tmp_path / "home"
    home.mkdir()
    tilde = Cli(cli.site, Path("~/vms"), ("--driver", "fake"), env={"HOME": str(home)})
    assert tilde.run("boot", "web1").code == 0
    assert (home / "vms" / "instances.sqlite").exists() and not Path("~").exists()
    other = Cli(cli.site, home / "vms", ("--driver", "fake", "--driver-opt", "vcpus=4"))
    err = other.run("list").one_line_error()
    assert "belongs to driver 'fake', not driver 'fake' with vcpus=4" in err
    err = Cli(cli.site, home / "vms", ("--driver", "nosuch")).run("list").one_line_error()
    assert "no compute driver named 'nosuch'" in err


def _damage(path: Path, how: str) -> None:
    if how == "corrupt":
        with open(path, "r+b") as f:
            f.write(b"\xde\xad\xbe\xef" * 64)
    elif how == "truncated":
        os.truncate(path, path.stat().st_size // 2)
    elif how == "zero-byte":
        os.truncate(path, 0)
    elif how == "newer-schema":
        db = sqlite3.connect(path)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
        db.close()
    elif how == "deleted":
        path.unlink()


@pytest.mark.parametrize(
    ("how", "message", "recoverable"),
    [
        ("corrupt", "is damaged (file is not a database); nothing was changed; move it aside", True),
        ("truncated", "is damaged", True),
        ("zero-byte", "is damaged (the file is empty (0 bytes), the records are lost)", True),
        ("newer-schema", f"has schema version {SCHEMA_VERSION + 5}, newer than this nova-compute understands", False),
        ("deleted", "is missing although this state directory has been used; run 'nova-compute sync'", True),
    ],
)
def test_damaged_database_gives_one_line_and_loses_nothing(cli: Cli, how: str, message: str, recoverable: bool) -> None:
    uuids = _boot(cli, *(f"vm{n}" for n in range(6)))
    db = cli.state / "instances.sqlite"
    _damage(db, how)
    before = db.read_bytes() if db.exists() else None
    for command in ("list", "boot", "delete", "sync"):
        args = {"boot": ("boot", "new"), "delete": ("delete", "vm1")}.get(command, (command,))
        if how == "deleted" and command == "sync":
            continue  # sync is the recovery
        err = cli.run(*args).one_line_error()
        assert message in err, err
    assert (db.read_bytes() if db.exists() else None) == before
    assert set(_guests(cli)) == set(uuids.values())  # every guest still runs
    if not recoverable:
        return
    if db.exists():
        db.rename(db.with_name("instances.sqlite.bad"))
    changes = cli.json("sync")
    assert {c["new"] for c in changes} == {"adopted"} and len(changes) == 6
    assert set(assert_agree(cli, lambda: _guests(cli))) == set(uuids.values())


def test_a_bad_record_is_reported_and_removable(cli: Cli) -> None:
    uuids = _boot(cli, "good", "bad")
    db = sqlite3.connect(cli.state / "instances.sqlite")
    db.execute("UPDATE instances SET data = 'not json' WHERE name = 'bad'")
    db.commit()
    db.close()
    listed = cli.run("list")
    assert listed.code == 0 and "good" in listed.out and "bad" not in listed.out
    assert listed.err.startswith("nova-compute: warning: the record of 'bad' (") and listed.err.count("\n") == 1
    assert f"'nova-compute delete {uuids['bad']}' removes it" in cli.run("show", "bad").one_line_error()
    assert cli.json("delete", uuids["bad"])[0]["guest"] == "destroyed"
    assert set(assert_agree(cli, lambda: _guests(cli))) == {uuids["good"]}


@pytest.mark.parametrize(("mode", "reason"), [(0o555, "readonly database"), (0o000, "Permission denied")])
def test_unwritable_or_unreadable_state_dir_gives_one_line(cli: Cli, mode: int, reason: str) -> None:
    uuid = _boot(cli, "web1")["web1"]
    locked_out = Cli(cli.site, cli.state, cli.options, unprivileged=True)
    cli.state.chmod(mode)
    try:
        # SQLite cannot even read a WAL database in a directory where it cannot create the
        # shared-memory file, so reading is refused too; every command stops before it starts.
        for args in (("list",), ("boot", "web2"), ("delete", "web1"), ("reboot", "web1"), ("sync",)):
            err = locked_out.run(*args).one_line_error()
            assert f"state directory {cli.state} cannot be used: " in err and "fix its permissions" in err
            assert reason in err, err
    finally:
        cli.state.chmod(0o755)
    assert assert_agree(cli, lambda: _guests(cli)) == {uuid: "running"}


def test_an_unusable_state_dir_path_gives_one_line(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "file").write_text("")
    err = Cli(cli.site, tmp_path / "file" / "state", cli.options).run("list").one_line_error()
    assert "cannot be used: Not a directory" in err
    (tmp_path / "loop1").symlink_to("loop2")
    (tmp_path / "loop2").symlink_to("loop1")
    for path in ("file", "loop1"):
        err = Cli(cli.site, tmp_path / path, cli.options).run("list").one_line_error()
        assert f"{tmp_path / path} cannot be used: it exists but is not a directory;" in err


def test_an_empty_state_dir_is_refused_not_taken_as_the_current_directory(tmp_path: Path, cli: Cli) -> None:
    argv = cli.argv("boot", "vm")
    argv[argv.index("--state-dir") + 1] = ""
    (cwd := tmp_path / "cwd").mkdir()
    result = subprocess.run(argv, env=cli.environ(), cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and result.stderr == (
        "nova-compute: error: argument --state-dir: the path is empty; pass a directory; see 'nova-compute --help'\n"
    )
    assert list(cwd.iterdir()) == []


class SlowToConnectDriver(SharedFakeDriver):
    """A hypervisor that never answers: init_host marks the moment and waits (test below)."""

    name = "slow"

    def init_host(self, host: str) -> None:
        Path(os.environ["NOVA_TEST_CONNECTING"]).touch()
        time.sleep(120)


def _connecting(tmp_path: Path, *args: str, nohup: bool = False) -> tuple[subprocess.Popen[str], Path]:
    """``nova-compute ARGS`` against a hypervisor that never answers, once it is connecting."""
    site = register(
        tmp_path / "site",
        "nova-common",
        {"slow": "nova_common.compute.processes_integration_test:SlowToConnectDriver"},
        True,
    )
    connecting = tmp_path / "connecting"
    slow = Cli(site, tmp_path / "state", ("--driver", "slow"), env={"NOVA_TEST_CONNECTING": str(connecting)})
    ignore_hangup = (lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN)) if nohup else None
    proc = slow.popen(*args, preexec_fn=ignore_hangup)
    _until(lambda: connecting.exists() or proc.poll() is not None)
    assert proc.poll() is None, proc.communicate()
    return proc, connecting


@pytest.mark.parametrize(
    ("command", "signum"), [("boot", signal.SIGINT), ("stop", signal.SIGTERM), ("boot", signal.SIGHUP)]
)
def test_interrupted_while_connecting_is_130(tmp_path: Path, command: str, signum: int) -> None:
    """Ctrl-C, SIGTERM or a closed terminal while the driver is still connecting (an unreachable
    hypervisor, a slow one): an interruption like any other, one line and 130, not 'could not run' (2)."""
    proc, _ = _connecting(tmp_path, command, "web1")
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    name = signal.Signals(signum).name
    assert proc.returncode == 130 and err.startswith(f"nova-compute: interrupted by {name}; {command} "), err
    assert err.count("\n") == 1 and "Traceback" not in err, err


@pytest.mark.parametrize(
    ("signum", "said"),
    [
        (signal.SIGINT, "nova-compute: interrupted\n"),
        (signal.SIGTERM, "nova-compute: terminated (SIGTERM)\n"),
        (signal.SIGHUP, "nova-compute: terminated (SIGHUP)\n"),
    ],
)
def test_a_read_only_command_stops_at_once_with_one_line(tmp_path: Path, signum: int, said: str) -> None:
    proc, _ = _connecting(tmp_path, "list")
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (130, said)


def test_under_nohup_a_hangup_does_not_stop_a_command(tmp_path: Path) -> None:
    """``nohup nova-compute ...``: the user asked the command to outlive the terminal."""
    proc, _ = _connecting(tmp_path, "list", nohup=True)
    proc.send_signal(signal.SIGHUP)
    time.sleep(1)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (130, "nova-compute: terminated (SIGTERM)\n")


def _until(condition: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
