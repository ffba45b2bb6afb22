"""The wheel metadata every subproject shares, in one place for both ways a wheel is built.

The Pants plugin (``build-support/pants-plugins/nova_split_pants``, setuptools ``setup()`` keywords)
and each driver's generated standalone ``pyproject.toml`` (``standalone``, PEP 621 keys) both take
their license, classifiers, project URLs, README content type and ``Requires-Python`` from here,
so the two wheels of a driver carry the same METADATA (checked by
``build-support/python/selftests/wheel_metadata_integration_test.py``; see docs/packaging.md).

Like ``metadata``, this module runs on Pants' own Python 3.9 and imports nothing else.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BASH_COMPLETION_DIR",
    "BUILD_REQUIRES",
    "DATA_DIR",
    "CLASSIFIERS",
    "LICENSE_EXPRESSION",
    "LICENSE_FILE",
    "README",
    "README_CONTENT_TYPE",
    "classifiers",
    "data_files",
    "REPOSITORY_URL",
    "REQUIRES_PYTHON",
    "project_urls",
    "setup_kwargs",
]

#: The project's license as an SPDX expression (PEP 639: ``License-Expression``). PEP 639
#: supersedes the ``License ::`` classifiers, and setuptools refuses both together.
LICENSE_EXPRESSION = "Apache-2.0"
#: The license text in each subproject directory (a copy of the repository's LICENSE written by
#: ``nova-split packaging``), shipped in every wheel and sdist (``License-File``).
LICENSE_FILE = "LICENSE"
#: Each subproject's README, its long description.
README = "README.md"
README_CONTENT_TYPE = "text/markdown"
#: Project code runs on CPython 3.11 (pants.toml's interpreter_constraints); 3.9 is Pants' own.
REQUIRES_PYTHON = ">=3.11"
#: The setuptools a standalone build uses: the line pants.toml's [setuptools] resolve locks.
BUILD_REQUIRES = ("setuptools>=77,<81",)
#: A subproject's files under this directory are its wheel's data files, installed under the
#: environment's own ``share/`` (setuptools ``data_files``; a wheel's ``*.data/data/``).
DATA_DIR = "share"
#: Where bash-completion looks for a command's completion under each directory of
#: ``XDG_DATA_DIRS`` (default ``/usr/local/share:/usr/share``) and under ``~/.local/share``.
BASH_COMPLETION_DIR = f"{DATA_DIR}/bash-completion/completions"
#: Where the monorepo lives; the project URLs point into it.
REPOSITORY_URL = "https://github.com/nova-split/nova-split"

CLASSIFIERS = (
    "Development Status :: 5 - Production/Stable",
    "Environment :: OpenStack",
    "Intended Audience :: Information Technology",
    "Intended Audience :: System Administrators",
    "Operating System :: POSIX :: Linux",
    "Programming Language :: Python :: 3",
    "Programming Language :: Python :: 3 :: Only",
    "Programming Language :: Python :: 3.11",
    "Topic :: System :: Distributed Computing",
)


def project_urls(path: str) -> dict[str, str]:
    """``Project-URL`` label -> URL for the subproject in repository directory ``path``."""
    tree = f"{REPOSITORY_URL}/tree/main/{path}"
    return {
        "Homepage": tree,
        "Documentation": f"{REPOSITORY_URL}/blob/main/{path}/{README}",
        "Changelog": f"{REPOSITORY_URL}/blob/main/{path}/CHANGELOG.md",
        "Source": REPOSITORY_URL,
        "Issues": f"{REPOSITORY_URL}/issues",
    }


def data_files(files: list[str]) -> list[tuple[str, list[str]]]:
    """setuptools ``data_files`` for a subproject's files under ``share/`` (paths relative to it).

    Each file is installed at the same relative path under the environment's prefix, e.g.
    ``share/bash-completion/completions/nova-compute`` -> ``<venv>/share/bash-completion/...``.
    """
    by_dir: dict[str, list[str]] = {}
    for rel in sorted(files):
        if rel.startswith(DATA_DIR + "/"):
            by_dir.setdefault(rel.rsplit("/", 1)[0], []).append(rel)
    return sorted(by_dir.items())


def classifiers(extra: list[str]) -> list[str]:
    """The shared :data:`CLASSIFIERS` with a subproject's own (``[project] classifiers``), sorted;
    an ``Operating System ::`` classifier of its own replaces the default (Linux)."""
    own_os = any(c.startswith("Operating System ::") for c in extra)
    shared = [c for c in CLASSIFIERS if not (own_os and c.startswith("Operating System ::"))]
    return sorted({*shared, *extra})


def setup_kwargs(path: str, extra_classifiers: list[str]) -> dict[str, Any]:
    """The shared part of a subproject's setuptools ``setup()`` keywords (the Pants plugin's)."""
    return {
        "license_expression": LICENSE_EXPRESSION,
        "license_files": [LICENSE_FILE],
        "python_requires": REQUIRES_PYTHON,
        "long_description_content_type": README_CONTENT_TYPE,
        "classifiers": classifiers(extra_classifiers),
        "project_urls": project_urls(path),
    }
