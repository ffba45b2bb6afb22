"""Which code a change to a driver API module really reaches: member-level, by name.

The build graph is file-level: ``from nova_common.objects import Flavor`` makes a driver depend on
``objects/__init__.py`` and so on every object module it re-exports, and a one-line change in
``objects/network.py`` reaches every driver that imports any object. The plan narrows a change
of an API module (:func:`api_surface.is_api_file`) to the code that names what changed, with the
same kind of evidence the API gate uses (:mod:`api_usage_members`: names, attributes, keywords,
``getattr`` strings):

1. :func:`changed_units` compares the two versions of the changed file unit by unit (a top-level
   function, class or assignment; a member of a class; an import) and returns the identifiers
   whose definition changed. A unit that refers to a changed identifier changed too (a private
   helper changes every function that calls it). A class's header (bases, decorators), a
   dunder member or a data member (a field) stands for the whole class: its identifier is the
   class name. So does a new order of its members (fields of a dataclass constructed by
   position, an enum's members, a statement calling a method above it), unless only plain
   methods moved. Docstrings and formatting do not count. Anything it cannot tell (a file added
   or deleted, unparsable, a changed module-level statement that defines nothing) is ``None``:
   the whole file changed, and the plan falls back to the graph.
2. :func:`references` is every identifier a file spells (names, attributes, keywords, string
   constants, the names it defines) and the classes it subclasses (a test class inheriting
   ``DriverConformance`` runs its changed test methods without naming them); a file that uses
   ``import *`` or reaches attributes by computed names refers to everything (:data:`EVERYTHING`).
3. :func:`affected_units` gives the identifiers of a dependent module's units that refer to the
   changed ones, so a change flows through nova-common (``Flavor`` -> ``Instance.flavor``).

Matching is by identifier, whatever the receiver: ``x.memory_mb`` counts as a use of
``Flavor.memory_mb`` even if ``x`` is something else. That over-approximates (safe), and it is
what lets a driver reading ``instance.flavor.memory_mb`` be reached without type inference.
"""

from __future__ import annotations

import ast
import functools
import re
import string

__all__ = ["EVERYTHING", "SUBCLASS", "affected_units", "changed_units", "references"]

#: What :func:`references` returns for a file that may refer to anything.
EVERYTHING = frozenset({"*"})
#: ``SUBCLASS + "C"``: a member of class ``C`` changed (in :func:`changed_units`); the file subclasses
#: ``C`` (in :func:`references`). A subclass inherits the change without naming the member.
SUBCLASS = "^"
_DYNAMIC = frozenset({"getattr", "setattr", "hasattr", "delattr", "vars"})
#: Calls that reach attributes by names they are given (any constant names count as spelled) or
#: list them all: a file that makes one with a name that is not a constant may refer to anything.
_BY_NAME = frozenset({"attrgetter", "methodcaller", "__getattribute__", "__getattr__"})
_ALL_MEMBERS = frozenset({"getmembers", "getmembers_static", "dir"})


def _parse(text: str | None) -> ast.Module | None:
    if text is None:
        return None
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None


def _strip_docstrings(node: ast.AST) -> ast.AST:
    for n in ast.walk(node):
        body = getattr(n, "body", None)
        if (
            isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            n.body = body[1:] or [ast.Pass()]
    return node


def _dump(node: ast.AST) -> str:
    return ast.dump(node, include_attributes=False)


def _refs(node: ast.AST) -> set[str]:
    out: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            out.add(n.id)
        elif isinstance(n, ast.Attribute):
            out.add(n.attr)
        elif isinstance(n, ast.MatchClass):
            out.update(n.kwd_attrs)  # case Flavor(disk_gb=d): reads disk_gb
        elif isinstance(n, ast.keyword) and n.arg:
            out.add(n.arg)
        elif isinstance(n, ast.Constant) and isinstance(n.value, str):
            out |= _dotted(n.value)
        elif isinstance(n, ast.alias):
            out.add(n.name.split(".")[-1])
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)  # a subclass overriding a changed method refers to it
        elif isinstance(n, ast.arg):
            out.add(n.arg)  # a fixture is requested by naming it as a parameter
    return out


def _dotted(text: str) -> set[str]:
    """The names a string constant spells: an identifier, each part of a dotted path
    (``mock.patch("nova_common.utils.execute")``, ``pytest_plugins = ["nova_common.testing.fx"]``),
    and the attributes a format string reads (``"{0.disk_gb}".format(f)``)."""
    if len(text) >= 256:
        return set()
    parts = text.split(".")
    out = set(parts) if all(p.isidentifier() for p in parts) else set()
    if "{" in text:
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(text) if f]
        except ValueError:  # not a format string
            fields = []
        for field in fields:
            out |= {w for w in re.split(r"[.\[\]]", field) if w.isidentifier()}
    return out


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _names_of(node: ast.stmt) -> list[str] | None:
    """The names a top-level or class-body statement defines; None: it defines nothing we can name."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        return names if len(names) == len(node.targets) else None
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        if any(a.name == "*" for a in node.names):
            return None
        return [a.asname or a.name.split(".")[0] for a in node.names]
    return None


class _Unit:
    """One definition: a top-level name (``member`` None) or a member of a top-level class."""

    def __init__(self, owner: str, member: str | None, node: ast.AST, data: bool) -> None:
        self.owner, self.member, self.node, self.data = owner, member, node, data
        self.dump = _dump(node)
        self.refs = _refs(node)

    @property
    def is_field(self) -> bool:
        return self.member is not None and isinstance(self.node, ast.AnnAssign)

    @property
    def ident(self) -> str:
        """The identifier a user of this unit spells: the member's (a method, a field), else the class's."""
        if self.member is None or _is_dunder(self.member) or (self.data and not self.is_field):
            return self.owner
        return self.member

    @property
    def spelled_as(self) -> set[str]:
        """Every identifier a user may spell to reach this unit: :attr:`ident`, and a class-body
        constant's or alias's own name too (``VERSION = "1.1"``, ``memory_gb = property(_gb)``,
        read through an instance whose class it never names)."""
        if self.member is not None and self.data and not self.is_field and not _is_dunder(self.member):
            return {self.owner, self.member}
        return {self.ident}


def _units(tree: ast.Module) -> tuple[dict[tuple[str, str | None], _Unit], str] | None:
    """The module's units, and the dump of everything else (its unnamed statements)."""
    units: dict[tuple[str, str | None], _Unit] = {}
    rest: list[str] = []
    for node in _strip_docstrings(tree).body:  # type: ignore[attr-defined]
        names = _names_of(node)
        if names is None:
            rest.append(_dump(node))
            continue
        if isinstance(node, ast.ClassDef):
            header = ast.ClassDef(
                name=node.name,
                bases=node.bases,
                keywords=node.keywords,
                body=[],
                decorator_list=node.decorator_list,
            )
            units[(node.name, None)] = _Unit(node.name, None, header, False)
            for item in node.body:
                member_names = _names_of(item)
                if member_names is None:  # an unnamed statement in a class body: the whole class
                    units[(node.name, None)].dump += _dump(item)
                    units[(node.name, None)].refs |= _refs(item)
                    continue
                data = not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                for m in member_names:
                    units[(node.name, m)] = _Unit(node.name, m, item, data)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):  # one unit per imported name
            for alias, n in zip(node.names, names, strict=True):  # one name per alias
                one = ast.ImportFrom(
                    module=getattr(node, "module", None), names=[alias], level=getattr(node, "level", 0)
                )
                units[(n, None)] = _Unit(n, None, one, False)
            continue
        for n in names:
            units[(n, None)] = _Unit(n, None, node, False)
    return units, "\n".join(rest)


def _spread(units: dict[tuple[str, str | None], _Unit], changed: set[tuple[str, str | None]]) -> set[str]:
    """Close ``changed`` (in place) over the module's units that refer to a changed identifier; their identifiers."""
    idents = {i for k in changed if k in units for i in units[k].spelled_as}
    while True:
        more = {k for k, u in units.items() if k not in changed and u.refs & idents}
        if not more:
            return idents
        changed |= more
        idents |= {i for k in more for i in units[k].spelled_as}


def _inherited(units: dict[tuple[str, str | None], _Unit], idents: set[str]) -> set[str]:
    """What inherits a changed member, closed over the module: ``SUBCLASS + C`` for each class
    ``C`` whose bases name, directly or through other classes and aliases here, a class ``B`` with
    ``SUBCLASS + B`` in ``idents`` (:func:`_derives`); an alias (``Base = B``, an import ``as``) is
    such a class too. A function that makes such a class (a class in its body) changes as a whole.

    ``class DriverConformance(_Checks)``: a changed test method of ``_Checks`` runs in every driver
    test that subclasses ``DriverConformance`` and names neither.
    """
    out: set[str] = set()
    makers: set[str] = set()  # functions that make such a class: what they return is one
    while True:
        carets = _carets(idents | out)
        more: set[str] = set()
        for (_, member), u in units.items():
            if member is not None or not (_derives(u.node) & carets or u.refs & makers):
                continue
            if isinstance(u.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                makers.add(u.ident)
                more |= {u.ident, SUBCLASS + u.ident}
            elif u.ident not in carets or not isinstance(u.node, (ast.Import, ast.ImportFrom)):
                more.add(SUBCLASS + u.ident)
        more -= idents | out
        if not more:
            return out
        out |= more


def _spelled(node: ast.AST) -> set[str]:
    """Every name an expression spells (``Base``, ``mod.Base``, ``Base[int]``, ``meta(Base)``: ``Base``)."""
    return {
        n.id if isinstance(n, ast.Name) else n.attr for n in ast.walk(node) if isinstance(n, (ast.Name, ast.Attribute))
    }


def _derives(node: ast.AST) -> set[str]:
    """The names ``node`` makes a class (or another name for a class) from: the bases of every
    class it defines, at any depth (in a function, under an ``if``); the bases given to
    ``type(name, bases, ns)``; and, when ``node`` is itself an alias, the class it names
    (``Base = _Checks``, ``Base = mod.C[int]``, ``from m import C as Base``). Over-approximate:
    every name spelled in those places counts."""
    out: set[str] = set()
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(
        node.value, (ast.Name, ast.Attribute, ast.Subscript)
    ):
        out |= _spelled(node.value)
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        out |= {a.name.split(".")[-1] for a in node.names}
    for n in ast.walk(node):
        if isinstance(n, ast.ClassDef):
            for b in [*n.bases, *(k.value for k in n.keywords)]:
                out |= _spelled(b)
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "type" and len(n.args) > 1:
            out |= _spelled(n.args[1])
    return out


#: Members pytest runs without a test naming them (besides ``test*`` methods and fixtures).
_PYTEST_RUNS = frozenset(
    {
        "setup_method",
        "teardown_method",
        "setup_class",
        "teardown_class",
        "setUp",
        "tearDown",
        "setUpClass",
        "tearDownClass",
    }
)


def _suites(units: dict[tuple[str, str | None], _Unit]) -> set[str]:
    """The module's test suites: classes pytest collects or whose members it runs when a subclass
    is collected (``test*`` methods, fixtures, setup and teardown), or named ``Test*``, or
    ``unittest.TestCase`` subclasses. Whatever makes a class from a suite (a factory, a decorator,
    ``types.new_class``, an alias under an ``if``) carries its tests, so a changed suite is followed
    by its name, not only through ``class`` statements."""
    out: set[str] = set()
    for (cls, member), u in units.items():
        if member is None:
            if cls.startswith("Test") or (isinstance(u.node, ast.ClassDef) and "TestCase" in _derives(u.node)):
                out.add(cls)
        elif (
            member.startswith("test")
            or member in _PYTEST_RUNS
            or any("fixture" in _spelled(d) for d in getattr(u.node, "decorator_list", []))
        ):
            out.add(cls)
    return out


#: Modules that make a file test code: pytest, unittest and the fixture libraries OpenStack uses.
_TEST_FRAMEWORKS = frozenset({"pytest", "_pytest", "unittest", "testtools", "fixtures"})


def _is_test_code(tree: ast.Module) -> bool:
    """Whether the module imports a test framework (anywhere in it): a suite, a fixture, a plugin.

    Test code is not narrowed member by member: pytest runs it by names the code under test never
    spells (inherited and generated test methods, fixtures requested by parameter or registered
    under another ``name=``, hooks, plugins named by dotted strings), so a change to it, or one it
    refers to, reaches everything that depends on its file."""
    for n in ast.walk(tree):
        if isinstance(n, ast.Import) and any(a.name.split(".")[0] in _TEST_FRAMEWORKS for a in n.names):
            return True
        if isinstance(n, ast.ImportFrom) and n.level == 0 and (n.module or "").split(".")[0] in _TEST_FRAMEWORKS:
            return True
    return False


def _carets(idents: set[str] | frozenset[str]) -> set[str]:
    """The classes ``idents`` says a member of changed (``SUBCLASS + C`` -> ``C``)."""
    return {i[len(SUBCLASS) :] for i in idents if i.startswith(SUBCLASS)}


def _class_time_refs(node: ast.AST) -> set[str]:
    """The names a class-body statement reads while the class body runs: a data member's whole
    statement; a function's decorators, defaults and annotations (not its body, which runs later)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        a = node.args
        parts: list[ast.AST | None] = [*node.decorator_list, *a.defaults, *a.kw_defaults, node.returns]
        parts += [arg.annotation for arg in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg) if arg]
        return {r for p in parts if p is not None for r in _refs(p)}
    return _refs(node)


def _order_matters(
    old_units: dict[tuple[str, str | None], _Unit], new_units: dict[tuple[str, str | None], _Unit], cls: str
) -> bool:
    """Whether the members of class ``cls`` kept on both sides changed their order where order
    matters: two data members (fields, constants: positional construction, iteration), a
    decorated function and anything (a decorator runs in class-body order), or a member and one
    that refers to it. Anything else (a plain method) may change places: nothing sees its order."""

    def order(units: dict[tuple[str, str | None], _Unit]) -> list[str]:
        return [m for (c, m) in units if c == cls and m is not None]

    before, after = order(old_units), order(new_units)
    shared = set(before) & set(after)
    before, after = [m for m in before if m in shared], [m for m in after if m in shared]
    if before == after:
        return False
    position = {m: i for i, m in enumerate(after)}

    sides = (old_units, new_units)

    def decorated(m: str) -> bool:
        return any(getattr(units[(cls, m)].node, "decorator_list", None) for units in sides)

    def bound(a: str, b: str) -> bool:
        """Whether ``a`` and ``b`` must keep their order."""
        if all(units[(cls, m)].data for units in sides for m in (a, b)) or decorated(a) or decorated(b):
            return True
        return any(
            b in _class_time_refs(units[(cls, a)].node) or a in _class_time_refs(units[(cls, b)].node)
            for units in sides
        )

    return any(position[a] > position[b] for i, a in enumerate(before) for b in before[i + 1 :] if bound(a, b))


@functools.lru_cache(maxsize=1024)
def changed_units(old: str | None, new: str | None) -> frozenset[str] | None:
    """The identifiers whose definitions differ between two versions of a module (see the module doc).

    ``None``: the change cannot be narrowed (a side is missing or unparsable, or a module-level
    statement that defines no name changed); the whole file counts as changed.
    """
    before_tree, after_tree = _parse(old), _parse(new)
    if before_tree is None or after_tree is None:
        return None
    if _is_test_code(before_tree) or _is_test_code(after_tree):
        return None  # by its file (see _is_test_code)
    before, after = _units(before_tree), _units(after_tree)
    if before is None or after is None or before[1] != after[1]:
        return None
    old_units, new_units = before[0], after[0]
    changed = {
        k
        for k in set(old_units) | set(new_units)
        if k not in old_units or k not in new_units or old_units[k].dump != new_units[k].dump
    }
    # A unit present on one side only: its identifier still counts (a removed member).
    idents = {i for k in changed for i in (old_units.get(k) or new_units[k]).spelled_as}
    # A subclass inherits a changed member without naming it (pytest runs inherited test methods).
    idents |= {
        SUBCLASS + k[0]
        for k in changed
        if k[1] is not None or isinstance((old_units.get(k) or new_units[k]).node, ast.ClassDef)
    }
    for k in changed:  # a field added, removed, or made required/optional changes every construction
        o, n = old_units.get(k), new_units.get(k)
        if (o or n).is_field and (  # type: ignore[union-attr]
            o is None or n is None or (o.node.value is None) != (n.node.value is None)  # type: ignore[attr-defined]
        ):
            idents.add((o or n).owner)  # type: ignore[union-attr]
    # An abstract method added, removed or (un)marked: every instantiation of the class or of a
    # subclass that lacks it changes (TypeError), wherever the class is named.
    for k in list(changed):
        if k[1] is not None and any(
            "abstractmethod" in _spelled(d)
            for units in (old_units, new_units)
            if k in units
            for d in getattr(units[k].node, "decorator_list", [])
        ):
            changed.add((k[0], None))
            idents |= {k[0], SUBCLASS + k[0]}
    # A changed suite is changed by its name too: whatever makes a class from it (a factory, a
    # decorator, an alias under an ``if``), and every file that names it, may run its tests.
    suites = _suites(old_units) | _suites(new_units)
    changed_suites = {k[0] for k in changed if k[0] in suites}
    for cls in changed_suites:
        changed.add((cls, None))
        idents |= {cls, SUBCLASS + cls}
    # Members in another order: a dataclass's positional construction, an enum's iteration order,
    # a class-body statement that calls a method defined above it. Only plain methods may move.
    for cls in {c for c, m in old_units if m is None} & {c for c, m in new_units if m is None}:
        if _order_matters(old_units, new_units, cls):
            changed.add((cls, None))
            idents |= {cls, SUBCLASS + cls}
    for units in (old_units, new_units):
        spread = {k for k in changed if k in units}
        idents |= _spread(units, spread)
        idents |= {SUBCLASS + k[0] for k in spread if k[1] is not None}
    for units in (old_units, new_units):
        idents |= _inherited(units, idents)
    loose = [n for tree in (before_tree, after_tree) for n in tree.body if _names_of(n) is None]
    if any(_derives(n) & _carets(idents) or _refs(n) & idents & suites for n in loose):
        return None  # a class made or named under an ``if`` or ``try``: cannot tell its name
    return frozenset(idents)


@functools.lru_cache(maxsize=4096)
def affected_units(text: str | None, idents: frozenset[str]) -> frozenset[str] | None:
    """The identifiers of the units of ``text`` that refer to ``idents`` (closed over the module).

    ``None``: ``text`` cannot be read unit by unit (treat the whole file as changed).
    """
    tree = _parse(text)
    if tree is None:
        return None
    parsed = _units(tree)
    if parsed is None:
        return None
    units, _ = parsed
    if "*" in idents:
        return None
    if _is_test_code(tree) and (_refs(tree) & idents or _derives(tree) & _carets(idents)):
        return None  # test code that refers to the change: by its file (see _is_test_code)
    loose = [n for n in tree.body if _names_of(n) is None]  # module-level code that defines no name
    if any(_refs(n) & idents or _derives(n) & _carets(idents) for n in loose):
        return None
    changed = {k for k, u in units.items() if u.refs & idents}
    out = _spread(units, changed)  # closes ``changed`` in place
    out |= {SUBCLASS + k[0] for k in changed if k[1] is not None}
    return frozenset(out | _inherited(units, out | idents))


@functools.lru_cache(maxsize=4096)
def references(text: str | None) -> frozenset[str]:
    """Every identifier the file spells and every class it subclasses (:data:`SUBCLASS`);
    :data:`EVERYTHING` when it may reach any name (``import *``, ``getattr`` with a computed name)."""
    tree = _parse(text)
    if tree is None:
        return EVERYTHING
    out: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name):
            out.add(n.id)
        elif isinstance(n, ast.Attribute):
            if n.attr == "__dict__":
                return EVERYTHING
            out.add(n.attr)
        elif isinstance(n, ast.MatchClass):
            out.update(n.kwd_attrs)  # case Flavor(disk_gb=d): reads disk_gb
        elif isinstance(n, ast.keyword) and n.arg:
            out.add(n.arg)
        elif isinstance(n, ast.arg):
            out.add(n.arg)  # a fixture is requested by naming it as a parameter
        elif isinstance(n, ast.Constant) and isinstance(n.value, str):
            out |= _dotted(n.value)
        elif isinstance(n, ast.alias):
            if n.name == "*":
                return EVERYTHING
            out.add(n.name.split(".")[-1])
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.add(n.name)
        elif isinstance(n, ast.ClassDef):
            out.add(n.name)
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in _DYNAMIC:
            if len(n.args) < 2 or not (isinstance(n.args[1], ast.Constant) and isinstance(n.args[1].value, str)):
                return EVERYTHING
        if isinstance(n, ast.Call):
            called = n.func.id if isinstance(n.func, ast.Name) else getattr(n.func, "attr", "")
            if called in _ALL_MEMBERS and n.args:
                return EVERYTHING
            if called in _BY_NAME and not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in n.args):
                return EVERYTHING
    # its own __all__ does not count: another module's matters to ``import *`` only
    out.discard("__all__")
    return frozenset(out | {SUBCLASS + c for c in _inherits(tree)})


def _inherits(tree: ast.Module) -> set[str]:
    """The classes a file's tests inherit from, under any name: the bases of its classes (and of
    ``type()`` calls), followed through its aliases (``import C as B``, ``B = C``), and what pytest
    collects from it without a ``class`` statement: an imported or assigned ``Test*`` name."""
    aliases: dict[str, set[str]] = {}
    bases: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            for a in n.names:
                original, bound = a.name.split(".")[-1], a.asname or a.name.split(".")[0]
                aliases.setdefault(bound, set()).add(original)
                if bound.startswith("Test") or original.startswith("Test"):
                    bases.add(bound)  # collected by pytest as it is
        elif isinstance(n, (ast.Assign, ast.AnnAssign)) and isinstance(
            n.value, (ast.Name, ast.Attribute, ast.Subscript)
        ):
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    aliases.setdefault(t.id, set()).update(_spelled(n.value))
                    if t.id.startswith("Test"):
                        bases.add(t.id)
        if isinstance(n, (ast.ClassDef, ast.Call)):
            bases |= (
                _derives(n)
                if isinstance(n, ast.ClassDef) or (isinstance(n.func, ast.Name) and n.func.id == "type")
                else set()
            )
    todo, seen = list(bases), set(bases)
    while todo:  # every name each base is another name for
        for original in aliases.get(todo.pop(), ()):
            if original not in seen:
                seen.add(original)
                todo.append(original)
    return seen
