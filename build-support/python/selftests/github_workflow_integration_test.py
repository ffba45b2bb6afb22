"""The generated GitHub workflows run: every ``run:`` step, in order, as a non-root user.

For one driver-only change and one nova-common change (commits on a scratch clone of HEAD), the
workflows whose triggers fire are executed job by job (all but ci.yml's ``checks``, which does not
depend on the change: it runs for the first change only) as a hosted runner would: as an unprivileged
user (``nova-split-ci``, created here, with passwordless sudo like GitHub's ``runner``) whose home
starts with an empty Pants cache. What the ``uses:`` actions do is provided here: checkout is a
fresh clone of the change, setup-python puts copies of the pyenv 3.9 and 3.11 interpreters on PATH
(a tool cache the user can read, as ``/opt/hostedtoolcache`` is; on a hosted runner itself, which
has no pyenv, the interpreters setup-python installed there), the cache action is a directory
copy saved after the first change and restored before the second, upload-artifact is recorded.
``${{ }}`` expressions are evaluated by a small evaluator that knows exactly the forms the
generator writes (anything else fails the test). ``GITHUB_ENV`` and ``GITHUB_OUTPUT`` work as on
GitHub, and so do the job rules (nova_split_tools.testing.github): a job runs when its ``if`` holds
and, unless the condition has a status function such as ``always()``, every job it needs succeeded;
``needs.<job>.result`` is ``success``, ``failure`` or ``skipped``, and a failing matrix leg with
``continue-on-error`` leaves its job successful. The planned jobs must run their tests and pass,
nothing else may run, and the ``ci result`` job must pass.

Needs root or passwordless sudo (to create the user); without either it fails in one line.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from nova_split_tools.ci_github import triggered
from nova_split_tools.testing.github import job_result, runs
from nova_split_tools.testing.scratch import buildroot, git, head

USER = "nova-split-ci"
#: Passed from the test's environment to every step when set (see Runner.run_job).
TRUST_ENV = ("NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "PIP_CERT")
STATE = Path("/var/tmp/nova-split-ci")  # the user's tool cache (not the Pants cache: that starts empty)


def _root_cmd(*args: str) -> list[str]:
    return list(args) if os.geteuid() == 0 else ["sudo", "-n", *args]


def _ensure_user() -> None:
    if os.geteuid() != 0 and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode != 0:
        pytest.fail(f"this test creates the user {USER!r}: run it as root or with passwordless sudo", pytrace=False)
    if shutil.which("sudo") is None:
        pytest.fail(
            "the runner's user needs sudo: install it (apt-get install -y sudo; bindep profile test)", pytrace=False
        )
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(_root_cmd("useradd", "--create-home", "--shell", "/bin/bash", USER), check=True)
    sudoers = Path(f"/etc/sudoers.d/{USER}")
    if not sudoers.exists():
        tmp = tempfile.NamedTemporaryFile("w", delete=False, dir="/tmp")
        tmp.write(f"{USER} ALL=(ALL) NOPASSWD:ALL\n")
        tmp.close()
        subprocess.run(_root_cmd("install", "-m", "0440", tmp.name, str(sudoers)), check=True)
        os.unlink(tmp.name)


def _installed(minor: str) -> tuple[Path | None, Path | None]:
    """CPython ``minor`` on this machine: (a pyenv build's prefix, to copy) or (an interpreter the
    runner's user can run where it is: setup-python's tool cache, or on PATH)."""
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    found = sorted(pyenv.glob(f"versions/{minor}.*/bin/python{minor}"))
    if found:
        return found[-1].parent.parent, None
    # A hosted runner: actions/setup-python installed into RUNNER_TOOL_CACHE (/opt/hostedtoolcache),
    # world-readable, and put it on PATH.
    # Where several patch releases are cached, the one setup-python put on PATH, else the newest.
    toolcache = os.environ.get("RUNNER_TOOL_CACHE")
    cached = Path(toolcache).glob(f"Python/{minor}.*/*/bin/python{minor}") if toolcache else iter(())
    newest = sorted(cached, key=lambda p: tuple(int(n) for n in p.parts[-4].split(".") if n.isdigit()))
    on_path = shutil.which(f"python{minor}")
    if on_path is not None and (not newest or (toolcache and Path(on_path).is_relative_to(toolcache))):
        return None, Path(on_path)
    return None, newest[-1] if newest else None


def _interpreters() -> list[Path]:
    """Directories that put CPython 3.9 and 3.11 on the runner's user's PATH, as setup-python does:
    copies of pyenv's builds (relocatable; root's pyenv is in a home that user cannot read), or, on
    a machine without pyenv (a hosted runner), links to the interpreters setup-python installed."""
    bins = []
    for minor in ("3.9", "3.11"):
        prefix, interpreter = _installed(minor)
        if prefix is not None:
            dst = STATE / "toolcache" / prefix.name
            if not (dst / ".complete").exists():
                subprocess.run(_root_cmd("rm", "-rf", str(dst)), check=True)
                subprocess.run(_root_cmd("mkdir", "-p", str(dst.parent)), check=True)
                subprocess.run(_root_cmd("cp", "-a", str(prefix), str(dst)), check=True)
                subprocess.run(_root_cmd("touch", str(dst / ".complete")), check=True)
            bins.append(dst / "bin")
        elif interpreter is not None:
            dst = STATE / "toolcache" / f"linked-{minor}"
            subprocess.run(_root_cmd("mkdir", "-p", str(dst)), check=True)
            subprocess.run(_root_cmd("ln", "-sfn", str(interpreter.resolve()), str(dst / f"python{minor}")), check=True)
            bins.append(dst)
        else:
            pytest.fail(
                f"no CPython {minor}: none under pyenv, RUNNER_TOOL_CACHE or PATH"
                f" (pyenv install {minor}, or actions/setup-python with {minor})",
                pytrace=False,
            )
    subprocess.run(_root_cmd("chmod", "-R", "a+rX", str(STATE)), check=True)
    return bins


def _as_user(script: str, cwd: Path, env: dict[str, str], log: Path) -> int:
    """Runs ``script`` as the runner's shell does: bash --noprofile --norc -eo pipefail."""
    path = cwd.parent / f"step-{time.monotonic_ns()}.sh"
    path.write_text(script)
    shutil.chown(path, USER)
    with log.open("a") as out:
        out.write(f"\n$ {script}")
        out.flush()
        return subprocess.run(
            [
                "sudo",
                "-n",
                "-u",
                USER,
                "env",
                "-i",
                *(f"{k}={v}" for k, v in env.items()),
                "bash",
                "--noprofile",
                "--norc",
                "-eo",
                "pipefail",
                str(path),
            ],
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        ).returncode


_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class Context:
    base: str
    #: job id -> {"result": ..., "outputs": {...}} of the jobs already decided
    needs: dict[str, dict[str, Any]] = field(default_factory=dict)
    matrix: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, dict[str, str]] = field(default_factory=dict)
    status_failed: bool = False

    def value(self, expr: str) -> Any:
        expr = expr.strip()
        if " || " in expr:
            for part in expr.split(" || "):
                v = self.value(part)
                if v:
                    return v
            return v
        for op in (" == ", " != "):
            if op in expr:
                left, right = expr.split(op)
                equal = str(self.value(left)) == str(self.value(right))
                return equal if op == " == " else not equal
        if expr.startswith("!"):
            return not self.value(expr[1:])
        if expr.startswith("'") and expr.endswith("'"):
            return expr[1:-1]
        if expr.startswith("fromJSON(") and expr.endswith(")"):
            return json.loads(self.value(expr[len("fromJSON(") : -1]))
        if expr.startswith("toJSON(") and expr.endswith(")"):
            return json.dumps(self.value(expr[len("toJSON(") : -1]), indent=2)  # GitHub pretty-prints
        if expr == "failure()":
            return self.status_failed
        if expr == "always()":
            return True
        parts = expr.split(".")
        if parts[0] == "matrix":
            return self.matrix[parts[1]]
        if parts[:1] == ["needs"] and parts[2] == "outputs":
            return self.needs[parts[1]]["outputs"].get(parts[3], "")
        if parts[:1] == ["needs"] and parts[2:] == ["result"]:
            return self.needs[parts[1]]["result"]
        if parts[:1] == ["steps"] and parts[2] == "outputs":
            return self.steps.get(parts[1], {}).get(parts[3], "")
        if parts[0] == "secrets":
            return ""
        if expr == "github.event.pull_request.base.sha":
            return self.base
        if expr in ("github.event.before", "github.event_name"):
            return "pull_request" if expr == "github.event_name" else ""
        if expr == "github.ref":
            return "refs/pull/1/merge"
        if expr in ("github.workflow", "runner.os") or expr.startswith("hashFiles("):
            return "x"
        raise AssertionError(f"the test's evaluator does not know the expression {expr!r}: teach it")

    def render(self, text: Any) -> Any:
        if not isinstance(text, str):
            return text
        whole = _EXPR.fullmatch(text.strip())
        if whole:
            return self.value(whole.group(1))
        return _EXPR.sub(lambda m: str(self.value(m.group(1))), text)


def _kv(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        key, sep, value = line.partition("=")
        if sep:
            out[key] = value
    return out


@dataclass
class Runner:
    """One change: its commit, the base, where everything happens."""

    origin: Path
    sha: str
    base: str
    work: Path
    home: Path
    bins: list[Path]
    log: Path
    cache: Path  # the cache action's store (shared between the two changes)
    ran: list[str] = field(default_factory=list)
    #: "workflow/job[/subproject]: step name" -> that step's output
    output: dict[str, str] = field(default_factory=dict)
    #: "workflow/job[/subproject]" -> the Pants specs its Tests step was given (TESTS)
    planned: dict[str, list[str]] = field(default_factory=dict)

    def run_job(self, wf: dict[str, Any], job_id: str, ctx: Context) -> tuple[bool, dict[str, str]]:
        job = wf["jobs"][job_id]
        tag = f"{wf['name']}/{job_id}{'/' + ctx.matrix['subproject'] if ctx.matrix else ''}"
        checkout = self.home / "work" / f"{tag.replace('/', '-')}" / "repo"  # each change its own
        base_env = {
            # setup-python puts the interpreters on PATH and their lib/ on LD_LIBRARY_PATH (shared builds).
            "PATH": ":".join(map(str, self.bins)) + ":/usr/local/bin:/usr/bin:/bin",
            "LD_LIBRARY_PATH": ":".join(str(b.parent / "lib") for b in self.bins),
            "HOME": str(self.home),
            "USER": USER,
            "LANG": "C.UTF-8",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
        }
        # The runner image's trust store: where this machine's CA bundle is not the system one, the
        # variables that name it (a hosted runner needs none; npm and pip fail without them here).
        base_env.update({k: os.environ[k] for k in TRUST_ENV if k in os.environ})
        base_env.update({k: str(ctx.render(v)) for k, v in {**wf.get("env", {}), **job.get("env", {})}.items()})
        genv: dict[str, str] = {}
        failed = False
        # GITHUB_WORKSPACE exists before (and without) a checkout step; checkout clones into it.
        subprocess.run(["sudo", "-n", "-u", USER, "mkdir", "-p", str(checkout)], check=True, cwd="/")
        for n, step in enumerate(job["steps"]):
            if "if" in step:
                ctx.status_failed = failed
                if not ctx.render("${{ " + step["if"] + " }}"):
                    continue
            elif failed:
                continue
            uses = step.get("uses", "")
            if uses.startswith("actions/checkout@"):
                subprocess.run(
                    ["sudo", "-n", "-u", USER, "git", "clone", "-q", str(self.origin), str(checkout)],
                    check=True,
                    cwd="/",
                )
                subprocess.run(
                    ["sudo", "-n", "-u", USER, "git", "-C", str(checkout), "checkout", "-q", self.sha], check=True
                )
            elif uses.startswith("actions/setup-python@"):
                assert [b.parent.name[: len(m)] for b, m in zip(self.bins, ("3.9", "3.11"), strict=True)] == [
                    "3.9",
                    "3.11",
                ]
            elif uses.startswith("actions/cache@"):
                if self.cache.exists() and not (self.home / ".cache" / "pants").exists():
                    subprocess.run(_root_cmd("cp", "-a", f"{self.cache}/.", str(self.home / ".cache")), check=True)
            elif uses.startswith("actions/upload-artifact@"):
                self.ran.append(f"{tag}: uploaded {step['with']['path'].split()}")
            elif uses:
                raise AssertionError(f"{tag}: the test does not provide {uses}")
            else:
                genv_file, out_file = checkout.parent / f"env-{n}", checkout.parent / f"out-{n}"
                for f in (genv_file, out_file):
                    f.write_text("")
                    shutil.chown(f, USER)
                env = {**base_env, **genv, **{k: str(ctx.render(v)) for k, v in step.get("env", {}).items()}}
                env.update(GITHUB_ENV=str(genv_file), GITHUB_OUTPUT=str(out_file), GITHUB_WORKSPACE=str(checkout))
                if step.get("name") == "Tests":
                    self.planned[tag] = json.loads(env["TESTS"])
                start, offset = time.monotonic(), self.log.stat().st_size if self.log.exists() else 0
                rc = _as_user(ctx.render(step["run"]), checkout, env, self.log)
                with self.log.open(errors="replace") as log:
                    log.seek(offset)
                    self.output[f"{tag}: {step.get('name', '')}"] = log.read()
                self.ran.append(
                    f"{tag}: {step.get('name', step['run'][:40])} -> {rc} ({time.monotonic() - start:.0f}s)"
                )
                genv.update(_kv(genv_file))
                if "id" in step:
                    ctx.steps[step["id"]] = _kv(out_file)
                failed = failed or rc != 0
        outputs = {k: str(ctx.render(v)) for k, v in job.get("outputs", {}).items()}
        return not failed, outputs

    def run_workflow(
        self, wf: dict[str, Any], skip: frozenset[str] = frozenset(), assume: dict[str, str] | None = None
    ) -> tuple[dict[str, list[tuple[dict[str, Any], bool]]], dict[str, str]]:
        """(job id -> [(matrix, passed)] for the jobs that ran, job id -> needs.<job>.result).

        The jobs in ``skip`` are not run: their result is taken from ``assume``.
        """
        results: dict[str, list[tuple[dict[str, Any], bool]]] = {}
        needs: dict[str, dict[str, Any]] = {}
        for job_id, job in wf["jobs"].items():  # the generator writes jobs after what they need
            if job_id in skip:
                needs[job_id] = {"result": (assume or {})[job_id], "outputs": {}}
                continue
            needed = job.get("needs", [])
            needed = [needed] if isinstance(needed, str) else needed
            ctx = Context(self.base, needs=needs)
            condition = job.get("if")
            holds = bool(condition and ctx.render("${{ " + condition + " }}"))
            if not runs(condition, {n: needs[n]["result"] for n in needed}, holds):
                needs[job_id] = {"result": "skipped", "outputs": {}}
                continue
            strategy = job.get("strategy", {}).get("matrix")
            entries = ctx.render(strategy)["include"] if strategy else [{}]
            results[job_id] = []
            legs: list[tuple[bool, bool]] = []
            outputs: dict[str, str] = {}
            for entry in entries:
                leg = Context(self.base, needs=needs, matrix=entry)
                ok, outputs = self.run_job(wf, job_id, leg)
                results[job_id].append((entry, ok))
                legs.append((ok, str(leg.render(job.get("continue-on-error", False))).lower() == "true"))
            # a matrix job's outputs are those of whichever leg set them last
            needs[job_id] = {"result": job_result(legs), "outputs": outputs}
        return results, {job_id: n["result"] for job_id, n in needs.items()}


@pytest.fixture(scope="module")
def setup(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    _ensure_user()
    bins = _interpreters()
    work = Path(tempfile.mkdtemp(prefix="nova-split-gha-", dir="/tmp"))
    os.chmod(work, 0o755)
    origin = work / "origin"
    subprocess.run(["git", "clone", "-q", str(buildroot()), str(origin)], check=True)
    git(origin, "checkout", "-q", head())
    git(origin, "config", "user.email", "ci@example.invalid")
    git(origin, "config", "user.name", "ci")
    subprocess.run(_root_cmd("chown", "-R", USER, str(work)), check=True)
    failed_before = request.session.testsfailed
    yield {"work": work, "origin": origin, "bins": bins}
    if request.session.testsfailed == failed_before:
        # the runner homes hold two empty-cache Pants bootstraps (about 2 GB): not left in /tmp
        subprocess.run(_root_cmd("rm", "-rf", str(work)), check=True)
    else:
        print(f"kept for inspection: {work} (log.txt is every step's output)")


_RESULT_LINE = re.compile(r"^([✓✕]) (\S+) (succeeded|failed)", re.MULTILINE)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _tests_ran(output: str) -> dict[str, bool]:
    """Test file -> passed, from the ``✓``/``✕`` lines ``./pants test`` prints per test target."""
    return {m[2].split(":")[0]: m[1] == "✓" for m in _RESULT_LINE.finditer(_ANSI.sub("", output))}


def _planned(spec: str, test_file: str) -> bool:
    """Whether a Pants spec (a test file, or ``<path>::``) selects ``test_file``."""
    return test_file.startswith(spec.removesuffix("::").rstrip("/") + "/") if spec.endswith("::") else spec == test_file


def _assert_ran_exactly_the_planned_tests(runner: Runner) -> None:
    """Every planned test ran and passed, and no test the plan did not select ran."""
    assert runner.planned, "no Tests step ran:\n" + "\n".join(runner.ran)
    for tag, specs in runner.planned.items():
        ran = _tests_ran(runner.output[f"{tag}: Tests"])
        assert ran and all(ran.values()), f"{tag}: {ran}"
        assert all(any(_planned(s, f) for s in specs) for f in ran), f"{tag} ran unplanned tests: {ran} (plan: {specs})"
        for spec in specs:
            assert any(_planned(spec, f) for f in ran), f"{tag}: the planned {spec} did not run: {ran}"


def _change(origin: Path, path: str, what: str) -> tuple[str, str]:
    base = git(origin, "rev-parse", "HEAD").strip()
    target = origin / path
    target.write_text(target.read_text() + f"\n\n# {what}\n")  # as black writes a trailing comment
    git(origin, "commit", "-qam", what)
    return base, git(origin, "rev-parse", "HEAD").strip()


CHANGES = [
    # driver-only: xen's own module; the plan runs xen alone
    ("drivers/xen/nova_xen/driver.py", "a driver-only change", {"xen"}),
    # core-internal: the compute manager; under the default policies no driver's CI runs
    ("nova-common/nova_common/compute/manager.py", "a nova-common change", {"nova-common"}),
]


@pytest.mark.parametrize("path,what,expected", CHANGES, ids=["driver-only", "nova-common"])
def test_generated_workflows_run_as_a_non_root_user(
    setup: dict[str, Any], path: str, what: str, expected: set[str]
) -> None:
    origin: Path = setup["origin"]
    subprocess.run(_root_cmd("chown", "-R", f"{os.geteuid()}", str(origin)), check=True)
    base, sha = _change(origin, path, what)
    changed = git(origin, "diff", "--name-only", f"{base}..{sha}").split()
    subprocess.run(_root_cmd("chown", "-R", USER, str(origin)), check=True)
    home = setup["work"] / f"home-{len(os.listdir(setup['work']))}"
    home.mkdir()
    subprocess.run(_root_cmd("chown", USER, str(home)), check=True)
    runner = Runner(
        origin, sha, base, setup["work"], home, setup["bins"], setup["work"] / "log.txt", setup["work"] / "cache"
    )
    workflows = {p.name: yaml.safe_load(p.read_text()) for p in sorted((origin / ".github/workflows").glob("*.yml"))}
    fired = {name: wf for name, wf in workflows.items() if triggered(wf, changed)}
    assert "ci.yml" in fired
    tested: set[str] = set()
    for name, wf in fired.items():
        # ci.yml's checks job (shellcheck, lint, type check, the --check gates, actionlint) does not
        # depend on the change: it runs for the first change only (the slowest job, it would double
        # this test's time for nothing); a later change's `ci result` takes the result it had.
        checks = setup.get("checks") if name == "ci.yml" else None
        results, job_results = runner.run_workflow(
            wf, skip=frozenset({"checks"}) if checks else frozenset(), assume={"checks": checks} if checks else None
        )
        if name == "ci.yml" and not checks:
            assert "checks" in results, "\n".join(runner.ran)
            setup["checks"] = job_results["checks"]
        for job_id, legs in results.items():
            for entry, ok in legs:
                assert ok, (
                    f"{name}/{job_id} {entry} failed:\n" + "\n".join(runner.ran) + "\n" + runner.log.read_text()[-4000:]
                )
        for entry, _ok in results.get("test", []):
            tested.add(entry.get("subproject") or wf["name"].removeprefix("driver-"))
        if name == "ci.yml":
            # the one required status: it ran although it needs jobs that may be skipped, and passed
            assert job_results["result"] == "success", "\n".join(runner.ran)
            assert "ci result: passed" in runner.output["ci/result: Plan, voting tests and checks passed"]
    if not runner.cache.exists():  # the cache action's save: the next change restores it
        subprocess.run(_root_cmd("cp", "-a", str(home / ".cache"), str(runner.cache)), check=True)
    assert tested == expected, "\n".join(runner.ran)
    _assert_ran_exactly_the_planned_tests(runner)
    assert any("Tests -> 0" in line for line in runner.ran)
    print("\n".join(runner.ran))


def test_a_hosted_runner_s_interpreters_are_found_without_pyenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On ubuntu-latest there is no pyenv: setup-python's tool cache (RUNNER_TOOL_CACHE) or PATH."""
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    real = Path(sys.executable).resolve()
    cached = tmp_path / "hostedtoolcache/Python/3.9.25/x64/bin/python3.9"
    cached.parent.mkdir(parents=True)
    cached.symlink_to(real)
    monkeypatch.setenv("RUNNER_TOOL_CACHE", str(tmp_path / "hostedtoolcache"))
    assert _installed("3.9") == (None, cached)
    on_path = tmp_path / "path/python3.11"
    on_path.parent.mkdir()
    on_path.symlink_to(real)
    monkeypatch.setenv("PATH", str(on_path.parent))
    assert _installed("3.11") == (None, on_path)
    monkeypatch.setenv("RUNNER_TOOL_CACHE", str(tmp_path / "empty"))
    assert _installed("3.9") == (None, None)
    # several patch releases: the one on PATH, else the newest (3.9.25 sorts before 3.9.9 as text)
    older = tmp_path / "hostedtoolcache/Python/3.9.9/x64/bin/python3.9"
    older.parent.mkdir(parents=True)
    older.symlink_to(real)
    monkeypatch.setenv("RUNNER_TOOL_CACHE", str(tmp_path / "hostedtoolcache"))
    assert _installed("3.9") == (None, cached)
    monkeypatch.setenv("PATH", str(older.parent))
    assert _installed("3.9") == (None, older)
