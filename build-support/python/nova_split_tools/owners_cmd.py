"""owners: write .github/CODEOWNERS and one Gerrit-style OWNERS file per subproject directory.

Both are generated from the ``[owners]`` sections of the subprojects' ``subproject.toml`` files
(the root and nova-common belong to nova-common's core team). ``--check`` writes nothing: it
fails if a committed file differs from what the metadata gives now, shows the difference and the
command that fixes it.
"""

from __future__ import annotations

import argparse

from nova_split_tools.generated import sync_generated
from nova_split_tools.owners import HEADER, render
from nova_split_tools.repo import Repository
from nova_split_tools.subprojects import load_subprojects

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help="fail if the committed files are stale; write nothing")


def run(args: argparse.Namespace) -> int:
    repo = Repository(args.repo)
    drivers = repo.root / "drivers"
    sync_generated(
        repo.root,
        render(repo.root, load_subprojects(repo.root)),
        header=HEADER,
        candidates=drivers.glob("*/OWNERS") if drivers.exists() else [],
        check=args.check,
        command="build-support/bin/nova-split owners",
    )
    return 0
