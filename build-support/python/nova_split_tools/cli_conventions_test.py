"""nova-split's command-line conventions (docs/cli.md), against real git repositories built here:
--version, the exit code matrix, options before or after the command, schema_version in every
JSON document, plain help, completion run by bash, SIGINT/SIGTERM."""

from __future__ import annotations

import functools
import json
import os
import pkgutil
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import nova_split_tools
from nova_split_tools import audit_cmd, bench_cmd, clone_cmd, release_cmd
from nova_split_tools.audit import Outcome
from nova_split_tools.cli import COMMANDS, main, parser
from nova_split_tools.clone import clone
from nova_split_tools.output import SCHEMA_VERSION
from nova_split_tools.testing.api_repos import make_repo
from nova_split_tools.testing.interrupt import gone
from nova_split_tools.testing.release_toolchain import Recorder
from nova_split_tools.testing.repos import commit, git

TOWNCRIER = """[tool.towncrier]
name = "nova-common"
directory = "changes"
filename = "CHANGELOG.md"

[[tool.towncrier.type]]
directory = "feature"
name = "Features"
showcontent = true
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """make_repo's monorepo (nova-common 1.0.0 tagged, three drivers), plus a LICENSE to export."""
    root = make_repo(tmp_path_factory.mktemp("cli") / "repo")
    files: dict[str, str | None] = {"LICENSE": "Apache-2.0\n", "nova-common/towncrier.toml": TOWNCRIER}
    files[bench_cmd.CHANGED] = "C = 1\n"
    commit(root, "license, release notes, the file bench changes", files)
    Recorder().regenerate(root)  # the release tests' toolchain: its derived files are current
    git(root, "add", "-A")
    git(root, "commit", "-qm", "derived files of the release tests' toolchain")
    return root


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as e:  # argparse: usage errors and --help
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys: pytest.CaptureFixture[str], command: str, *argv: str, code: int = 0) -> dict[str, Any]:
    got, out, err = _run(capsys, *argv)
    assert got == code, (argv, out, err)
    document: dict[str, Any] = json.loads(out)
    assert (document["schema_version"], document["command"]) == (SCHEMA_VERSION, command), document
    assert list(document)[:2] == ["schema_version", "command"]
    return document


def test_version_is_the_checkouts_nova_common(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--repo", str(repo / "drivers"), "--version")
    assert (code, err) == (0, "")
    assert out == f"nova-split (tooling of x 1.0.0, {repo})\n"  # make_repo calls nova-common "x"
    assert _run(capsys, "--version", "--repo", str(repo))[1] == out


def test_release_cuts_version_option_is_not_the_tools_version(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``release cut X --version V`` names the release; it used to share its dest with the global
    ``--version``, so the documented command printed the tool's version and exited 0."""
    monkeypatch.setattr(release_cmd, "PantsToolchain", lambda pantsd: Recorder())
    r = ("--repo", str(repo))
    code, out, err = _run(capsys, *r, "release", "cut", "nova-common", "--version", "7.0.0", "--dry-run", "--force")
    assert (code, err) == (0, ""), out
    assert "release x 1.0.0 -> 7.0.0 (explicit)" in out and "dry run: nothing changed" in out
    code, out, err = _run(capsys, *r, "release", "cut", "nova-common", "--version", "banana")
    assert (code, out) == (2, "")
    assert err == "nova-split release: error: --version 'banana' is not a version (use X.Y.Z)\n"


@pytest.mark.parametrize(
    ("argv", "code", "said"),
    [
        # a check or gate that ran and failed: 1
        (("owners", "--check"), 1, r"^nova-split owners: error: \d+ generated file\(s\) are stale"),
        (("review", "--paths-from", "XEN", "--check"), 1, "missing approval from 1 team"),
        # a bad revision: the tool could not run, 2
        (("plan", "nope..HEAD"), 2, "unknown revision 'nope'"),
        (("review", "nope..HEAD"), 2, "unknown revision 'nope'"),
        (("api-gate", "--against", "nope", "--no-typecheck"), 2, "nope"),
        (("export", "xen", "DEST", "--rev", "nope"), 2, "nope"),
        (("release", "plan", "nosuch"), 2, "nosuch"),
        # usage errors: 2
        (("plan", "--no-such-option"), 2, "unrecognized arguments: --no-such-option"),
        (("no-such-command",), 2, "invalid choice: 'no-such-command'"),
        ((), 2, "a COMMAND is required"),
    ],
)
def test_exit_code_matrix(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], code: int, said: str
) -> None:
    (tmp_path / "XEN").write_text("drivers/xen/nova_xen/driver.py\n")
    argv = tuple(str(tmp_path / a) if a in ("XEN", "DEST") else a for a in argv)
    got, out, err = _run(capsys, "--repo", str(repo), *argv)
    assert got == code, (out, err)
    assert err.count("\n") == 1 and "Traceback" not in err and re.search(said, err), err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_interrupted_is_130_one_line_and_leaves_no_child(tmp_path: Path, signum: int) -> None:
    root = make_repo(tmp_path / "repo")
    started = tmp_path / "pants-started"
    # It ignores SIGTERM (what the tooling's children get when it dies), so only the tooling's own
    # cleanup can stop it; it writes its pid, as exec leaves no name to look for.
    (root / "pants").write_text(f"#!/bin/sh\necho $$ > {started}\ntrap '' TERM\nexec sleep 60\n")
    (root / "pants").chmod(0o755)
    git(root, "add", "pants")
    git(root, "commit", "-qm", "a ./pants that hangs")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = "import sys; from nova_split_tools.cli import main; sys.exit(main())"
    proc = subprocess.Popen(
        [sys.executable, "-c", run, "plan", "--repo", str(root), "HEAD~0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (started.exists() and started.read_text().strip()) and proc.poll() is None:
        assert time.monotonic() < deadline, "./pants never started"
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    child = int(started.read_text())
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    said = "interrupted" if signum == signal.SIGINT else f"terminated ({signal.Signals(signum).name})"
    assert (proc.returncode, err) == (130, f"nova-split plan: {said}\n"), (out, err)
    assert gone(child), "./pants outlived the command"


def test_a_closed_reader_is_one_line_and_exit_1(repo: Path) -> None:
    """``nova-split review ... --format json | true``: the reader is gone before the output is written.
    As nova-compute: one line, exit 1 (the command ran; its output went nowhere), no traceback."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = "import sys; from nova_split_tools.cli import main; sys.exit(main())"
    read, write = os.pipe()
    os.close(read)  # the reader went away before the first byte
    try:
        proc = subprocess.run(
            [sys.executable, "-c", run, "review", "--repo", str(repo), "HEAD~1..HEAD", "--format", "json"],
            env=env,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write)
    expected = "nova-split review: error: the output could not be written (its reader closed the pipe)\n"
    assert (proc.returncode, proc.stderr) == (1, expected)


def test_a_closed_stdout_is_refused_before_the_command_runs(repo: Path) -> None:
    """``nova-split review ... >&-``: Python has no stdout at all; refused before any work (exit 2)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = "import sys; from nova_split_tools.cli import main; sys.exit(main())"
    proc = subprocess.run(
        [sys.executable, "-c", run, "review", "--repo", str(repo), "HEAD~1..HEAD"],
        env=env,
        preexec_fn=lambda: os.close(1),
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    assert (proc.returncode, proc.stderr) == (
        2,
        "nova-split review: error: standard output is closed; run the command with it open "
        "(>/dev/null discards the output)\n",
    )


def test_global_options_before_or_after_the_command(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # not a repository: only --repo can name it
    paths = tmp_path / "paths"
    paths.write_text("drivers/xen/nova_xen/driver.py\n")
    before = _run(capsys, "--repo", str(repo), "review", "--paths-from", str(paths), "--format", "json")
    after = _run(capsys, "review", "--format", "json", "--paths-from", str(paths), "--repo", str(repo))
    nested = _run(capsys, "release", "--repo", str(repo), "plan", "nova-common", "--format", "json")
    nested_after = _run(capsys, "release", "plan", "nova-common", "--format", "json", "--repo", str(repo))
    assert before[0] == after[0] == nested[0] == nested_after[0] == 0, (before, after, nested)
    assert before == after and nested == nested_after
    # --format before the command, as nova-compute takes it; one after the command wins
    early = _run(capsys, "--format", "json", "--repo", str(repo), "review", "--paths-from", str(paths))
    early_eq = _run(capsys, "--format=json", "review", "--paths-from", str(paths), "--repo", str(repo))
    nested_early = _run(capsys, "--format", "json", "release", "--repo", str(repo), "plan", "nova-common")
    assert early == early_eq == before and nested_early == nested
    overridden = _run(
        capsys, "--format", "table", "--repo", str(repo), "review", "--paths-from", str(paths), "--format", "json"
    )
    assert overridden == before
    code, out, err = _run(capsys, "--format", "json", "--repo", str(repo), "new-driver", "vbox", "--dry-run")
    assert code == 2 and out == "" and "unrecognized arguments: --format json" in err and err.count("\n") == 1, err
    # an abbreviation before the command is refused, not taken for --format yet left unmoved (the table, exit 0)
    for abbreviated in (["--form", "json"], ["--forma=json"], ["--rep", str(repo), "--format", "json"]):
        code, out, err = _run(capsys, *abbreviated, "review", "--paths-from", str(paths))
        assert code == 2 and out == "" and err.count("\n") == 1, (abbreviated, out, err)


def test_every_json_document_has_the_schema_version(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    r = ("--repo", str(repo))
    paths = tmp_path / "paths"
    paths.write_text("drivers/xen/nova_xen/driver.py\n")
    review = _json(capsys, "review", *r, "review", "--paths-from", str(paths), "--format", "json")
    assert review["missing"] == ["nova-core", "xen-core"] or review["missing"], review
    # ci-config runs Pants and packaging needs full subproject.toml files: the same helper prints theirs.
    stale = _json(capsys, "owners", *r, "owners", "--check", "--format", "json", code=1)
    assert stale["check"] is True and stale["ok"] is False and stale["stale"], stale
    assert capsys.readouterr() == ("", "")
    gate = _json(capsys, "api-gate", *r, "api-gate", "--no-typecheck", "--format", "json")
    assert gate["against"] == "nova-common-1.0.0"
    plan = _json(capsys, "release plan", *r, "release", "plan", "nova-common", "--format", "json")
    assert plan["distribution"] == "x"  # make_repo calls nova-common "x"
    # The cut runs for real with the release tests' toolchain in place of Pants (which would check
    # every generated file of this small repository against its graph).
    monkeypatch.setattr(release_cmd, "PantsToolchain", lambda pantsd: Recorder())
    got, out, err = _run(capsys, *r, "release", "cut", "nova-common", "--dry-run", "--force", "--format", "json")
    cut = json.loads(out)
    assert got == 0 and (cut["schema_version"], cut["command"], cut["commit"]) == (SCHEMA_VERSION, "release cut", None)
    assert "dry run: nothing changed" in err  # the steps go to stderr, stdout is the document alone
    dest = tmp_path / "export-xen"
    exported = _json(capsys, "export", *r, "export", "xen", str(dest), "--format", "json")
    assert exported["commits"] and exported["dest"] == str(dest)
    imported = _json(capsys, "import", *r, "import", "xen", str(dest), "--dry-run", "--format", "json")
    assert imported["commits"] == [] and imported["path"] == "drivers/xen"
    # The graph (Pants) is replaced by the closure of xen's own files; the clone is real.
    xen = {p for p in git(repo, "ls-files", "drivers/xen").split()}
    monkeypatch.setattr(clone_cmd, "clone", functools.partial(clone, closure=lambda root, path: xen))
    cloned = _json(capsys, "clone", *r, "clone", str(repo), "xen", str(tmp_path / "xen-clone"), "--format", "json")
    assert cloned["subproject"] == "drivers/xen" and cloned["files"] > 0
    # audit and bench run the whole test suite and Pants many times (minutes): their measurement is
    # replaced here; the output is the command's own.
    caught = Outcome("a.py", "python", "negate", "negate x", "caught", 2, ["a_test.py"], [], [], [])
    monkeypatch.setattr(audit_cmd, "audit", lambda *a, **k: ([caught], []))
    audited = _json(capsys, "audit", *r, "audit", "--format", "json")
    assert (audited["summary"]["misses"], audited["summary"]["precision"]) == (0, 2.0)
    assert audited["mutations"][0]["outcome"] == "caught" and audited["baseline_failures"] == []
    monkeypatch.setattr(bench_cmd, "run_command", lambda cmd, cwd: time.sleep(0.01))
    bench = _json(capsys, "bench", *r, "bench", "--repeats", "1", "--skip-ci-run", "--format", "json")
    assert len(bench["figures"]) == 5 and all(f["seconds"] > 0 for f in bench["figures"])


def _module_names() -> set[str]:
    return {m.name for m in pkgutil.iter_modules(nova_split_tools.__path__) if "_" in m.name}


def test_help_is_plain_words(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")  # argparse wraps help to the terminal: the checks read whole lines
    p, _ = parser()
    modules = _module_names()
    for name in [None, *COMMANDS, "release plan", "release cut", "completion"]:
        code, out, _ = _run(capsys, *(name.split() if name else []), "--help")
        assert code == 0 and out.startswith("usage: nova-split"), (name, out)
        words = set(re.findall(r"[\w.]+", out))
        assert "``" not in out and ":class:" not in out and ":func:" not in out, (name, out)
        assert not {w for w in words if w.startswith("nova_split_tools")}, (name, out)
        assert not words & modules, (name, words & modules)
        assert "_late_" not in out.lower(), (name, out)
        assert not re.search(r"^  --format \{", out, re.M) or "output format (table:" in out, (name, out)
        # a description between the usage and the options: what the command does, in a sentence
        after_usage = out.split("\n\n", 1)[1]
        assert not after_usage.startswith(("positional arguments:", "options:")), (name, out)


def _complete(script: str, *words: str) -> list[str]:
    program = (
        script
        + f"\nCOMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
        + "_nova_split_complete\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("BASH_ENV", "ENV")}  # read by a non-interactive bash
    proc = subprocess.run(["bash", "--norc", "-c", program], capture_output=True, text=True, check=True, env=env)
    return sorted(filter(None, proc.stdout.splitlines()))


def test_bash_completion(capsys: pytest.CaptureFixture[str]) -> None:
    code, script, _ = _run(capsys, "completion", "bash")
    assert code == 0 and script.endswith("complete -F _nova_split_complete nova-split\n")
    assert _complete(script, "nova-split", "rel") == ["release"]
    assert _complete(script, "nova-split", "--repo", ".", "release", "") == ["cut", "plan"]
    assert _complete(script, "nova-split", "plan", "--fo") == ["--format"]
    assert _complete(script, "nova-split", "plan", "--format", "") == ["github", "json", "table"]
    # --format=<TAB>: bash splits the word at '=' (COMP_WORDBREAKS), into '--format' '=' ''
    assert _complete(script, "nova-split", "plan", "--format", "=") == ["github", "json", "table"]
    assert _complete(script, "nova-split", "plan", "--format", "=", "j") == ["json"]
    assert _complete(script, "nova-split", "--repo", "=", "plan", "rel") == ["release"]  # a value, not a command
    assert _complete(script, "nova-split", "--format", "=", "json", "release", "") == ["cut", "plan"]
    # zsh (bashcompinit) does not split at '=': the value is completed with its --format= prefix
    assert _complete(script, "nova-split", "plan", "--format=j") == ["--format=json"]
    # before the command: every format some command takes
    assert _complete(script, "nova-split", "--format", "") == ["github", "json", "table"]
    assert "--dry-run" in _complete(script, "nova-split", "release", "cut", "--")
    assert "--repo" in _complete(script, "nova-split", "release", "cut", "--")
