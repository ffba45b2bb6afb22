"""nova-compute's command-line conventions (docs/cli.md): --version, exit codes, option order,
JSON schema_version, plain help, shell completion run by bash, progress only on a terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

import nova_common.fake_driver  # noqa: F401  (named by the entry point below; a dependency)
from nova_common.compute.cli import _parser
from nova_common.compute.identity import identity, legacy_identity, redacted
from nova_common.testing.cli import installed_driver, run
from nova_common_cli.args import SCHEMA_VERSION, GlobalOptions, plain
from nova_common_cli.completion import completion_script
from nova_common_cli.progress import Progress

site = installed_driver("nova-common", {"fake": "nova_common.fake_driver:FakeDriver"}, version="1.2.3")


def test_version_names_nova_common_and_each_driver(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        run(capsys, "--version")
    assert exit.value.code == 0
    assert capsys.readouterr().out == "nova-compute 1.2.3 (nova-common); drivers: fake (nova-common 1.2.3)\n"


def test_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ("--state-dir", str(tmp_path), "--driver", "fake")
    assert run(capsys, *base, "boot", "web1").code == 0
    refused = run(capsys, *base, "boot", "web1")  # the operation was refused: 1
    bad_ref = run(capsys, *base, "show", "no-such-instance")  # names nothing: could not run, 2
    no_driver = run(capsys, "--state-dir", str(tmp_path / "other"), "--driver", "nosuch", "list")
    assert (refused.code, bad_ref.code, no_driver.code) == (1, 2, 2)
    for result in (refused, bad_ref, no_driver):
        assert result.err.startswith("nova-compute: error: ") and result.err.count("\n") == 1, result.err
    with pytest.raises(SystemExit) as usage:
        run(capsys, *base, "list", "--no-such-option")
    assert usage.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unrecognized arguments: --no-such-option" in err


def test_credentials_do_not_name_the_hypervisor() -> None:
    """A state directory remembers which hypervisor it belongs to, by driver and connection
    options: not by a password (never written, and a new one is the same hypervisor)."""
    options = {"url": "https://h", "username": "root", "password": "S3cret", "api_key": "k", "API-TOKEN": "t"}
    assert identity("xen", options) == "driver 'xen' with url=https://h username=root"
    assert identity("fake", {"password": "x"}) == "driver 'fake'"
    assert legacy_identity("fake", {"vcpus": "4"}) is None  # no credential: nothing older to adopt
    assert legacy_identity("xen", options) == (
        "driver 'xen' with API-TOKEN=t api_key=k password=S3cret url=https://h username=root"
    )


@pytest.mark.parametrize(
    ("recorded", "shown"),
    [
        ("driver 'xen' with password=S3cret url=https://h", "driver 'xen' with password=*** url=https://h"),
        ("driver 'xen' with password=two words url=https://h", "driver 'xen' with password=*** url=https://h"),
        ("driver 'x' with API-TOKEN=t db_passwd=p", "driver 'x' with API-TOKEN=*** db_passwd=***"),
        ("driver 'x' with url=https://h?token=abc", "driver 'x' with url=https://h?token=abc"),
        ("driver 'fake' with vcpus=4", "driver 'fake' with vcpus=4"),
    ],
)
def test_a_recorded_identity_is_printed_without_credentials(recorded: str, shown: str) -> None:
    assert redacted(recorded) == shown


def test_a_home_that_does_not_exist_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as usage:
        run(capsys, "--state-dir", "~no-such-user-here/x", "--driver", "fake", "list")
    assert usage.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'~no-such-user-here/x': no such user's home; pass a full path" in err


def test_global_options_before_or_after_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--state-dir", str(tmp_path), "--driver", "fake", "boot", "web1").code == 0
    before = run(capsys, "--format", "json", "--state-dir", str(tmp_path), "--driver", "fake", "list")
    after = run(capsys, "list", "--format", "json", "--state-dir", str(tmp_path), "--driver", "fake")
    mixed = run(capsys, "--driver", "fake", "list", "--state-dir", str(tmp_path), "--format", "json")
    assert before.code == after.code == mixed.code == 0, (before, after, mixed)
    assert before.out == after.out == mixed.out
    assert [r["name"] for r in json.loads(after.out)] == ["web1"]
    # Repeatable options add up from both places; a single one given after the command wins.
    parser, options = _parser()
    args = options.merge(parser.parse_args(["--driver-opt", "a=1", "--driver", "x", "list", "--driver-opt", "b=2"]))
    assert (args.driver_opt, args.driver) == (["a=1", "b=2"], "x")
    args = options.merge(parser.parse_args(["--driver", "x", "list", "--driver", "fake"]))
    assert args.driver == "fake" and not any(k.startswith("_late_") for k in vars(args))


def test_every_json_record_has_the_schema_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ("--state-dir", str(tmp_path), "--driver", "fake", "--format", "json")
    for argv in (("boot", "web1"), ("list",), ("show", "web1"), ("host",), ("drivers",), ("sync",)):
        result = run(capsys, *base, *argv)
        assert result.code == 0, result.err
        rows = json.loads(result.out)
        assert rows and all(r["schema_version"] == SCHEMA_VERSION for r in rows), (argv, rows)
    result = run(capsys, *base, "delete", "web1")
    assert json.loads(result.out)[0]["schema_version"] == SCHEMA_VERSION


def test_help_is_plain_words(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")  # argparse wraps help to the terminal: the checks read whole lines
    parser, _ = _parser()
    texts = [parser.format_help()]
    texts += [p.format_help() for p in GlobalOptions.subparsers(parser)]
    for text in texts:
        assert "``" not in text and ":class:" not in text and "nova_common" not in text, text
        assert "_late_" not in text.lower(), text
    assert "output format (table:" in texts[0]
    assert plain("See :class:`nova_common.x.Thing` and ``code`` (see export_history)::\n") == "See Thing and code:"


def _complete(script: str, *words: str) -> list[str]:
    """What bash offers after ``words`` (the last one is the word being typed)."""
    program = (
        script
        + f"\nCOMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
        + "_nova_compute_complete\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("BASH_ENV", "ENV")}  # read by a non-interactive bash
    proc = subprocess.run(["bash", "--norc", "-c", program], capture_output=True, text=True, check=True, env=env)
    return sorted(filter(None, proc.stdout.splitlines()))


def test_bash_completion_script(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "completion", "bash")
    assert result.code == 0
    script = result.out
    assert script.endswith("complete -F _nova_compute_complete nova-compute\n")
    assert _complete(script, "nova-compute", "li") == ["list"]
    assert _complete(script, "nova-compute", "s") == ["show", "snapshot", "start", "stop", "sync"]
    assert _complete(script, "nova-compute", "list", "--fo") == ["--format"]
    assert _complete(script, "nova-compute", "--format", "") == ["json", "table"]
    assert _complete(script, "nova-compute", "--driver", "fake", "boot", "web1", "--flavor", "m1.t") == ["m1.tiny"]
    assert "--hard" in _complete(script, "nova-compute", "reboot", "--")
    assert _complete(script, "nova-compute", "completion", "") == ["bash", "zsh"]
    # an option's value is not a command: no commands offered for it, and it does not change the path
    assert _complete(script, "nova-compute", "--state-dir", "") == []
    assert _complete(script, "nova-compute", "--host", "boot", "li") == ["list"]
    zsh = completion_script(_parser()[0], "zsh")
    assert zsh.splitlines()[0] == "#compdef nova-compute"  # what compinit reads in $fpath
    assert zsh.splitlines()[2] == "autoload -U +X bashcompinit && bashcompinit"


_PROGRESS = """
import time
from nova_common_cli.progress import Progress
with Progress("demo", total=4) as p:
    for i in range(4):
        p.advance(f"item{i}")
        time.sleep(0.3)
print("done")
"""


def _progress_run(stderr_tty: bool, env: dict[str, str] | None = None) -> tuple[str, str]:
    """Run the demo with stderr on a pseudo-terminal (or a pipe); its stdout and stderr."""
    environ = {k: v for k, v in os.environ.items() if k != "NOVA_PROGRESS"}
    environ.update({"PYTHONPATH": os.pathsep.join(sys.path), "TERM": "xterm", **(env or {})})
    if not stderr_tty:
        proc = subprocess.run([sys.executable, "-c", _PROGRESS], env=environ, capture_output=True, text=True)
        return proc.stdout, proc.stderr
    master, slave = pty.openpty()
    proc2 = subprocess.Popen([sys.executable, "-c", _PROGRESS], env=environ, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    out = proc2.communicate(timeout=30)[0].decode()
    os.close(master)
    return out, seen.decode(errors="replace")


def test_progress_is_shown_on_a_terminal_only() -> None:
    assert Progress("x", stream=None).line().startswith("x, 0s elapsed")  # (and the module is a dependency)
    out, err = _progress_run(stderr_tty=True)
    assert out == "done\n", err
    assert "demo 1/4 (25%)" in err and "ETA" in err and "item3" in err, err
    assert err.endswith("\r\x1b[K"), repr(err[-40:])  # the status line is cleared at the end
    out, err = _progress_run(stderr_tty=False)
    assert (out, err) == ("done\n", "")
    out, err = _progress_run(stderr_tty=True, env={"NOVA_PROGRESS": "0"})
    assert (out, err) == ("done\n", "")


def test_run_from_the_sources_the_version_is_nova_commons_subproject_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not installed (run from the monorepo's sources), ``--version`` reads the version from
    nova-common/subproject.toml, two directories above the compute package."""
    from importlib import metadata

    from nova_common.compute import cli

    tree = tmp_path / "nova-common"
    (tree / "nova_common" / "compute").mkdir(parents=True)
    (tree / "subproject.toml").write_text('[project]\nname = "nova-common"\nversion = "9.8.7"\n')
    real = metadata.version

    def version(dist: str) -> str:
        if dist == cli.DISTRIBUTION:
            raise metadata.PackageNotFoundError(dist)
        return real(dist)

    monkeypatch.setattr(metadata, "version", version)
    monkeypatch.setattr(cli, "__file__", str(tree / "nova_common" / "compute" / "cli.py"))
    assert cli._version().startswith("nova-compute 9.8.7 (source tree) (nova-common); drivers: ")
    (tree / "subproject.toml").write_text("[project]\n")
    assert cli._version().startswith("nova-compute (version unknown: not installed) (nova-common)")
