"""Recording the test-impact map from real coverage data: processes measured through coverage's own
start-up hook, attributed to test files, and the tests the map must not trust."""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from nova_split_tools.errors import ToolError
from nova_split_tools.impact_map import ImpactMap, git_blob
from nova_split_tools.impact_record import (
    DATA_ENV,
    KEPT_MARKER,
    SEALED_FILE,
    Recording,
    combine,
    coverage_config,
    exclusive,
    pants_args,
    read_lost,
    repo_path,
    report_test,
    suffix_index,
)

MOD = "proj/nova_x/mod.py"
A_TEST = "proj/nova_x/a_test.py"
TESTS = {f"proj/nova_x/{n}_test.py" for n in "abcd"}
MODULE = """\
def f():
    return 1


def g():
    return 2


def h():
    return 3


def never():
    return 4
"""


def passing(name: str, failures: int = 0) -> str:
    return (
        f'<?xml version="1.0"?><testsuites><testsuite name="pytest" errors="0" failures="{failures}" '
        f'skipped="0" tests="1"><testcase classname="{name}" name="test_x"/></testsuite></testsuites>'
    )


def measured(data: Path, code: str, cwd: Path, running: str | None, *, check: bool = True) -> None:
    """Run ``code`` in a new interpreter that coverage measures through its start-up hook, as a
    test's process (``running``: the test pytest names in PYTEST_CURRENT_TEST; None for pytest's own)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env |= {"COVERAGE_PROCESS_START": str(data / "coverage.ini"), DATA_ENV: str(data), "PYTHONPATH": str(cwd / "proj")}
    if running is not None:
        env["PYTEST_CURRENT_TEST"] = running
    subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, check=check)


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    src = tmp_path / "src"
    (src / "proj/nova_x").mkdir(parents=True)
    texts = {MOD: MODULE, **{t: "import nova_x.mod\n\nnova_x.mod.f()\n" for t in TESTS}}
    for path, text in texts.items():
        (src / path).write_text(text)
    data = tmp_path / "data"
    data.mkdir()
    (data / "coverage.ini").write_text(coverage_config(data))
    reports = tmp_path / "reports"
    reports.mkdir()
    # a: pytest's own process imports the test module, which calls f()
    measured(data, "import nova_x.a_test", src, None)
    (reports / "proj.nova_x.a_test.py@tests.xml").write_text(passing("a"))
    # b: a child started while b's test ran calls g(); b failed
    measured(data, "import nova_x.b_test; import nova_x.mod as m; m.g()", src, "proj/nova_x/b_test.py::test_b (call)")
    measured(data, "import nova_x.mod as m; m.g()", src, "proj/nova_x/b_test.py::test_b (call)")
    (reports / "proj.nova_x.b_test.py@tests.xml").write_text(passing("b", failures=1))
    # c: ran a nested Pants run (which coverage cannot see into)
    measured(data, "import nova_x.c_test", src, None)
    (data / SEALED_FILE).write_text("proj/nova_x/c_test.py::test_c (call)\tpants test ::\n")
    (reports / "proj.nova_x.c_test.py.integration.xml").write_text(passing("c"))
    # d: reported, but its pytest process left no data
    (reports / "proj.nova_x.d_test.py@@tests.xml").write_text(passing("d"))
    # a child no test can be named for (started outside any test) calls h()
    measured(data, "import nova_x.mod as m; m.h()", src, "")
    return data, reports, texts


def test_a_recording_attributes_every_process_and_trusts_only_what_it_saw_whole(
    recorded: tuple[Path, Path, dict[str, str]],
) -> None:
    data, reports, texts = recorded
    imap, orphans = combine(data, reports, "c" * 40, texts, TESTS)
    assert orphans == []
    assert imap.commit == "c" * 40
    assert imap.tests == ("proj/nova_x/a_test.py",)
    assert imap.untrusted == {
        "proj/nova_x/b_test.py": "it failed in the recording",
        "proj/nova_x/c_test.py": "started pants test ::: coverage cannot see into it",
        "proj/nova_x/d_test.py": "its pytest process left no coverage data",
    }
    rec = imap.files[MOD]
    assert rec.blob == git_blob(MODULE)
    assert rec.imported_by == {0}
    # h() ran in a process no test can be named for, g() and never() in no trusted test: a
    # change to them is not narrowed
    assert dict(rec.functions) == {"f": {0}}


@dataclass
class OneTest:
    """A scratch recording of one passing test file, ``a_test.py``, whose pytest process imported mod.py."""

    src: Path
    data: Path
    reports: Path
    texts: dict[str, str]

    def combine(self) -> tuple[ImpactMap, list[str]]:
        return combine(self.data, self.reports, "c" * 40, self.texts, {A_TEST})


@pytest.fixture
def one_test(tmp_path: Path) -> OneTest:
    src = tmp_path / "src"
    (src / "proj/nova_x").mkdir(parents=True)
    texts = {MOD: MODULE, A_TEST: "import nova_x.mod\n"}
    for path, text in texts.items():
        (src / path).write_text(text)
    data, reports = tmp_path / "data", tmp_path / "reports"
    data.mkdir()
    reports.mkdir()
    (data / "coverage.ini").write_text(coverage_config(data))
    measured(data, "import nova_x.a_test", src, None)
    (reports / "proj.nova_x.a_test.py@tests.xml").write_text(passing("a"))
    return OneTest(src, data, reports, texts)


def test_a_child_is_attributed_to_the_test_running_when_it_started(one_test: OneTest) -> None:
    measured(one_test.data, "import nova_x.mod as m; m.g()", one_test.src, f"{A_TEST}::test_a[1-2] (setup)")
    imap, _ = one_test.combine()
    assert dict(imap.files[MOD].functions) == {"g": {0}}


def test_the_debug_log_is_read_whatever_the_width_of_the_pid(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "debug.log").write_text(
        " 6840.f55f: New process: pid=6840, executable: 'python'\n"
        " 6840.f55f: New process parent pid: 1\n"
        " 6840.f55f:                         context: t/a_test.py::test_a (call)\n"
        "16841.0a1b: New process: pid=16841, executable: 'python'\n"
        "16841.0a1b:                         context: t/b_test.py::test_b (call)\n"
    )
    into = Recording()
    assert read_lost(data, {"t/a_test.py", "t/b_test.py"}, into) == []
    assert set(into.untrusted) == {"t/a_test.py", "t/b_test.py"}  # neither saved its data


def test_a_process_killed_before_it_saved_leaves_its_test_untrusted(one_test: OneTest) -> None:
    # a child of a's test that runs g() and is killed before coverage saves
    measured(one_test.data, "import os, signal, nova_x.mod as m; m.g(); os.kill(os.getpid(), signal.SIGKILL)",
             one_test.src, f"{A_TEST}::test_a (call)", check=False)  # fmt: skip
    imap, orphans = one_test.combine()
    assert orphans == []
    assert imap.untrusted == {A_TEST: "a process it started ended before coverage saved its data (killed?)"}
    # killed outside any test: no test can answer for it, and the recording is refused
    measured(one_test.data, "import os, signal; os.kill(os.getpid(), signal.SIGKILL)", one_test.src, "", check=False)
    _, orphans = one_test.combine()
    assert len(orphans) == 1 and orphans[0].startswith("pid ")


def test_a_test_with_skipped_cases_is_not_trusted(recorded: tuple[Path, Path, dict[str, str]]) -> None:
    data, reports, texts = recorded
    (reports / "proj.nova_x.a_test.py@tests.xml").write_text(passing("a").replace('skipped="0"', 'skipped="1"'))
    imap, _ = combine(data, reports, "c" * 40, texts, TESTS)
    assert (
        imap.tests == ()
        and imap.untrusted["proj/nova_x/a_test.py"] == "some of its tests were skipped in the recording"
    )


def test_a_sealed_run_outside_any_test_is_reported_for_the_caller_to_refuse(
    recorded: tuple[Path, Path, dict[str, str]],
) -> None:
    data, reports, texts = recorded
    with (data / SEALED_FILE).open("a") as f:
        f.write("\tpants export --resolve=common\n")
    _, orphans = combine(data, reports, "c" * 40, texts, TESTS)
    assert orphans == ["pants export --resolve=common"]


@pytest.mark.parametrize(
    ("measured_path", "expected"),
    [
        ("/tmp/pants-sandbox-x/drivers/libvirt/nova_libvirt/driver.py", "drivers/libvirt/nova_libvirt/driver.py"),
        ("/home/u/clone/build-support/python/nova_split_tools/cli.py", "build-support/python/nova_split_tools/cli.py"),
        ("/v/lib/python3.11/site-packages/nova_libvirt/driver.py", "drivers/libvirt/nova_libvirt/driver.py"),
        ("/v/lib/python3.11/site-packages/nova_libvirt/__init__.py", "drivers/libvirt/nova_libvirt/__init__.py"),
        ("/root/.cache/pex/venvs/abc/__main__.py", None),  # not a tracked file
        ("/v/lib/python3.11/site-packages/testing/cli.py", None),  # two tracked files end so
    ],
)
def test_a_measured_copy_maps_to_the_one_tracked_file_it_copies(measured_path: str, expected: str | None) -> None:
    index = suffix_index(
        [
            "drivers/libvirt/nova_libvirt/driver.py",
            "drivers/libvirt/nova_libvirt/__init__.py",
            "build-support/python/nova_split_tools/cli.py",
            "build-support/python/nova_split_tools/testing/cli.py",
            "nova-common/nova_common/testing/cli.py",
        ]
    )
    assert repo_path(measured_path, index) == expected


def test_lines_of_a_copy_that_matches_two_files_keep_both_from_narrowing(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "nova_x").mkdir(parents=True)
    (src / "nova_x/a_test.py").write_text("import nova_x.mod\nnova_x.mod.f()\n")
    (src / "nova_x/mod.py").write_text(MODULE)
    other = "other/nova_x/mod.py"  # two tracked files end in nova_x/mod.py: which one ran is unknown
    texts = {MOD: MODULE, other: MODULE, "proj/nova_x/a_test.py": "import nova_x.mod\nnova_x.mod.f()\n"}
    data, reports = tmp_path / "data", tmp_path / "reports"
    data.mkdir()
    reports.mkdir()
    (data / "coverage.ini").write_text(coverage_config(data))
    env_root = tmp_path  # PYTHONPATH is <cwd>/proj in measured(): point it at src
    (env_root / "proj").symlink_to(src)
    measured(data, "import nova_x.a_test", env_root, None)
    (reports / "proj.nova_x.a_test.py@tests.xml").write_text(passing("a"))
    imap, _ = combine(data, reports, "c" * 40, texts, {"proj/nova_x/a_test.py"})
    assert imap.tests == ("proj/nova_x/a_test.py",)
    assert MOD not in imap.files and other not in imap.files  # neither gets f() narrowed


def test_reports_are_matched_to_their_test_files_by_name() -> None:
    tests = {"a/b_test.py", "a/b_test.py.x/c_test.py", "drivers/xen/nova_xen/cli_integration_test.py"}
    assert report_test("a.b_test.py@tests.xml", tests) == "a/b_test.py"
    assert report_test("a.b_test.py.x.c_test.py@tests.xml", tests) == "a/b_test.py.x/c_test.py"
    assert report_test("drivers.xen.nova_xen.cli_integration_test.py.integration.xml", tests) == (
        "drivers/xen/nova_xen/cli_integration_test.py"
    )
    assert report_test("other.py@tests.xml", tests) is None


def test_the_pants_run_forces_every_test_and_passes_the_two_variables(tmp_path: Path) -> None:
    args = pants_args(tmp_path, tmp_path / "c.ini", Path("dist/r"), ["a::", "b_test.py"])
    assert args[:2] == ["test", "--force"]
    assert f'"COVERAGE_PROCESS_START={tmp_path / "c.ini"}"' in args[2] and f'"{DATA_ENV}={tmp_path}"' in args[2]
    assert args[3:] == ["--test-report", "--test-report-dir=dist/r", "a::", "b_test.py"]


WATCHED = """\
import os, subprocess, sys
from nova_split_tools.testing.impact import watch
watch()
bin = sys.argv[1]
subprocess.run([os.path.join(bin, "tox"), "-q"], check=True)
subprocess.run([os.path.join(bin, "sudo"), "-n", "true"], check=True)
subprocess.run([os.path.join(bin, "git"), "status"], check=True, env={"PATH": "/usr/bin"})
subprocess.run([os.path.join(bin, "git"), "log"], check=True)  # inherits: measured
subprocess.run([os.path.join(bin, "git"), "diff"], check=True, env={**os.environ, "X": "1"})
subprocess.run(["env", "-i", os.path.join(bin, "git")], check=True)
subprocess.run(["bash", "-c", "cd / && " + os.path.join(bin, "sudo") + " -n true"], check=True)
subprocess.run([sys.executable, "-m", "tox", "--version"], capture_output=True)
subprocess.run("true && " + os.path.join(bin, "sudo") + " true", shell=True, check=True)
os.system(os.path.join(bin, "sudo") + " -n true")
"""


def test_runs_coverage_cannot_see_into_are_marked_for_the_running_test(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("tox", "sudo", "git"):
        (bin_dir / name).write_text("#!/bin/sh\nexit 0\n")
        (bin_dir / name).chmod(0o755)
    data = tmp_path / "data"
    data.mkdir()
    (data / "coverage.ini").write_text(coverage_config(data))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), COVERAGE_PROCESS_START=str(data / "coverage.ini"))
    env |= {DATA_ENV: str(data), "PYTEST_CURRENT_TEST": "t/x_test.py::test_y (call)"}
    subprocess.run([sys.executable, "-c", WATCHED, str(bin_dir)], env=env, check=True)
    assert (data / SEALED_FILE).read_text().splitlines() == [
        "t/x_test.py::test_y (call)\ttox (a runner coverage cannot see into)",
        "t/x_test.py::test_y (call)\tsudo (a runner coverage cannot see into)",
        "t/x_test.py::test_y (call)\tgit (with an environment of its own)",
        "t/x_test.py::test_y (call)\tenv -i (a runner coverage cannot see into)",
        "t/x_test.py::test_y (call)\tsudo (a runner coverage cannot see into)",
        "t/x_test.py::test_y (call)\ttox (a runner coverage cannot see into)",
        "t/x_test.py::test_y (call)\tsudo (a runner coverage cannot see into)",
        "t/x_test.py::test_y (call)\tsudo (a runner coverage cannot see into)",
    ]


def test_outside_a_recording_the_watch_does_nothing(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("tox", "sudo", "git"):
        (bin_dir / name).write_text("#!/bin/sh\nexit 0\n")
        (bin_dir / name).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != DATA_ENV} | {"PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", WATCHED, str(bin_dir)], env=env, check=True, cwd=tmp_path)
    assert list(tmp_path.rglob(SEALED_FILE)) == []


PYTHONS = """\
import subprocess, sys
from nova_split_tools.testing.impact import watch
watch()
for command in sys.argv[1:]:
    subprocess.run([command, "-c", "pass"] if command.endswith("python3") else [command], check=True)
"""


def test_a_python_child_without_coverage_is_marked(tmp_path: Path) -> None:
    base = Path(os.path.realpath(sys.executable))
    bare = tmp_path / "bare/python3"  # the interpreter alone, outside any venv: no coverage starts
    venv = tmp_path / "venv"  # a venv whose site-packages start coverage
    for link in (bare, venv / "bin/python3"):
        link.parent.mkdir(parents=True)
        link.symlink_to(base)
    (venv / "pyvenv.cfg").write_text(f"home = {base.parent}\n")
    (venv / "lib/python3.11/site-packages").mkdir(parents=True)
    (venv / "lib/python3.11/site-packages/a1_coverage.pth").write_text("\n")
    scripts = {
        "bare-script": f"#!{bare}\npass\n",
        "env-script": "#!/usr/bin/env -S python3 -I\npass\n",  # found on PATH: the bare one first
        "venv-script": f"#!{venv / 'bin/python3'}\npass\n",
        "shell-script": "#!/bin/sh\nexit 0\n",
    }
    for name, text in scripts.items():
        (tmp_path / name).write_text(text)
        (tmp_path / name).chmod(0o755)
    data = tmp_path / "data"
    data.mkdir()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), COVERAGE_PROCESS_START=str(data / "c.ini"))
    env |= {DATA_ENV: str(data), "PYTEST_CURRENT_TEST": "t/x_test.py::test_y (call)"}
    env["PATH"] = f"{bare.parent}{os.pathsep}{env['PATH']}"
    (data / "c.ini").write_text(coverage_config(data))
    commands = [sys.executable, str(bare), *(str(tmp_path / n) for n in scripts), str(venv / "bin/python3")]
    subprocess.run([sys.executable, "-c", PYTHONS, *commands], env=env, check=True)
    assert (data / SEALED_FILE).read_text().splitlines() == [
        f"t/x_test.py::test_y (call)\tpython3 (a Python without coverage: {bare})",
        f"t/x_test.py::test_y (call)\tbare-script (a Python without coverage: {bare})",
        f"t/x_test.py::test_y (call)\tenv-script (a Python without coverage: {bare})",
    ]


KILLED = """\
import os, signal, sys
from pathlib import Path
from nova_split_tools.impact_record import exclusive, scratch_dir
with exclusive(Path(sys.argv[1])):
    (scratch_dir(Path(sys.argv[1])) / "coverage.ini").write_text("")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_recordings_data_is_removed_by_the_next_and_kept_data_stays(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    killed = subprocess.run([sys.executable, "-c", KILLED, str(tmp_path)], env=env, check=False)
    assert killed.returncode == -9
    (left,) = (tmp_path / "dist/impact").glob("record-*")
    kept = tmp_path / "dist/impact/record-kept"
    kept.mkdir()
    (kept / KEPT_MARKER).write_text("")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep").write_text("")
    (tmp_path / "dist/impact/record-link").symlink_to(elsewhere)
    with exclusive(tmp_path) as removed:
        assert sorted(removed) == sorted([left, tmp_path / "dist/impact/record-link"])
        assert not left.exists() and kept.exists() and (elsewhere / "keep").exists()
    with exclusive(tmp_path) as removed:
        assert removed == []  # nothing is reported twice


def test_a_second_recording_in_one_repository_is_refused_in_one_line(tmp_path: Path) -> None:
    with exclusive(tmp_path):
        with pytest.raises(ToolError, match="another 'nova-split impact record' is running in this repository"):
            with exclusive(tmp_path):
                pass
    with exclusive(tmp_path):  # free again once the first ends
        pass


COMMANDS = """\
import json, os, subprocess, sys
from nova_split_tools.testing.impact import watch
watch()
for argv, cwd in json.loads(sys.argv[1]):
    if isinstance(argv, str):
        os.system(argv)
    else:
        subprocess.run(argv, cwd=cwd, check=True)
"""


def test_python_children_are_found_in_every_spelling_and_the_tests_own_is_not_marked(tmp_path: Path) -> None:
    base = Path(os.path.realpath(sys.executable))
    bare = tmp_path / "bare/python3"
    runner = tmp_path / "bare/runner"  # the interpreter under another name
    venv = tmp_path / "venv"  # with coverage's start-up .pth: measured
    for link, to in ((bare, base), (runner, base), (venv / "bin/python3", base)):
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(to)
    (venv / "pyvenv.cfg").write_text(f"home = {base.parent}\n")
    (venv / "lib/python3.11/site-packages").mkdir(parents=True)
    (venv / "lib/python3.11/site-packages/a1_coverage.pth").write_text("\n")
    beside = Path(sys.executable).with_name("python3" if Path(sys.executable).name != "python3" else "python")
    data = tmp_path / "data"
    data.mkdir()
    (data / "c.ini").write_text(coverage_config(data))
    commands: list[tuple[object, str | None]] = [
        ([sys.executable, "-c", "pass"], None),  # the test's own: measured
        (["venv/bin/python3", "-c", "pass"], str(tmp_path)),  # relative, from the child's cwd: measured
        ([sys.executable, "-S", "-c", "pass"], None),  # no site, so no .pth: marked
        (["bash", "-c", f"true && {bare} -c pass"], None),  # in a shell command line: marked
        (["env", "A=1", str(bare), "-c", "pass"], None),  # after env: marked
        ([str(runner), "-c", "pass"], None),  # under another name: marked
        (f"{bare} -c pass", None),  # os.system: marked
    ]
    if beside.exists() and os.path.realpath(beside) == os.path.realpath(sys.executable):
        commands.append(([str(beside), "-c", "pass"], None))  # the same interpreter beside the own: measured
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), COVERAGE_PROCESS_START=str(data / "c.ini"))
    env |= {DATA_ENV: str(data), "PYTEST_CURRENT_TEST": "t/x_test.py::test_y (call)"}
    subprocess.run([sys.executable, "-c", COMMANDS, json.dumps(commands)], env=env, check=True)
    said = "t/x_test.py::test_y (call)\t"
    assert (data / SEALED_FILE).read_text().splitlines() == [
        f"{said}{Path(sys.executable).name} (a Python without coverage: {sys.executable})",
        f"{said}bash (a Python without coverage: {bare})",
        f"{said}env (a Python without coverage: {bare})",
        f"{said}runner (a Python without coverage: {runner})",
        f"{said}sh (a Python without coverage: {bare})",
    ]
