"""The generated Zuul jobs run (docs/zuul.md), proven with Zuul's and Ansible's own tools.

One scratch clone for the module, with three commits on top (a documentation change; a hyperv
``bindep.txt``, its metadata; then the change under test: one hyperv test file, which the plan selects):

1. ``zuul.d/`` loads in Zuul's configuration loader (``build-support/zuul/check_config.py`` in
   the Zuul tool venv), and a broken copy is refused with Zuul's own messages;
2. the pre-run, run and post-run playbooks pass under ``ansible-playbook`` against localhost with
   the variables a Zuul executor passes (``zuul.project.src_dir``, ``zuul.executor.log_root``,
   the job's ``subproject``/``subproject_path``): ensure-system-deps checks the packages, Pants
   bootstraps, the plan selects hyperv's changed test and only it runs, its JUnit report and
   pants.log land in the log root; for a plan that says "all", the whole subproject runs; as a
   node user without root or sudo, the pre-run fails in ensure-system-deps' one line;
3. for every tracked file as a one-file change, and a sample of mixed changes, Zuul's own file
   matchers run exactly the jobs ``nova-split plan`` runs, with the voting the plan gives; on
   documentation the plan runs only the tests that read it, which the docs job (``only_tests``)
   carries for their subproject while that subproject's own job skips the change.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from nova_split_tools.ci_zuul import CHECKS_JOB, GUARD_JOB, ansible_literal, uncovered
from nova_split_tools.graph import load_graph
from nova_split_tools.plan import compute_plan, docs_tests
from nova_split_tools.repo import Change
from nova_split_tools.subprojects import load_subprojects, tool_resolves
from nova_split_tools.testing.scratch import Result, git, run, scratch_clone, share_tooling_venv

HYPERV_TEST = "drivers/hyperv/nova_hyperv/driver_test.py"


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = scratch_clone(tmp_path_factory.mktemp("zuul"))
    # A documentation change (three commits before HEAD), for the docs job.
    with (repo / "docs/zuul.md").open("a") as f:
        f.write("\nA documentation change under test.\n")
    git(repo, "commit", "-q", "-am", "docs: a change for the docs job to plan")
    # A bindep.txt for the pre-run to read (an earlier commit: the plan looks at HEAD~1..HEAD only).
    (repo / "drivers/hyperv/bindep.txt").write_text("# a package every node has\ngit [platform:dpkg test]\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "hyperv: bindep.txt")
    with (repo / HYPERV_TEST).open("a") as f:
        f.write("\n# a change under test\n")
    git(repo, "commit", "-q", "-am", "hyperv: a change for the Zuul jobs to plan")
    share_tooling_venv(repo)  # the run playbook's `nova-split plan` need not export the tooling again
    return repo


@pytest.fixture(scope="module")
def tools(clone: Path) -> Path:
    """The Zuul tool venv's bin directory (built once per requirements file, then cached)."""
    result = run([str(clone / "build-support/bin/zuul-tools")], clone)
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip())


def check_config(tools: Path, clone: Path, root: Path, *args: str) -> Result:
    return run([str(tools / "python"), str(clone / "build-support/zuul/check_config.py"), str(root), *args], clone)


def test_zuul_loads_the_generated_config(tools: Path, clone: Path) -> None:
    result = check_config(tools, clone, clone)
    assert result.returncode == 0, result.stderr
    assert "loads in Zuul's configuration loader" in result.stdout


def test_zuul_refuses_a_broken_config_with_its_own_messages(tools: Path, clone: Path, tmp_path: Path) -> None:
    (tmp_path / "zuul.d").mkdir()
    text = (clone / "zuul.d/nova-split.yaml").read_text()
    text = text.replace("    parent: nova-split-base\n", "    parent: nova-split-nobase\n", 1)
    text = text.replace("    timeout: 7200\n", "    timeout: 7200\n    colour: blue\n", 1)
    text = text.replace("- ^drivers/xen/.*$", "- ^(?!drivers/xen/).*$", 1)
    text = text.replace("    gate:\n      jobs:\n", "    gate:\n      jobs:\n      - nova-split-missing\n", 1)
    (tmp_path / "zuul.d/nova-split.yaml").write_text(text)
    result = check_config(tools, clone, tmp_path)
    assert result.returncode == 1, result
    for expected in (
        "extra keys not allowed @ data['colour']",
        "invalid perl operator: (?!",
        "Job nova-split-nobase not defined",
        "Job nova-split-missing not defined",
    ):
        assert expected in result.stderr, result.stderr


def playbook(
    tools: Path,
    clone: Path,
    name: str,
    extra: dict[str, object],
    *,
    verbose: bool = False,
    user: str | None = None,
    jobdir: Path | None = None,
    env: dict[str, str] | None = None,
) -> Result:
    """Run ``playbooks/<name>.yaml`` against localhost as a Zuul executor would (``verbose``: ``-v``,
    which prints each task's result, a command's argv included; ``user``: the node's user, which
    the tasks become with sudo, as the executor logs in as a node's user; ``jobdir``: the build's
    directory, where Zuul's own ``zuul_return`` writes ``work/results.json``)."""
    if jobdir is None:
        jobdir = Path(tempfile.mkdtemp(prefix="nova-split-jobdir-"))
    (jobdir / "work").mkdir(parents=True, exist_ok=True)
    (jobdir / "work/results.json").touch()  # the executor creates it before the first playbook
    variables = {
        "zuul": {"project": {"src_dir": str(clone)}, "executor": {"log_root": str(clone.parent / "logs")}},
        "subproject": "hyperv",
        "subproject_path": "drivers/hyperv",
        # No daemon may outlive the scratch clone.
        "nova_split_pantsd": False,
        **extra,
    }
    # Zuul's executor's own action plugins (zuul_return), from the zuul package in the tool venv.
    (zuul_actions,) = tools.parent.glob("lib/python3*/site-packages/zuul/ansible/base/action")
    env = {
        **(env or {}),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_ACTION_PLUGINS": str(zuul_actions),
        "ZUUL_JOBDIR": str(jobdir),
    }
    if user is not None:
        # Pipelining: the modules reach the user on stdin, not through files it could not read.
        variables |= {"ansible_become": True, "ansible_become_user": user, "ansible_become_method": "sudo"}
        env["ANSIBLE_PIPELINING"] = "1"
    return run(
        [
            str(tools / "ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            # The node's system Python, as on a Zuul node (not a pyenv shim on PATH).
            "-e",
            "ansible_python_interpreter=/usr/bin/python3",
            "-e",
            json.dumps(variables),
            *(["-v"] if verbose else []),
            f"playbooks/{name}.yaml",
        ],
        clone,
        env=env,
    )


def test_playbooks_pass_for_a_hyperv_change(tools: Path, clone: Path) -> None:
    logs = clone.parent / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    pre = playbook(tools, clone, "pre", {})
    assert pre.returncode == 0, pre.stdout + pre.stderr
    assert "TASK [Install the system packages (bindep.txt) with build-support/bin/ensure-system-deps]" in pre.stdout
    # this machine has the CPython 3.9 Pants runs on: zuul-jobs' ensure-python (not on the roles
    # path here, so a call would fail the play) is skipped
    ensure_python = pre.stdout.split("TASK [Install CPython 3.9 (zuul-jobs' ensure-python, with pyenv)]")[1]
    assert ensure_python.split("TASK [")[0].strip("* \n") == "skipping: [localhost]", pre.stdout
    main = playbook(tools, clone, "run", {})
    assert main.returncode == 0, main.stdout + main.stderr
    assert "hyperv: run=True voting=True" in main.stdout, main.stdout
    post = playbook(tools, clone, "post", {})
    assert post.returncode == 0, post.stdout + post.stderr
    reports = sorted(p.name for p in (logs / "test-reports").glob("*.xml"))
    # Exactly the planned test ran: hyperv's changed test file, nothing else.
    assert reports and all("hyperv" in r and "driver_test" in r for r in reports), reports
    assert (logs / "pants.log").is_file()


def test_pre_playbook_installs_cpython_39_where_the_node_has_none(tools: Path, clone: Path, tmp_path: Path) -> None:
    """A debian-bookworm node has no CPython 3.9 (Pants 2.17's): the pre-run finds none where ./pants
    looks, calls zuul-jobs' ensure-python for 3.9 with pyenv, and the bootstrap then finds it. The
    role is a stand-in that records its variables and ends as the real one does (a python3.9 where
    build-support/bin/find-python looks); zuul-jobs builds it with pyenv's python-build."""
    real = run([clone / "build-support/bin/find-python", "3.9"], clone, check=True).stdout.strip()
    home = tmp_path / "home"  # no ~/.pyenv; the caches are the real ones (no second Pants download)
    home.mkdir()
    (home / ".cache").symlink_to(Path.home() / ".cache")
    record = tmp_path / "ensure-python.json"
    tasks = tmp_path / "roles/ensure-python/tasks"
    tasks.mkdir(parents=True)
    installed = home / ".pyenv/versions/3.9.99/bin/python3.9"
    (tasks / "main.yaml").write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Record how the role was called",
                    "ansible.builtin.copy": {
                        "content": "{{ {'python_version': python_version, 'use_pyenv': python_use_pyenv} | to_json }}",
                        "dest": str(record),
                    },
                },
                {
                    "name": "Make the directory",
                    "ansible.builtin.file": {"path": str(installed.parent), "state": "directory"},
                },
                {"name": "Install", "ansible.builtin.file": {"src": real, "dest": str(installed), "state": "link"}},
            ]
        )
    )
    node = {
        "HOME": str(home),
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "NOVA_PYTHON39": "",
        "ANSIBLE_ROLES_PATH": str(tmp_path / "roles"),
    }
    assert run([clone / "build-support/bin/find-python", "3.9"], clone, env=node).returncode == 1
    result = playbook(tools, clone, "pre", {}, env=node, verbose=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(record.read_text()) == {"python_version": "3.9", "use_pyenv": True}
    assert "TASK [Bootstrap Pants]" in result.stdout and "2.17.1" in result.stdout


def test_pre_playbook_for_the_checks_job_takes_debians_npm_only_where_node_has_none(tools: Path, clone: Path) -> None:
    """The checks job's profiles (``ci npm``, from the generated config): where npm is on PATH
    (NodeSource's nodejs, which conflicts with Debian's npm) the pre-run drops the npm profile."""
    entries = yaml.safe_load((clone / "zuul.d/nova-split.yaml").read_text())
    (checks,) = (e["job"] for e in entries if "job" in e and e["job"]["name"] == CHECKS_JOB)
    assert checks["vars"]["bindep_profiles"].split() == ["ci", "npm"]
    extra = {k: checks["vars"][k] for k in ("subproject", "subproject_path", "bindep_dirs", "bindep_profiles")}
    result = playbook(tools, clone, "pre", extra, verbose=True)
    assert result.returncode == 0, result.stdout + result.stderr
    dropped = '"nova_split_bindep_profiles": "ci"' in result.stdout
    assert dropped == (shutil.which("npm") is not None), result.stdout


def test_zuul_refuses_a_role_project_the_tenant_does_not_have(tools: Path, clone: Path, tmp_path: Path) -> None:
    (tmp_path / "zuul.d").mkdir()
    text = (clone / "zuul.d/nova-split.yaml").read_text()
    assert "- zuul: zuul/zuul-jobs\n" in text
    (tmp_path / "zuul.d/nova-split.yaml").write_text(text.replace("zuul: zuul/zuul-jobs", "zuul: example/no-jobs"))
    result = check_config(tools, clone, tmp_path)
    assert result.returncode == 1 and "roles: example/no-jobs is not a project of the tenant" in result.stderr, result


def test_checks_playbook_runs_every_check_and_fails_naming_the_failing_one(
    tools: Path, clone: Path, tmp_path: Path
) -> None:
    """The checks job's playbook runs each check of its `checks` var in the checkout, a failing one
    included, and fails naming it (the generated var is GitHub's list: ci_zuul_test)."""
    first, last = tmp_path / "first.out", tmp_path / "last.out"
    # what Ansible would template (bash's ${#array[@]}, a Jinja expression) reaches bash as written
    checks = [
        {"name": "first", "run": ansible_literal(f'x=(a b c); echo "first ran ${{#x[@]}} {{{{ 1 + 1 }}}}" > {first}')},
        {"name": "the broken one", "run": "echo a lint finding >&2; exit 3"},
        {"name": "last", "run": f"test -f pants && pwd -P > {last}"},
    ]
    result = playbook(tools, clone, "checks", {"checks": checks, "subproject": "build-support"}, verbose=True)
    assert result.returncode == 2, result.stdout + result.stderr
    assert first.read_text() == "first ran 3 {{ 1 + 1 }}\n", result.stdout
    assert last.read_text().strip() == str(clone.resolve()), result.stdout
    failed = [line for line in result.stdout.splitlines() if line.startswith("failed:")]
    assert len(failed) == 1 and "(item=the broken one)" in failed[0] and "a lint finding" in failed[0], failed
    first.unlink()
    passing = playbook(tools, clone, "checks", {"checks": checks[::2], "subproject": "build-support"})
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert first.exists()


#: a node user that is neither root nor allowed sudo (created by the test below, no sudoers entry)
NO_SUDO_USER = "nova-split-nosudo"
MISSING_PACKAGE = "nova-split-absent-package"


def _as_root(*args: str) -> list[str]:
    return list(args) if os.geteuid() == 0 else ["sudo", "-n", *args]


def test_pre_playbook_without_root_or_sudo_fails_in_one_line_naming_the_packages(tools: Path, clone: Path) -> None:
    """On a node whose user is neither root nor allowed sudo, the pre-run's failure is
    ensure-system-deps' one line: the missing packages and the command that installs them."""
    if os.geteuid() != 0 and run(["sudo", "-n", "true"], clone).returncode != 0:
        pytest.fail(
            f"this test creates the user {NO_SUDO_USER!r}: run it as root or with passwordless sudo", pytrace=False
        )
    try:
        pwd.getpwnam(NO_SUDO_USER)
    except KeyError:
        subprocess.run(_as_root("useradd", "--create-home", "--shell", "/bin/bash", NO_SUDO_USER), check=True)
    # The node's checkout, as far as the pre-run reads it, where that user can read it.
    tree = Path(tempfile.mkdtemp(prefix="nova-split-zuul-", dir="/var/tmp"))
    try:
        shutil.copytree(clone / "playbooks", tree / "playbooks")
        (tree / "build-support/bin").mkdir(parents=True)
        shutil.copy2(clone / "build-support/bin/ensure-system-deps", tree / "build-support/bin")
        (tree / "nova-common").mkdir()
        (tree / "drivers/hyperv").mkdir(parents=True)
        (tree / "drivers/hyperv/bindep.txt").write_text(f"{MISSING_PACKAGE} [platform:dpkg test]\n")
        for path in (tree, *tree.rglob("*")):
            path.chmod(0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)
        result = playbook(tools, tree, "pre", {}, user=NO_SUDO_USER, jobdir=tree / "jobdir")
        returned = json.loads((tree / "jobdir/work/results.json").read_text())
    finally:
        shutil.rmtree(tree)
    # The same on every node: Zuul reports FAILURE instead of retrying it on three nodes.
    assert returned == {"data": {"zuul": {"retry": False}}, "secret_data": {}}, returned
    assert result.returncode == 2, result.stdout + result.stderr
    fatal = [line for line in result.stdout.splitlines() if line.startswith("fatal:")]
    line = (
        f"ensure-system-deps: missing system packages: {MISSING_PACKAGE}; install them with "
        f"'sudo apt-get install -y {MISSING_PACKAGE}' and rerun"
    )
    assert fatal == [f'fatal: [localhost]: FAILED! => {{"changed": false, "msg": "{line}"}}'], result.stdout
    assert "Bootstrap Pants" not in result.stdout


def test_run_playbook_skips_a_subproject_the_plan_does_not_reach(tools: Path, clone: Path) -> None:
    result = playbook(tools, clone, "run", {"subproject": "xen", "subproject_path": "drivers/xen"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "xen: run=False voting=False" in result.stdout, result.stdout
    assert "skipping: [localhost]" in result.stdout.split("Test what the plan selects")[1]


def test_run_playbook_tests_all_of_a_subproject_when_the_plan_says_all(tools: Path, clone: Path) -> None:
    """The commit before the change under test adds hyperv's bindep.txt, its build metadata: the
    plan gives ``tests: "all"`` for hyperv, and the job runs ``./pants test drivers/hyperv::``."""
    result = playbook(tools, clone, "run", {"nova_split_plan_range": "HEAD~2..HEAD~1"}, verbose=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "drivers/hyperv/bindep.txt: build metadata of hyperv (all its tests)" in result.stdout, result.stdout
    assert "; tests: drivers/hyperv::" in result.stdout, result.stdout
    assert '"cmd": ["./pants", "test", "drivers/hyperv::"]' in result.stdout, result.stdout


def test_docs_job_runs_the_docs_tests_for_a_documentation_change(tools: Path, clone: Path) -> None:
    """The docs job's vars, as generated, on the documentation commit: it runs the plan's tests
    that read the documentation, and only those."""
    entries = yaml.safe_load((clone / "zuul.d/nova-split.yaml").read_text())
    (docs,) = (e["job"] for e in entries if "job" in e and e["job"]["name"] == "nova-split-docs")
    result = playbook(tools, clone, "run", {**docs["vars"], "nova_split_plan_range": "HEAD~3..HEAD~2"}, verbose=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "docs/zuul.md: documentation, read by build-support/python/selftests/docs_links_test.py" in result.stdout
    assert '"cmd": ["./pants", "test", "build-support/python/selftests/docs_links_test.py"]' in result.stdout


@pytest.mark.parametrize(
    ("plan_votes", "job_votes", "runs", "fails"),
    [(True, True, True, True), (True, False, False, False), (False, True, True, False), (False, False, True, True)],
)
def test_run_playbook_gates_only_on_what_the_plan_says_votes(
    tools: Path, clone: Path, tmp_path: Path, plan_votes: bool, job_votes: bool, runs: bool, fails: bool
) -> None:
    """The plan reads which members changed, Zuul's ``files`` only which files: a change can start
    the voting job while the plan says the driver's tests do not vote (or the ``-core-advisory``
    job, ``votes: false``, while they do). A stand-in plan and a ``./pants`` whose tests fail:
    the voting job runs advisory tests without failing (a warning says so); the advisory job
    leaves voting tests to the voting job; each fails on the tests it owns."""
    tree = tmp_path / "tree"
    shutil.copytree(clone / "playbooks", tree / "playbooks")
    (tree / "build-support/bin").mkdir(parents=True)
    decision = {"run": True, "voting": plan_votes, "why": ["a.py: end-to-end"], "tests": ["drivers/x/a_test.py"]}
    plan = tree / "build-support/bin/nova-split"
    plan.write_text(f"#!/bin/sh\necho '{json.dumps({'subprojects': {'x': decision}})}'\n")
    pants = tree / "pants"
    pants.write_text('#!/bin/sh\necho "$*" >>"$(dirname "$0")/pants.calls"; exit 1\n')
    for script in (plan, pants):
        script.chmod(0o755)
    extra = {"subproject": "x", "subproject_path": "drivers/x", "votes": job_votes}
    result = playbook(tools, tree, "run", extra)
    calls = tree / "pants.calls"
    assert (calls.read_text() if calls.exists() else "") == ("test drivers/x/a_test.py\n" if runs else "")
    assert (result.returncode != 0) == fails, result.stdout + result.stderr
    assert ("WARNING: x's tests failed, but the plan says they do not vote" in result.stdout) == (runs and not fails)


def test_plan_names_what_no_job_but_the_guard_runs(clone: Path) -> None:
    """``nova-split plan --uncovered-by-zuul`` on the clone's own zuul.d/: a new file outside every
    subproject (no job's ``files`` lists it) leaves every subproject to the guard; a driver's own
    file leaves nothing."""
    out = {}
    for path in ("Makefile", HYPERV_TEST):
        result = run(
            [
                clone / "build-support/bin/nova-split",
                "plan",
                "--no-pantsd",
                "--format",
                "json",
                "--uncovered-by-zuul",
                "--paths-from",
                "-",
            ],
            clone,
            stdin=path + "\n",
        )
        assert result.returncode == 0, result.stderr
        out[path] = json.loads(result.stdout)["uncovered"]
    names = sorted(s.name for s in load_subprojects(clone))
    assert out["Makefile"] == {
        "subprojects": names,
        "specs": sorted(f"{s.path}::" for s in load_subprojects(clone)),
        "voting": True,
    }
    assert out[HYPERV_TEST] == {"subprojects": [], "specs": [], "voting": False}


def test_guard_playbook_tests_what_the_plan_leaves_uncovered(tools: Path, clone: Path, tmp_path: Path) -> None:
    """The guard job's vars, as generated, with a stand-in plan whose ``uncovered`` names two
    subprojects: it installs every subproject's packages and tests exactly their specs; with
    nothing uncovered it tests nothing and passes."""
    entries = yaml.safe_load((clone / "zuul.d/nova-split.yaml").read_text())
    (guard,) = (e["job"] for e in entries if "job" in e and e["job"]["name"] == GUARD_JOB)
    for left in (["drivers/xen::", "nova-common/nova_common/power_test.py"], []):
        tree = tmp_path / f"tree{len(left)}"
        shutil.copytree(clone / "playbooks", tree / "playbooks")
        (tree / "build-support/bin").mkdir(parents=True)
        uncovered_doc = {"subprojects": ["xen", "nova-common"] if left else [], "specs": left, "voting": bool(left)}
        plan_doc = json.dumps({"subprojects": {}, "uncovered": uncovered_doc})
        record = ">>calls"  # the playbook runs them in the tree
        scripts = {
            "build-support/bin/nova-split": f"#!/bin/sh\necho '{plan_doc}'\n",
            "build-support/bin/ensure-system-deps": f'#!/bin/sh\necho "deps [$NOVA_SPLIT_SYSTEM_DEPS]" {record}\n',
            "pants": f'#!/bin/sh\necho "pants $*" {record}\n',
        }
        for name, text in scripts.items():
            (tree / name).write_text(text)
            (tree / name).chmod(0o755)
        result = playbook(tools, tree, "run", dict(guard["vars"]))
        assert result.returncode == 0, result.stdout + result.stderr
        calls = (tree / "calls").read_text().splitlines() if (tree / "calls").exists() else []
        assert calls == (["deps []", "pants test " + " ".join(left)] if left else []), calls


MIXED = [
    ["docs/zuul.md", "drivers/xen/nova_xen/driver.py"],
    ["README.md", "drivers/libvirt/README.md"],
    ["nova-common/nova_common/driver.py", "docs/architecture.md"],
    ["drivers/hyperv/bindep.txt"],
    ["nova-common/bindep.txt"],
    ["nova-common/subproject.toml", "drivers/vmware/nova_vmware/__init__.py"],
    ["nova-common/common.lock"],
    ["drivers/ironic/ironic.lock", "drivers/xen/README.md"],
    [".ci/run"],
    ["build-support/python/nova_split_tools/plan.py"],
    # New files outside every subproject, which no job's `files` can list: the guard job's.
    ["Makefile"],
    ["tools/new.sh", "docs/zuul.md"],
]


def test_zuul_file_matchers_run_what_the_plan_runs(tools: Path, clone: Path, tmp_path: Path) -> None:
    subprojects = load_subprojects(clone)
    graph = load_graph(clone, pantsd=False)
    tracked = git(clone, "ls-files").splitlines()
    samples = [[p] for p in tracked] + MIXED
    changes = tmp_path / "changes.json"
    changes.write_text(json.dumps(samples))
    result = check_config(tools, clone, clone, "--match", str(changes))
    assert result.returncode == 0, result.stderr
    zuul = json.loads(result.stdout)
    tools_of = tool_resolves(clone)
    # The docs jobs (a job with `only_tests`): a subproject's tests that read the documentation,
    # which the subproject's own jobs skip on a documentation-only change.
    entries = yaml.safe_load((clone / "zuul.d/nova-split.yaml").read_text())
    carriers = {
        e["job"]["name"]: (e["job"]["vars"]["subproject"], set(e["job"]["vars"]["only_tests"]))
        for e in entries
        if "job" in e and "only_tests" in e["job"].get("vars", {})
    }
    assert {t for _, tests in carriers.values() for t in tests} == docs_tests(graph) != set(), carriers
    config = (clone / "zuul.d/nova-split.yaml").read_text()
    # Each job's subproject (vars merged down the parent chain, as Zuul merges them).
    jobs_by_name = {e["job"]["name"]: e["job"] for e in entries if "job" in e}

    def subproject_of(name: str) -> str | None:
        job = jobs_by_name.get(name)
        while job is not None:
            if "subproject" in job.get("vars", {}):
                return str(job["vars"]["subproject"])
            job = jobs_by_name.get(job.get("parent", ""))
        return None

    mismatches: list[str] = []
    unexpressible = 0
    idle: list[str] = []
    for paths, jobs in zip(samples, zuul, strict=True):
        plan = compute_plan([Change(p, "M") for p in paths], subprojects, graph, lambda: graph, tool_resolves=tools_of)
        # The guard job starts on every change and runs what the plan runs that no other job Zuul
        # starts covers; its computation (our matcher) must agree with Zuul's own matchers.
        assert jobs.get(GUARD_JOB) is True and jobs.get(CHECKS_JOB) is True, paths
        # an advisory job (-core-advisory, votes: false) leaves the tests the plan says vote to the
        # voting job; the checks job tests nothing
        started = {
            owner
            for n, runs in jobs.items()
            if runs
            and n not in (GUARD_JOB, CHECKS_JOB, *carriers)
            and (owner := subproject_of(n)) is not None
            and not (n.endswith("-core-advisory") and plan.subprojects[owner].voting)
        }
        for name, (sub, tests) in carriers.items():  # a docs job covers only the docs tests
            d = plan.subprojects[sub]
            if jobs.get(name, False) and d.run and not d.all_tests and d.tests and d.tests <= tests:
                started.add(sub)
        guarded = {n for n, d in plan.subprojects.items() if d.run and n not in started}
        if uncovered(config, plan, paths) != guarded:
            mismatches.append(f"{paths}: the guard's matcher says {uncovered(config, plan, paths)}, Zuul's {guarded}")
        if plan.run_all and not all(jobs.get(f"nova-split-{s.name}", False) or s.name in guarded for s in subprojects):
            unexpressible += 1
        for name, (sub, tests) in carriers.items():
            d = plan.subprojects[sub]
            if jobs.get(name, False) and not (d.run and (d.all_tests or d.tests & tests)):
                mismatches.append(f"{paths}: {name} runs, the plan selects none of its tests")
        for s in subprojects:
            d = plan.subprojects[s.name]
            voting_job = jobs.get(f"nova-split-{s.name}", False)
            ran = voting_job or jobs.get(f"nova-split-{s.name}-core-advisory", False)
            carried = [n for n, (sub, tests) in carriers.items() if sub == s.name and jobs.get(n, False)]
            if not ran and carried and d.run and not d.all_tests and d.tests <= carriers[carried[0]][1]:
                # What the plan selects is the docs tests, which the docs job runs (and votes on).
                ran = voting_job = True
            if s.name in guarded:
                ran, voting_job = True, d.voting
            if (ran, voting_job) != (d.run, d.run and d.voting):
                if len(paths) > 1 and ran and not d.run:
                    # Zuul starts a job when any file matches `files` and not all match
                    # `irrelevant-files`: a driver's docs beside another driver's lockfile start
                    # the first driver's job, whose run playbook plans, tests nothing and passes.
                    idle.append(f"{paths}: {s.name}")
                    continue
                mismatches.append(
                    f"{paths}: {s.name} zuul run={ran} voting={voting_job}, plan run={d.run} voting={d.voting}"
                )
    assert not mismatches, "\n".join(mismatches[:30]) + f"\n({len(mismatches)} in all)"
    assert unexpressible == 0, f"{unexpressible} change(s) the plan runs everything for start fewer Zuul jobs"
    print(f"jobs Zuul starts that the plan does not run (they pass without testing): {idle}")
    assert len(idle) <= 2, idle
    assert len(samples) > 100
