"""bench-clone at a tiny scale on real git and smart HTTP: behaviour (what is fetched), not timing."""

import json
import re
import tempfile
from pathlib import Path

import pytest

from nova_split_tools.bench_clone_cmd import synthetic_repo
from nova_split_tools.cli import main
from nova_split_tools.synthetic_history import DRIVERS, Scale, SyntheticHistory
from nova_split_tools.testing.repos import git

TINY = Scale(driver_modules=20, module_chunks=2, large_every=4, large_bytes=20_000)


def test_scaled_history_has_big_drivers_large_files_in_history_and_closure_data(tmp_path: Path) -> None:
    root = tmp_path / "mono"
    SyntheticHistory(4, scale=TINY).write(root, 300)
    tip = git(root, "ls-files").splitlines()
    core = [p for p in tip if p.startswith("nova-common/")]
    for d in DRIVERS:
        assert len([p for p in tip if p.startswith(f"drivers/{d}/")]) > 2 * len(core)
    added = git(root, "log", "--format=", "--diff-filter=A", "--name-only").splitlines()
    large = [p for p in added if p.endswith(".img")]
    assert len(large) > len([p for p in tip if p.endswith(".img")]) > 0  # most were deleted again
    assert min(int(git(root, "cat-file", "-s", f"HEAD:{p}")) for p in tip if p.endswith(".img")) >= 10_000
    data = json.loads((root / "build-support/clone-closures.json").read_text())
    assert data["drivers"]["xen"] == {"path": "drivers/xen", "dirs": ["build-support", "drivers/xen", "nova-common"]}
    plain = tmp_path / "plain"
    SyntheticHistory(4).write(plain, 300)  # the default scale is the export benchmark's small tree
    assert not (plain / "build-support/clone-closures.json").exists()


def test_tiny_run_prints_both_clones_over_http(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the cache goes under tmp_path
    args = ["bench-clone", "--commits", "200", "--seed", "2", "--driver-modules", "20", "--large-every", "4"]
    assert main([*args, "--large-bytes", "20000", "--driver", "hyperv"]) == 0
    out = capsys.readouterr().out
    full = re.search(r"^full clone \(git clone\) +([\d,]+) \(100%\) +([\d,]+) \(100%\) +([\d,]+) \(100%\)", out, re.M)
    closure = re.search(
        r"^closure clone of hyperv \(\d+ files\) +[\d,]+ \((\d+)%\) +[\d,]+ \((\d+)%\) +[\d,]+ \((\d+)%\)", out, re.M
    )
    assert full and closure, out
    assert 0 < int(closure.group(2)) < 100 and 0 < int(closure.group(3)) < 100  # bytes stored, bytes sent
    assert "goal: at most 30% for one driver" in out
    cached = list(tmp_path.glob("nova-split-bench-clone-v*/monorepo"))
    assert len(cached) == 1
    assert synthetic_repo(200, 2, Scale(20, 6, 4, 20000)) == cached[0]  # the second run reuses it
    # --format json: one document on stdout (the progress on stderr), the same figures as data.
    assert main([*args, "--large-bytes", "20000", "--driver", "hyperv", "--format", "json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert (doc["schema_version"], doc["command"], doc["commits"], doc["transport"]) == (1, "bench-clone", 200, "http")
    full_doc, closure_doc = doc["clones"]
    assert (full_doc["clone"], closure_doc["clone"], closure_doc["driver"]) == ("full", "closure", "hyperv")
    assert full_doc["objects"] == int(full.group(1).replace(",", ""))  # the cached repo: the same full clone
    shares = closure_doc["share_of_full"]
    assert 0 < shares["bytes_stored"] < 1 and 0 < shares["bytes_sent"] < 1, shares
    assert "cloning from http://127.0.0.1:" in captured.err
    with pytest.raises(SystemExit):
        main(["bench-clone", "--driver", "nope"])


def test_two_runs_with_the_same_parameters_share_one_generation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second waits on the cache's lock and gets the first one's repository (it used to fail
    renaming its own over it)."""
    import threading

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    scale = Scale(2, 6, 0, 0)
    found: list[Path] = []
    errors: list[BaseException] = []

    def generate() -> None:
        try:
            found.append(synthetic_repo(60, 9, scale))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    runs = [threading.Thread(target=generate) for _ in range(2)]
    for t in runs:
        t.start()
    for t in runs:
        t.join()
    assert not errors and len(found) == 2 and found[0] == found[1], (errors, found)
    assert not list(found[0].parent.glob("generating-*")), "a generation directory was left behind"
