"""The export round trip on this repository's own history, checked with git itself.

In a scratch clone, export drivers/xen: the export has exactly the commits that touched the driver
(or the LICENSE it carries), each tree equal to the driver's; a monorepo commit appends without
changing earlier ids; a commit made in the export comes back with its author and the next export
gives back its id; a commit touching the LICENSE (kept at the monorepo root) is refused in one line
and leaves the monorepo unchanged; and the export passes plain `tox` against nova-common's wheel.
"""

from __future__ import annotations

from pathlib import Path

from nova_split_tools.testing.scratch import git, nova_split, run, scratch_clone, share_tooling_venv
from nova_split_tools.testing.wheels import build_wheel, tox, tox_counts

DRIVER = "xen"
ADA = {
    "GIT_AUTHOR_NAME": "Ada",
    "GIT_AUTHOR_EMAIL": "ada@example.invalid",
    "GIT_AUTHOR_DATE": "2015-03-01T09:00:00",
    "GIT_COMMITTER_NAME": "Ada",
    "GIT_COMMITTER_EMAIL": "ada@example.invalid",
    "GIT_COMMITTER_DATE": "2015-03-01T09:00:00",
}


def export(mono: Path, out: Path) -> None:
    result = nova_split(mono, "--repo", str(mono), "export", DRIVER, str(out))
    assert result.returncode == 0, result.stderr
    print(result.stdout.strip().splitlines()[-1])


def test_export_round_trip(tmp_path: Path) -> None:
    mono = scratch_clone(tmp_path, "mono")
    share_tooling_venv(mono)
    out = tmp_path / f"nova-{DRIVER}"
    export(mono, out)

    # 1. Exactly the commits that touched the driver or LICENSE (git's selection with merges kept),
    #    each tree equal to the driver's tree.
    paths = ("--", f"drivers/{DRIVER}", "LICENSE")
    touching = git(mono, "rev-list", "--full-history", "--simplify-merges", "HEAD", *paths)
    pairs = [
        line.split()
        for line in git(out, "log", "--format=%H %(trailers:key=Monorepo-Commit,valueonly)").splitlines()
        if len(line.split()) == 2
    ]
    assert sorted(o for _, o in pairs) == sorted(touching.split()), "not the commits touching the driver"
    for exported, original in pairs:
        # LICENSE is the repository's at the export's root (a driver's own copy, for its wheel,
        # lands on the same path)
        want = "\n".join(
            line
            for line in git(mono, "ls-tree", "-r", f"{original}:drivers/{DRIVER}").splitlines()
            if not line.endswith("\tLICENSE")
        )
        listing = git(out, "ls-tree", "-r", exported).splitlines()
        got = "\n".join(line for line in listing if not line.endswith("\tLICENSE"))
        assert want == got, f"export commit {exported} does not hold drivers/{DRIVER} of {original}"
    print(f"{len(pairs)} commits, exactly those touching drivers/{DRIVER} or LICENSE, trees equal")

    # 2. A new monorepo commit is appended; every earlier id stays.
    before = git(out, "rev-parse", "main")
    with (mono / f"drivers/{DRIVER}/README.md").open("a") as f:
        f.write("# export-selftest\n")
    git(mono, "commit", "-qam", f"{DRIVER}: a monorepo change after the export")
    export(mono, out)
    run(["git", "merge-base", "--is-ancestor", before, "main"], out, check=True)
    assert git(out, "rev-list", "--count", f"{before}..main") == "1", "re-export appended more than the new commit"

    # 3. A commit made in the export comes back with its author; the next export gives back its id.
    with (out / "README.md").open("a") as f:
        f.write("# made in the export\n")
    git(out, "add", "README.md")
    run(["git", "commit", "-qm", f"{DRIVER}: a change made by the driver team"], out, env=ADA, check=True)
    team = git(out, "rev-parse", "main")
    imported = nova_split(mono, "--repo", str(mono), "import", DRIVER, str(out))
    assert imported.returncode == 0, imported.stderr
    author = git(mono, "log", "-1", "--format=%an <%ae> %ad", "--date=iso-strict")
    assert author == "Ada <ada@example.invalid> 2015-03-01T09:00:00+00:00", "the imported commit lost its author"
    export(mono, out)
    assert git(out, "rev-parse", "main") == team, "re-exporting the imported commit changed its id"

    # 4. A commit touching a file outside the driver is refused in one line; the monorepo is unchanged.
    with (out / "LICENSE").open("a") as f:
        f.write("changed\n")
    run(["git", "commit", "-qam", "relicense from the driver repository"], out, env=ADA, check=True)
    head = git(mono, "rev-parse", "HEAD")
    status = git(mono, "status", "--porcelain")
    refused = nova_split(mono, "--repo", str(mono), "import", DRIVER, str(out))
    assert refused.returncode == 2, "a LICENSE change was imported"
    lines = (refused.stdout + refused.stderr).splitlines()
    assert len(lines) == 1 and f"changes LICENSE, which is outside drivers/{DRIVER}" in lines[0], lines
    assert git(mono, "rev-parse", "HEAD") == head, "a refused import moved the monorepo"
    assert git(mono, "status", "--porcelain") == status, "a refused import changed the work tree"
    print(f"refused: {lines[0]}")
    git(out, "reset", "-q", "--hard", "HEAD~1")

    # 5. The export passes plain tox on its own against nova-common's wheel.
    wheel = build_wheel(mono, "nova-common:dist", tmp_path / "wheels")
    home = Path.home()
    result = tox(mono, out, wheel, home)
    assert result.returncode == 0, f"tox FAILED in the export:\n{(result.stdout + result.stderr)[-4000:]}"
    print(f"in the export: {tox_counts(result)}")
    # tox's envs, setuptools' egg-info and bytecode: the driver's own .gitignore covers them
    left = git(out, "status", "--porcelain", "--untracked-files=all")
    assert left == "", f"tox left untracked files in the export:\n{left}"
