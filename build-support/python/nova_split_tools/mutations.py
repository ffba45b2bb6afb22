"""Behavioural mutations of Python source: small, deterministic edits a test suite should notice.

Each operator finds *sites* in a module with :mod:`ast` and rewrites only the source span of the
node it mutates (the rest of the file keeps its bytes, comments and line numbers):

- ``flip-compare``: the first comparison operator becomes its opposite (``==``/``!=``,
  ``<``/``>=``, ``>``/``<=``, ``in``/``not in``, ``is``/``is not``);
- ``negate-condition``: an ``if``/``while``/conditional expression test becomes ``not (test)``;
- ``return-none``: ``return <value>`` becomes ``return None`` (``return True``/``False`` flips instead);
- ``drop-call``: a statement that is only a call (``self._log(x)``, ``items.append(y)``) becomes ``pass``;
- ``off-by-one``: an integer constant ``n`` becomes ``n + 1``.

Annotations, docstrings, ``__all__``, ``if TYPE_CHECKING:`` blocks and ``raise``/``assert``
statements are left alone: editing them changes no behaviour a test could observe (or, for
``raise``/``assert``, only the failure path that is already a test's subject).
"""

from __future__ import annotations

import ast
import random
from dataclasses import dataclass

__all__ = ["OPERATORS", "Site", "apply", "choose", "sites"]

OPERATORS = ("flip-compare", "negate-condition", "return-none", "drop-call", "off-by-one")

_OPPOSITE: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.Gt: ast.LtE,
    ast.LtE: ast.Gt,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}


@dataclass(frozen=True)
class Site:
    """One mutation of one module: replace the source span ``start..end`` (byte offsets) with ``text``."""

    operator: str
    line: int
    start: int
    end: int
    text: str
    original: str

    @property
    def description(self) -> str:
        before = " ".join(self.original.split())
        after = " ".join(self.text.split())
        return f"{self.operator} line {self.line}: {_short(before)} -> {_short(after)}"


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _offsets(source: bytes) -> list[int]:
    starts = [0]
    for i, b in enumerate(source):
        if b == 0x0A:
            starts.append(i + 1)
    return starts


def _skipped(tree: ast.Module) -> set[int]:
    """ids of nodes whose subtrees are not mutated (annotations, docstrings, __all__, TYPE_CHECKING, raise, assert)."""
    skip: set[int] = set()

    def mark(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, (ast.arg, ast.AnnAssign)):
            mark(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            mark(node.returns)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                mark(first)
        if isinstance(node, (ast.Raise, ast.Assert, ast.JoinedStr)):
            mark(node)  # (f-strings: their inner node positions are unreliable before Python 3.12)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            mark(node)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            mark(node)
    return skip


def sites(source: str) -> list[Site]:
    """Every mutation the operators offer in ``source``, in source order."""
    tree = ast.parse(source)
    raw = source.encode()
    lines = _offsets(raw)
    skip = _skipped(tree)
    found: list[Site] = []

    def span(node: ast.AST) -> tuple[int, int]:
        start = lines[node.lineno - 1] + node.col_offset  # type: ignore[attr-defined]
        end = lines[node.end_lineno - 1] + node.end_col_offset  # type: ignore[attr-defined]
        return start, end

    def add(operator: str, node: ast.AST, text: str) -> None:
        start, end = span(node)
        line: int = node.lineno  # type: ignore[attr-defined]
        found.append(Site(operator, line, start, end, text, raw[start:end].decode()))

    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Compare):
            flipped = ast.Compare(node.left, [_OPPOSITE[type(node.ops[0])](), *node.ops[1:]], node.comparators)
            add("flip-compare", node, f"({ast.unparse(flipped)})")
        elif isinstance(node, (ast.If, ast.While, ast.IfExp)):
            add("negate-condition", node.test, f"(not ({ast.unparse(node.test)}))")
        elif isinstance(node, ast.Return) and node.value is not None:
            value = node.value
            if isinstance(value, ast.Constant) and value.value is None:
                continue
            if isinstance(value, ast.Constant) and isinstance(value.value, bool):
                add("return-none", value, str(not value.value))
            else:
                add("return-none", value, "None")
        elif isinstance(node, ast.Expr) and isinstance(node.value, (ast.Call, ast.Await)):
            add("drop-call", node, "pass")
        elif isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
            add("off-by-one", node, str(node.value + 1))
    return sorted(found, key=lambda s: (s.start, s.operator))


def apply(source: str, site: Site) -> str:
    """``source`` with ``site`` applied; the result still parses."""
    raw = source.encode()
    mutated = (raw[: site.start] + site.text.encode() + raw[site.end :]).decode()
    ast.parse(mutated)
    return mutated


def choose(source: str, rng: random.Random) -> Site | None:
    """One site, spread over operators: pick an operator present in the file, then a site of it."""
    found = sites(source)
    if not found:
        return None
    by_operator: dict[str, list[Site]] = {}
    for s in found:
        by_operator.setdefault(s.operator, []).append(s)
    operator = rng.choice(sorted(by_operator))
    return rng.choice(by_operator[operator])
