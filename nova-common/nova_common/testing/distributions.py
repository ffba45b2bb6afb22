"""Register entry points through real distribution metadata, for in-tree end-to-end tests.

Inside a Pants test sandbox the code under test is on ``sys.path`` as sources, without the
``*.dist-info`` that an installed wheel brings, so :func:`importlib.metadata.entry_points` would
find no driver. :func:`install_distribution` writes the same metadata a wheel install would
(``METADATA`` and ``entry_points.txt``) into a directory and puts it on ``sys.path``; discovery
then runs unmodified. The wheels themselves are installed and exercised in a fresh virtualenv
by ``build-support/python/selftests/wheel_smoke_integration_test.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["install_distribution"]


def install_distribution(site: Path, name: str, version: str, entry_points: dict[str, dict[str, str]]) -> Path:
    """Write ``<name>-<version>.dist-info`` under ``site`` and prepend ``site`` to ``sys.path``.

    Returns the dist-info directory. The caller removes ``site`` from ``sys.path``: with pytest,
    call ``monkeypatch.syspath_prepend(site)`` *before* this (it restores ``sys.path`` as it was
    at its first change, which then does not hold ``site``; this adds it only where it is missing).
    """
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = []
    for group, entries in entry_points.items():
        lines.append(f"[{group}]")
        lines.extend(f"{k} = {v}" for k, v in entries.items())
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    if str(site) not in sys.path:
        sys.path.insert(0, str(site))
    return info
