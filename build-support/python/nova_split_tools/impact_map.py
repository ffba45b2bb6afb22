"""The test-impact map: which test files executed which functions, recorded by ``nova-split impact record``.

A test that never executes a changed line cannot fail because of it, but which lines a test
executes is known only by running it. The map is that knowledge for one commit (its ``commit``):
for each Python file the recorded tests ran, its git blob, the test files that executed any of
its lines (``imported_by``) and, per function, the test files that executed a line of its body.
``nova-split plan`` narrows a Python change with it (:class:`Impact`) where that is safe, and
follows the build graph everywhere else (docs/change-aware-ci.md#test-impact):

* only a change confined to function bodies is narrowed (:func:`changed_functions`): a change to
  module or class level code, a signature, a decorator, a default or a docstring, or one that
  turns a function into a generator (or back), runs at import time or changes what callers get,
  so every test the graph reaches runs;
* only for a file whose text at the base revision is the recorded one (its blob);
* only the tests the map trusts are left out: a test recorded complete and passing, that ran
  no sealed runner (a nested Pants run, tox), whose measured processes imported the changed file
  (else it may run the file where coverage does not see it, in a venv of built wheels), and
  whose inputs the changes since the recording do not reach (:func:`impact_at`).

Everything else a test depends on keeps it in the plan; the behavioural audit (``nova-split
audit``) checks that no failing test is left out.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nova_split_tools.errors import ToolError

__all__ = [
    "MAP_PATH",
    "Body",
    "FileRecord",
    "Impact",
    "ImpactMap",
    "MapError",
    "Narrowing",
    "bodies",
    "changed_functions",
    "git_blob",
    "read_map",
    "write_map",
]

#: Where the map is committed (relative to the repository root); plans read it at their base revision.
MAP_PATH = "build-support/impact/coverage-map.json"
_FORMAT = 1


class MapError(ToolError):
    """The map cannot be read: not JSON, another format, or inconsistent."""


@dataclass(frozen=True)
class Body:
    """One function's body: its qualified name (``function``, ``Class.method``, with ``#2`` for a
    second definition of one name), its first and last lines (the docstring left out,
    a first statement's decorators in) and what calling it gives (async, generator)."""

    qualname: str
    start: int
    end: int
    kind: tuple[bool, bool]
    #: what in the body acts beyond calls of it: its imports (the build graph infers dependencies
    #: from them), ``super``/``__class__`` (a class cell) and ``global``/``nonlocal`` declarations
    effects: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FileRecord:
    """What the recorded tests did with one file: its blob, the tests that executed any line of
    it, and per function (by :attr:`Body.qualname`) the tests that executed a line of its body."""

    blob: str
    imported_by: frozenset[int]
    functions: Mapping[str, frozenset[int]]


@dataclass(frozen=True)
class ImpactMap:
    """A recording: the commit it was made at, the trusted test files (indexed), the test files it
    does not trust with the reason, and the files those tests executed."""

    commit: str
    tests: tuple[str, ...]
    untrusted: Mapping[str, str]
    files: Mapping[str, FileRecord]
    index: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {t: i for i, t in enumerate(self.tests)})

    def to_json(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "commit": self.commit,
            "tests": list(self.tests),
            "untrusted": dict(sorted(self.untrusted.items())),
            "files": {
                path: {
                    "blob": rec.blob,
                    "imported_by": sorted(rec.imported_by),
                    "functions": {q: sorted(ids) for q, ids in sorted(rec.functions.items())},
                }
                for path, rec in sorted(self.files.items())
            },
        }

    @classmethod
    def from_json(cls, data: Any) -> ImpactMap:
        """The map in ``data`` (as :meth:`to_json` writes it); :class:`MapError` if it is not one."""
        if not isinstance(data, dict):
            raise MapError("not an impact map (not a JSON object)")
        if type(data.get("format")) is not int or data.get("format") != _FORMAT:  # (True == 1)
            raise MapError(f"format {data.get('format')!r}, this tool reads format {_FORMAT}")
        tests, untrusted, files, commit = (
            data.get("tests"),
            data.get("untrusted"),
            data.get("files"),
            data.get("commit"),
        )
        if not isinstance(commit, str) or not isinstance(tests, list) or not all(isinstance(t, str) for t in tests):
            raise MapError("not an impact map (commit or tests)")
        if len(set(tests)) != len(tests):
            raise MapError("a test file is listed twice")
        if not isinstance(untrusted, dict) or not all(isinstance(v, str) for v in untrusted.values()):
            raise MapError("not an impact map (untrusted)")
        if not isinstance(files, dict):
            raise MapError("not an impact map (files)")
        if both := sorted(set(tests) & set(untrusted)):
            raise MapError(f"{both[0]} is both trusted and not")
        if odd := next((p for p in [*tests, *untrusted, *files] if not _relative(p)), None):
            raise MapError(f"{odd!r} is not a path relative to the repository")
        n = len(tests)

        def ids(values: Any) -> frozenset[int]:
            if not isinstance(values, list) or not all(type(v) is int and 0 <= v < n for v in values):
                raise MapError("a test index that is not one of the map's tests")
            return frozenset(values)

        records: dict[str, FileRecord] = {}
        for path, rec in files.items():
            if (
                not isinstance(rec, dict)
                or not isinstance(rec.get("blob"), str)
                or not isinstance(rec.get("functions"), dict)
            ):
                raise MapError(f"not an impact map (the record of {path})")
            record = FileRecord(
                rec["blob"], ids(rec.get("imported_by")), {str(q): ids(v) for q, v in rec["functions"].items()}
            )
            if any(not v <= record.imported_by for v in record.functions.values()):
                raise MapError(f"a test executes a function of {path} but did not import it")
            records[path] = record
        return cls(commit, tuple(tests), dict(untrusted), records)


def _relative(path: str) -> bool:
    """A normalised repository-relative POSIX path (no ``..``, ``.``, empty part or leading ``/``)."""
    return bool(path) and all(part not in ("", ".", "..") for part in path.split("/"))


def read_map(text: str, where: str) -> ImpactMap:
    """Parse a map's JSON text; ``where`` names it in the error."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise MapError(f"{where}: not JSON ({type(e).__name__}); record it again: nova-split impact record") from None
    try:
        return ImpactMap.from_json(data)
    except MapError as e:
        raise MapError(f"{where}: {e}; record it again: nova-split impact record") from None


def write_map(path: Path, imap: ImpactMap) -> None:
    """Write ``imap`` to ``path`` whole or not at all (a temporary file renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # as an ordinary file (mkstemp makes it private)
        with os.fdopen(fd, "w") as f:
            json.dump(imap.to_json(), f, indent=0, sort_keys=False, separators=(",", ":"))
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def git_blob(text: str) -> str:
    """The git blob id of ``text`` (UTF-8), as ``git hash-object`` gives it."""
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def bodies(text: str) -> list[Body] | None:
    """Every outermost function body in ``text`` (module functions and methods, with what they
    define inside them); None if it does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    out: list[Body] = []
    seen: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                seen[name] = seen.get(name, 0) + 1
                qualname = name if seen[name] == 1 else f"{name}#{seen[name]}"
                body = list(child.body)
                if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                    if isinstance(body[0].value.value, str):
                        body = body[1:]  # the docstring: __doc__, set when the def runs
                if body:
                    first = body[0]
                    decorators = getattr(first, "decorator_list", [])
                    start = min([first.lineno, *(d.lineno for d in decorators)])
                    end = child.end_lineno or child.lineno
                    # a body sharing a line with its header (def, arguments, return annotation,
                    # docstring) cannot be told from it: that function is never narrowed
                    if start > _header_end(child):
                        kind = (isinstance(child, ast.AsyncFunctionDef), _yields(child))
                        out.append(Body(qualname, start, end, kind, _effects(child)))
                # Functions defined inside it are part of its body: one may run where coverage
                # cannot see (a preexec_fn runs in a forked child, which execs before saving).
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return out


def _header_end(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """The last line of a function's header: the ``def`` line, the arguments, the return
    annotation and the docstring."""
    a = function.args
    nodes: list[ast.AST] = [
        *a.posonlyargs,
        *a.args,
        *a.kwonlyargs,
        *(x for x in (a.vararg, a.kwarg, function.returns) if x is not None),
        *a.defaults,
        *(d for d in a.kw_defaults if d is not None),
    ]
    first = function.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        nodes.append(first)
    return max([function.lineno, *(getattr(n, "end_lineno", None) or function.lineno for n in nodes)])


def _effects(function: ast.AST) -> frozenset[str]:
    """The statements and names of ``function``'s body that act beyond calls of it (:attr:`Body.effects`)."""
    out: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal)):
            out.add(ast.dump(node, include_attributes=False))
        elif isinstance(node, ast.Name) and node.id in ("super", "__class__"):
            out.add(node.id)
    return frozenset(out)


def _yields(function: ast.AST) -> bool:
    """Whether ``function``'s own scope yields (calling it gives a generator)."""
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))
    return False


def _innermost(found: list[Body], lo: int, hi: int) -> Body | None:
    """The innermost body holding the 0-based line slice ``[lo, hi)``. For an empty slice (lines
    inserted on the other side, or deleted from it), the innermost body it borders or lies in:
    the other side's lines decide whether they are in that body."""
    if hi > lo:
        holding = [b for b in found if b.start <= lo + 1 and hi <= b.end]
    else:
        holding = [b for b in found if b.start - 1 <= lo <= b.end]
    return max(holding, key=_depth) if holding else None


def _depth(b: Body) -> tuple[int, int]:
    return (b.start, -b.end)


def changed_functions(old: str, new: str) -> frozenset[str] | None:
    """The functions whose bodies hold every difference between ``old`` and ``new`` (their
    qualified names in ``old``); None if a difference lies outside every body (module or class
    level, a signature, a decorator, a docstring), if a function changes what calling it gives
    (async, generator), or if either text does not parse. Empty if the texts do not differ."""
    before, after = bodies(old), bodies(new)
    if before is None or after is None or not _compiles(new):
        return None
    old_lines, new_lines = _lines(old), _lines(new)
    touched: set[str] = set()
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        was, now = _innermost(before, i1, i2), _innermost(after, j1, j2)
        if was is None or now is None or was.qualname != now.qualname or was.kind != now.kind:
            return None
        if was.effects != now.effects:
            return None  # an import, a class cell or a declaration came or went
        touched.add(was.qualname)
    return frozenset(touched)


def _compiles(text: str) -> bool:
    """Whether ``text`` compiles (``ast.parse`` accepts what only the compiler refuses, such as
    ``break`` outside a loop or ``nonlocal`` of nothing: an import error for every importer)."""
    try:
        compile(text, "<changed>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def _lines(text: str) -> list[str]:
    """``text``'s lines as the parser numbers them (``str.splitlines`` also breaks at form feeds
    and other separators Python does not count)."""
    return re.split(r"\r\n|\r|\n", text)


@dataclass(frozen=True)
class Narrowing:
    """What the map says about one changed file: ``keep(test)`` is False for a test file the
    change cannot affect; ``functions`` are the changed functions, ``commit`` the recording's."""

    keep: Callable[[str], bool]
    functions: frozenset[str]
    commit: str
    executing: frozenset[str]


class Impact:
    """A map made usable at one base revision: ``stale`` are the test files that the changes
    since the recording reach (their records no longer hold)."""

    def __init__(self, imap: ImpactMap, stale: Iterable[str] = ()) -> None:
        self.map = imap
        self.stale = frozenset(stale)

    def narrow(self, path: str, old: str | None, new: str | None) -> Narrowing | None:
        """The narrowing of a change of ``path`` from ``old`` to ``new``; None where the map
        cannot narrow it (see the module's documentation)."""
        rec = self.map.files.get(path)
        if rec is None or old is None or new is None or git_blob(old) != rec.blob:
            return None
        functions = changed_functions(old, new)
        if not functions:
            return None
        allowed: set[int] = set()
        for q in functions:
            if q not in rec.functions:
                return None
            allowed |= rec.functions[q]
        index, stale = self.map.index, self.stale

        def keep(test: str) -> bool:
            i = index.get(test)
            return i is None or test in stale or i not in rec.imported_by or i in allowed

        executing = frozenset(self.map.tests[i] for i in allowed)
        return Narrowing(keep, functions, self.map.commit, executing)


def warn(message: str) -> None:
    """One line on stderr: the map is not used, and why (the plan goes on from the graph)."""
    print(f"nova-split: {message}; planning from the build graph alone", file=sys.stderr)
