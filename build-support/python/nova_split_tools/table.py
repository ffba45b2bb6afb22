"""The one table printer of the tooling's text output: columns padded to their widest cell.

Every command that prints rows (``plan``, ``review``, the benchmarks) goes through
:func:`format_table`, so all tables align, right-align numbers and end lines the same way.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

__all__ = ["format_table", "print_table"]


def format_table(rows: Sequence[Sequence[str]], *, right: Collection[int] = (), gap: str = "  ") -> list[str]:
    """``rows`` (the first is usually the header) as lines: each column as wide as its widest cell.

    Columns whose index is in ``right`` are right-aligned (numbers); no line has trailing spaces.
    """
    if not rows:
        return []
    width = max(len(r) for r in rows)
    cells = [list(r) + [""] * (width - len(r)) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(width)]
    return [
        gap.join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in cells
    ]


def print_table(rows: Sequence[Sequence[str]], *, right: Collection[int] = (), gap: str = "  ") -> None:
    """Print :func:`format_table` of ``rows``."""
    for line in format_table(rows, right=right, gap=gap):
        print(line)
