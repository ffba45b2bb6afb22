"""Wheels built by Pants in a scratch clone, and plain tox runs against them (integration tests)."""

from __future__ import annotations

import re
from pathlib import Path

from nova_split_tools.testing.scratch import Result, pants, run

__all__ = ["TOX_COUNTS", "build_wheel", "tox", "tox_counts"]

#: pytest's closing line in a tox log: `==== 12 passed, 1 skipped in 3.2s ====`
TOX_COUNTS = re.compile(r"^=+ (.*\d+ passed.*?) in [0-9.]+s", re.M)


def build_wheel(repo: Path, target: str, dest: Path) -> Path:
    """``./pants package TARGET`` in ``repo``; the one wheel it wrote, copied into ``dest``."""
    result = pants(repo, "package", target)
    assert result.returncode == 0, f"./pants package {target} failed:\n{result.stderr[-3000:]}"
    wrote = re.findall(r"Wrote (dist/\S+\.whl)", result.stderr)
    assert len(wrote) == 1, f"./pants package {target} wrote {wrote}"
    dest.mkdir(parents=True, exist_ok=True)
    wheel = dest / Path(wrote[0]).name
    wheel.write_bytes((repo / wrote[0]).read_bytes())
    return wheel


def tox(repo: Path, directory: Path, wheel: Path, home: Path) -> Result:
    """Plain ``tox -q`` in ``directory`` against nova-common's ``wheel``, with ``home`` as HOME.

    tox is the one the 'common' resolve locks, from ``repo``'s exported tooling venv.
    """
    found = sorted((repo / "dist/export/python/virtualenvs/common").glob("*/bin/tox"))
    assert found, f"no tox in {repo}/dist/export/python/virtualenvs/common (run nova-split there first)"
    return run([found[0], "-q"], directory, env={"HOME": str(home), "NOVA_COMMON_WHEEL": str(wheel)})


def tox_counts(result: Result) -> str:
    """pytest's counts from a tox run (`12 passed, 1 skipped`); fails the test if there are none."""
    counts = TOX_COUNTS.findall(result.stdout + result.stderr)
    assert counts, f"no pytest summary with passed tests in tox's output:\n{(result.stdout + result.stderr)[-3000:]}"
    return re.sub(r", \d+ warnings?", "", counts[-1])
