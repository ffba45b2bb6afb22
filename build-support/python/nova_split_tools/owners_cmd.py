"""owners: write .github/CODEOWNERS and one Gerrit-style OWNERS file per subproject directory.

Both are generated from the ``[owners]`` sections of the subprojects' ``subproject.toml`` files
(the root and nova-common belong to nova-common's core team). ``--check`` writes nothing: it
fails if a committed file differs from what the metadata gives now, shows the difference and the
command that fixes it.
"""

from __future__ import annotations

import argparse

from nova_split_tools.generators import sync_owners
from nova_split_tools.output import add_format_argument, run_generator
from nova_split_tools.repo import Repository

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help="fail if the committed files are stale; write nothing")
    add_format_argument(parser)


def run(args: argparse.Namespace) -> int:
    return run_generator("owners", sync_owners, Repository(args.repo).root, args.check, args.format)
