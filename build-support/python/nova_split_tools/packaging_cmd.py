"""packaging: write each driver's standalone pyproject.toml and tox.ini from its subproject.toml.

A driver's tests must also run with plain ``tox`` in its directory alone (no Pants, no monorepo),
against a built or released nova-common. The driver's metadata stays single-sourced: the version
and description come from ``[project]`` in ``subproject.toml``, the dependencies from
``requirements.txt`` plus ``nova-common>=M.0,<M+1`` from ``[driver] api-major``, the entry point
from the ``nova_driver(...)`` call in its BUILD file, the test runner from nova-common's
``testing`` extra, and the Debian packages its build or test peer needs (named in ``tox.ini``,
which cannot install them) from its ``bindep.txt``. ``tox.ini`` installs nova-common from the
wheel named by ``NOVA_COMMON_WHEEL`` (else the released one). ``--check`` writes nothing: it
fails if a committed file differs, shows the difference and the command that fixes it.
"""

from __future__ import annotations

import argparse

from nova_split_tools.generators import sync_packaging
from nova_split_tools.output import add_format_argument, run_generator
from nova_split_tools.repo import Repository

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help="fail if the committed files are stale; write nothing")
    add_format_argument(parser)


def run(args: argparse.Namespace) -> int:
    return run_generator("packaging", sync_packaging, Repository(args.repo).root, args.check, args.format)
