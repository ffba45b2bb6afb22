"""new-driver / remove-driver logic on small real git repositories: refusals, dry run, rollback."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bindep.depends import Depends

from nova_split_tools.cli import main
from nova_split_tools.driver_template import DriverSpec, render
from nova_split_tools.errors import ToolError
from nova_split_tools.scaffold import add_resolve_line, remove_resolve_line, spec_for
from nova_split_tools.testing.repos import commit, git, new_repo

PANTS_TOML = """\
[python.resolves]
# comment
common = "nova-common/common.lock"
xen = "drivers/xen/xen.lock"

[python-infer]
use_rust_parser = true
"""
CORE_META = (
    '[project]\nname = "nova-common"\nversion = "1.3.0"\n\n'
    '[owners]\nteam = "core"\nmembers = ["ann@example.org", "bob@example.org"]\n'
)


def _repo(tmp_path: Path, pants: str = "#!/bin/sh\nexit 3\n") -> Path:
    repo = new_repo(tmp_path / "repo")
    files: dict[str, str | None] = {
        "pants.toml": PANTS_TOML,
        "pants": pants,
        "nova-common/subproject.toml": CORE_META,
        "drivers/xen/subproject.toml": "[project]\n",
        ".gitignore": "/dist/\n",
        # a new driver's directory gets a copy of the repository's LICENSE (its wheel ships it)
        "LICENSE": "Apache License\nVersion 2.0\n",
    }
    commit(repo, "init", files)
    (repo / "pants").chmod(0o755)
    git(repo, "commit", "-qam", "exec")
    return repo


def test_resolve_line_goes_after_the_last_resolve_and_comes_out_again() -> None:
    added = add_resolve_line(PANTS_TOML, "vbox")
    assert added.splitlines()[3:5] == ['xen = "drivers/xen/xen.lock"', 'vbox = "drivers/vbox/vbox.lock"']
    assert remove_resolve_line(added, "vbox") == PANTS_TOML
    with pytest.raises(ToolError, match="expected one 'vbox' line in pants.toml's"):
        remove_resolve_line(PANTS_TOML, "vbox")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Vbox", "bad driver name 'Vbox': use 2-16 lowercase letters and digits"),
        ("v-box", "bad driver name 'v-box'"),
        ("9box", "bad driver name '9box'"),
        ("a" * 17, "bad driver name"),
        ("fake", "'fake' is taken by nova-common"),
        ("common", "'common' is taken by nova-common"),
        ("xen", "driver 'xen' exists (drivers/xen); remove it first or choose another name"),
    ],
)
def test_bad_or_taken_names_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, message: str
) -> None:
    repo = _repo(tmp_path)
    assert main(["--repo", str(repo), "new-driver", name]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_bad_client_package_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _repo(tmp_path)
    assert main(["--repo", str(repo), "new-driver", "vbox", "--client-package", "py vbox>>1"]) == 2
    assert "--client-package 'py vbox>>1' is not a requirement" in capsys.readouterr().err


def test_spec_records_canonical_client_packages_and_the_core_api(tmp_path: Path) -> None:
    spec = spec_for(_repo(tmp_path), "vbox", ["PyVBox_Client>=1.0"], [])
    assert spec.client_packages == ("pyvbox-client",)
    assert spec.requirements == ("PyVBox_Client>=1.0",)
    assert (spec.api, spec.owners) == ((1, 3), ("ann@example.org", "bob@example.org"))
    files = render(spec)
    assert 'client-packages = ["pyvbox-client"]' in files["drivers/vbox/subproject.toml"]
    assert 'api_versions = APIVersionRange("1.0", "1.3")' in files["drivers/vbox/nova_vbox/driver.py"]


def test_dry_run_lists_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _repo(tmp_path)
    assert main(["--repo", str(repo), "new-driver", "vbox", "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "would write drivers/vbox/BUILD" in out and "would edit pants.toml ([python.resolves])" in out
    assert any(line.startswith("would generate drivers/vbox/vbox.lock") for line in out)
    assert git(repo, "status", "--porcelain") == ""


def test_dirty_tree_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _repo(tmp_path)
    (repo / "notes.txt").write_text("wip")
    assert main(["--repo", str(repo), "new-driver", "vbox"]) == 2
    assert "the work tree has uncommitted changes (notes.txt); commit or stash them first" in capsys.readouterr().err
    assert not (repo / "drivers/vbox").exists() and "vbox" not in (repo / "pants.toml").read_text()


def test_a_failing_step_rolls_everything_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _repo(tmp_path)  # its ./pants fails, so the lockfile cannot be generated
    assert main(["--repo", str(repo), "new-driver", "vbox"]) == 2
    assert "'./pants generate-lockfiles --resolve=vbox' failed" in capsys.readouterr().err
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert list((repo / "dist").iterdir()) == []


def test_remove_refuses_an_unknown_driver(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--repo", str(_repo(tmp_path)), "remove-driver", "vbox"]) == 2
    assert capsys.readouterr().err == "nova-split remove-driver: error: no driver 'vbox'; the drivers are: xen\n"


def test_remove_dry_run_lists_and_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _repo(tmp_path)
    assert main(["--repo", str(repo), "remove-driver", "xen", "--dry-run"]) == 0
    assert "would delete drivers/xen/ (every file)" in capsys.readouterr().out
    assert git(repo, "status", "--porcelain") == ""


def _tool(repo: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = "import sys; from nova_split_tools.cli import main; sys.exit(main())"
    cmd = [sys.executable, "-c", run, "--repo", str(repo), *args]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_interrupted_mid_run_leaves_the_tree_as_it_was_and_a_second_run_is_refused(tmp_path: Path, signum: int) -> None:
    # ./pants hangs: the run is stopped while the driver directory and resolve line are in place.
    repo = _repo(tmp_path, pants="#!/bin/sh\nexec sleep 60\n")
    first = _tool(repo, "new-driver", "vbox")
    deadline = time.monotonic() + 120
    while "vbox" not in (repo / "pants.toml").read_text() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first.poll() is None, first.communicate()
    assert (repo / "drivers/vbox/BUILD").exists()
    second = _tool(repo, "remove-driver", "xen")
    assert second.wait(30) == 2
    assert "another new-driver or remove-driver is running" in second.communicate()[1]
    first.send_signal(signum)
    said = "interrupted" if signum == signal.SIGINT else f"terminated ({signal.Signals(signum).name})"
    assert first.wait(30) == 130
    assert first.communicate()[1].endswith(f"nova-split new-driver: {said}\n")
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_rendered_driver_names_everything_after_the_driver() -> None:
    files = render(DriverSpec("vbox", (), (), ("ann",), (1, 0)))
    assert 'nova_driver(\n    name="vbox",\n    driver_class="VboxDriver",' in files["drivers/vbox/BUILD"]
    assert "client-packages = []" in files["drivers/vbox/subproject.toml"]
    assert {p.rsplit("/", 1)[-1] for p in files if p.startswith("drivers/vbox/nova_vbox/")} == {
        "__init__.py",
        "client.py",
        "client_fake.py",
        "driver.py",
        "exception.py",
        "conformance_test.py",
        "driver_test.py",
        "cli_integration_test.py",
    }


def test_a_new_driver_declares_its_system_packages_in_an_empty_bindep_txt() -> None:
    files = render(DriverSpec("vbox", (), (), ("ann",), (1, 0)))
    text = files["drivers/vbox/bindep.txt"]
    assert "drivers/vbox" in text and not any(p.endswith("/system-deps") for p in files)
    # bindep's own parser reads it, and it asks for nothing until the driver's team adds a line.
    assert Depends(text).active_rules(["platform:dpkg", "test"]) == []


@pytest.mark.parametrize("second", [signal.SIGHUP, signal.SIGINT, signal.SIGTERM])
def test_a_second_signal_cuts_no_rollback_short(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, second: signal.Signals
) -> None:
    """SIGTERM stops new-driver half-way; a second signal (systemd sends SIGHUP after SIGTERM, a
    closing terminal two SIGHUPs) arrives while the rollback runs: the rollback still finishes."""
    from nova_common_cli.args import Terminated, terminate_as_exception
    from nova_split_tools import scaffold

    repo = _repo(tmp_path)
    before = (repo / "pants.toml").read_text()
    restore = scaffold._Staging.restore

    def interrupted_restore(self: scaffold._Staging) -> None:
        os.kill(os.getpid(), second)
        time.sleep(0.05)
        restore(self)

    monkeypatch.setattr(scaffold._Staging, "restore", interrupted_restore)
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        with pytest.raises(Terminated), terminate_as_exception(restore=False, hangup=True):  # as the program
            with scaffold._rollback(repo) as staged:
                staged.save("pants.toml")
                (repo / "pants.toml").write_text(before + "# half-made\n")
                staged.create_dir("drivers/vbox", {"drivers/vbox/BUILD": "python_sources()\n"})
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)
    finally:
        for sig, handling in saved.items():
            signal.signal(sig, handling)
    assert (repo / "pants.toml").read_text() == before
    assert not (repo / "drivers/vbox").exists()


@pytest.mark.parametrize("second", [signal.SIGHUP, signal.SIGINT])
def test_a_second_signal_before_the_rollback_does_not_replace_the_first(tmp_path: Path, second: signal.Signals) -> None:
    """SIGTERM, then another signal while new-driver is still stopping (its ./pants being killed):
    the command still ends as SIGTERM ended it, rolled back."""
    from nova_common_cli.args import Terminated, terminate_as_exception
    from nova_split_tools import scaffold

    repo = _repo(tmp_path)
    before = (repo / "pants.toml").read_text()
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        with pytest.raises(Terminated) as stopped, terminate_as_exception(restore=False, hangup=True):
            with scaffold._rollback(repo) as staged:
                staged.save("pants.toml")
                (repo / "pants.toml").write_text(before + "# half-made\n")
                try:
                    os.kill(os.getpid(), signal.SIGTERM)
                    time.sleep(5)
                finally:  # stopping the step that was running
                    os.kill(os.getpid(), second)
                    time.sleep(0.05)
    finally:
        for sig, handling in saved.items():
            signal.signal(sig, handling)
    assert stopped.value.signal_name == "SIGTERM"
    assert (repo / "pants.toml").read_text() == before


def test_after_a_ctrl_c_the_rollback_does_not_rearm_sigterm(tmp_path: Path) -> None:
    """Ctrl-C goes to the program's handler, which ignores every interrupt from then on: leaving
    the rollback must not give SIGTERM back, or a second signal would cut the program's cleanup."""
    from nova_common_cli.args import terminate_as_exception
    from nova_split_tools import scaffold

    repo = _repo(tmp_path)
    before = (repo / "pants.toml").read_text()
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        with pytest.raises(KeyboardInterrupt), terminate_as_exception(restore=False, hangup=True):
            try:
                with scaffold._rollback(repo) as staged:
                    staged.save("pants.toml")
                    (repo / "pants.toml").write_text(before + "# half-made\n")
                    os.kill(os.getpid(), signal.SIGINT)
                    time.sleep(5)
            finally:  # the program's cleanup, after the rollback
                after = signal.getsignal(signal.SIGTERM)
                os.kill(os.getpid(), signal.SIGTERM)  # ignored: the cleanup runs on
                time.sleep(0.05)
        assert after is signal.SIG_IGN
    finally:
        for sig, handling in saved.items():
            signal.signal(sig, handling)
    assert (repo / "pants.toml").read_text() == before
