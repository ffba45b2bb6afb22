"""The differences between two versions of the public driver API, each one precise finding.

griffe loads both versions and resolves names; the rules a driver feels are here, because griffe
does not know them: annotations are compared as resolved types (:mod:`api_types`) with the
variance of the caller's role, ``ComputeDriver`` (:data:`api_surface.IMPLEMENTED`) is compared
as something drivers implement, versioned objects by their fields and ``VERSION``, enums by
their members' values (they are stored and sent), exceptions by the classes that catch them.

Breaking kinds (a driver built for the old version can fail):

======================== =================================================================
``removed``              a public name, method or class attribute is gone
``renamed``              ... and one with the same shape took its place (``old -> new``)
``kind-changed``         a function became an attribute, a class a function, ...
``parameter-removed``    ``parameter-renamed``, ``parameter-moved`` (positions ``i -> j``)
``parameter-added-required`` a new parameter without a default (for ``ComputeDriver``: any
                         new parameter, ``parameter-added``: the core may pass it)
``parameter-kind-changed`` positional/keyword kind changed so old calls fail
``parameter-made-required``, ``parameter-made-optional`` (implemented methods), ``parameter-default-changed``
``parameter-type-changed`` narrowed for callers, or widened for implementers
``return-type-changed``  widened for callers, or narrowed for implementers
``field-removed``        ``field-renamed``, ``field-retyped``, ``field-made-required``,
                         ``field-added-required``, ``field-default-changed``, ``field-moved``
                         (reordered: a positional construction now sets another field)
``object-version-lowered`` a versioned object's ``VERSION`` went down
``enum-member-removed``  ``enum-value-changed``
``exception-base-changed`` an exception lost an ancestor, or gained one handlers already catch
``base-removed``         another class lost a base class
``abstract-method-added`` ``method-made-abstract``, ``required-attribute-added``,
                         ``attribute-made-required``: what a ``ComputeDriver`` subclass must now do
``attribute-retyped``    a public attribute's annotation changed
======================== =================================================================

Additions (``added``, ``parameter-added``, ``parameter-made-optional``, ``parameter-type-changed``
when widened, ``return-type-changed`` when narrowed, ``field-added``, ``field-made-optional``,
``enum-member-added``) need a minor version bump. Anything else (private names, docstrings,
imports, code moved behind a re-export) is silent.
"""

from __future__ import annotations

import builtins
import importlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

import griffe
from packaging.version import InvalidVersion, Version

from nova_split_tools.api_surface import IMPLEMENTED, Surface
from nova_split_tools.api_types import Type, is_subtype, resolve

__all__ = ["Finding", "Reach", "compare"]

_ENUM_BASES = {"enum.Enum", "enum.IntEnum", "enum.StrEnum", "enum.Flag", "enum.IntFlag"}
_OBJECT_BASE = "nova_common.objects.base.VersionedObject"
_POSITIONAL = {griffe.ParameterKind.positional_only, griffe.ParameterKind.positional_or_keyword}
_WAYS = {
    griffe.ParameterKind.positional_only: {"position"},
    griffe.ParameterKind.positional_or_keyword: {"position", "keyword"},
    griffe.ParameterKind.keyword_only: {"keyword"},
    griffe.ParameterKind.var_positional: {"*args"},
    griffe.ParameterKind.var_keyword: {"**kwargs"},
}


@dataclass(frozen=True)
class Reach:
    """Which driver code a finding reaches: code naming ``names`` (any spelling of the owner) and,
    for a member, touching ``member``; ``how`` narrows it to code that ``construct``s the owner or
    ``subclass``es it, or to code that imports exactly this ``spelling`` (``use``: any use)."""

    names: frozenset[str]
    member: str | None = None
    how: str = "use"


@dataclass
class Finding:
    """One API difference: a break (``breaking``) or an addition, under one real symbol."""

    symbol: str
    kind: str
    message: str
    breaking: bool
    old: str | None = None
    new: str | None = None
    users: dict[str, list[str]] = field(default_factory=lambda: {"shipped": [], "test": []})
    accepted: str | None = None
    reach: Reach = field(default_factory=lambda: Reach(frozenset()), repr=False, compare=False)

    def as_json(self) -> dict[str, object]:
        return {
            "symbol": self.symbol,
            "kind": self.kind,
            "old": self.old,
            "new": self.new,
            "breaking": self.breaking,
            "message": self.message,
            "users": self.users,
            "accepted": self.accepted,
        }


class _Context:
    def __init__(self, old: Surface, new: Surface) -> None:
        self.old, self.new = old, new
        self.old_spellings, self.new_spellings = old.spellings(), new.spellings()
        self.old_api = set(old.names) | {o.path for o in old.names.values()}
        self.findings: dict[tuple[str, str], Finding] = {}

    def add(self, finding: Finding) -> None:
        self.findings.setdefault((finding.symbol, finding.kind), finding)

    def names(self, old: griffe.Object | None, new: griffe.Object | None) -> frozenset[str]:
        out: set[str] = set()
        if old is not None:
            out |= {old.path, *self.old_spellings.get(old.path, [])}
        if new is not None:
            out |= {new.path, *self.new_spellings.get(new.path, [])}
        return frozenset(out)

    def canonical(self, package: griffe.Module) -> object:
        def resolve_path(path: str) -> str:
            obj = _lookup(package, path)
            return obj.path if obj is not None else path

        return resolve_path


def compare(old: Surface, new: Surface) -> list[Finding]:
    """Every finding between ``old`` and ``new``, breaks first, one per (symbol, kind)."""
    ctx = _Context(old, new)
    for _target, spellings in sorted(ctx.old_spellings.items()):
        present = [s for s in spellings if s in new.names]
        old_obj = old.names[spellings[0]]
        if not present:
            _removed_or_renamed(ctx, spellings[0], old_obj)
            continue
        for s in spellings:
            if s not in present:
                ctx.add(
                    Finding(
                        s,
                        "removed",
                        f"{s} is no longer exported (the symbol is still {present[0]})",
                        True,
                        old=s,
                        reach=Reach(frozenset({s}), how="spelling"),
                    )
                )
        symbol = spellings[0] if spellings[0] in present else present[0]
        _compare_object(ctx, symbol, old_obj, new.names[symbol])
    for target, spellings in sorted(ctx.new_spellings.items()):
        fresh = [s for s in spellings if s not in old.names]
        if not fresh:
            continue
        if target in ctx.old_spellings or any(s in old.names for s in spellings):
            for s in fresh:  # a new spelling of an existing symbol
                known = next((k for k in spellings if k in old.names), spellings[0])
                ctx.add(Finding(s, "added", f"{s} is newly exported (another name of {known})", False, new=s))
            continue
        if any(f.kind == "renamed" and f.new == spellings[0] for f in ctx.findings.values()):
            continue
        ctx.add(Finding(spellings[0], "added", f"new public {_kind(new.names[spellings[0]])} {spellings[0]}", False))
    return sorted(ctx.findings.values(), key=lambda f: (not f.breaking, f.symbol, f.kind))


def _removed_or_renamed(ctx: _Context, symbol: str, old_obj: griffe.Object) -> None:
    module = symbol.rpartition(".")[0]
    for spelling, new_obj in ctx.new.names.items():
        if (
            spelling.rpartition(".")[0] == module
            and spelling not in ctx.old.names
            and _shape(new_obj) == _shape(old_obj)
            and not any(f.kind == "renamed" and f.new == spelling for f in ctx.findings.values())
        ):
            ctx.add(
                Finding(
                    symbol,
                    "renamed",
                    f"{symbol} was renamed: {symbol} -> {spelling}",
                    True,
                    old=symbol,
                    new=spelling,
                    reach=Reach(ctx.names(old_obj, None)),
                )
            )
            return
    ctx.add(
        Finding(
            symbol,
            "removed",
            f"{_kind(old_obj)} {symbol} was removed",
            True,
            old=symbol,
            reach=Reach(ctx.names(old_obj, None)),
        )
    )


def _kind(obj: griffe.Object) -> str:
    return "method" if obj.is_function and obj.parent is not None and obj.parent.is_class else obj.kind.value


def _shape(obj: griffe.Object) -> str:
    """What a renamed object keeps: its kind and signature (or members)."""
    if isinstance(obj, griffe.Function):
        params = ", ".join(f"{p.kind.value}:{p.name}:{p.annotation}:{p.default}" for p in obj.parameters)
        return f"function({params})->{obj.returns}"
    if isinstance(obj, griffe.Class):
        return f"class[{', '.join(sorted(obj.members))}]"
    return f"{obj.kind.value}:{getattr(obj, 'annotation', None)}:{getattr(obj, 'value', None)}"


# -- objects -----------------------------------------------------------------------------------


def _compare_object(ctx: _Context, symbol: str, old: griffe.Object, new: griffe.Object) -> None:
    reach = Reach(ctx.names(old, new))
    if old.kind != new.kind and not (_is_attribute_like(old) and _is_attribute_like(new)):
        ctx.add(
            Finding(
                symbol,
                "kind-changed",
                f"{symbol} changed from a {old.kind.value} to a {new.kind.value}",
                True,
                old=old.kind.value,
                new=new.kind.value,
                reach=reach,
            )
        )
        return
    if isinstance(old, griffe.Function) and isinstance(new, griffe.Function):
        _compare_function(ctx, symbol, old, new, "call", reach)
    elif isinstance(old, griffe.Class) and isinstance(new, griffe.Class):
        _compare_class(ctx, symbol, old, new, reach)
    elif isinstance(old, griffe.Attribute) and isinstance(new, griffe.Attribute):
        _compare_attribute(ctx, symbol, old, new, reach, implemented=False)


def _is_attribute_like(obj: griffe.Object) -> bool:
    return obj.is_attribute or (obj.is_function and "property" in obj.labels)


def _ancestors_fn(ctx: _Context) -> object:
    def ancestors(name: str) -> set[str]:
        for surface in (ctx.new, ctx.old):
            cls = _lookup(surface.package, name)
            if isinstance(cls, griffe.Class):
                return set(_bases(cls))
        return set()

    return ancestors


def _types(ctx: _Context, old_expr: object, new_expr: object) -> tuple[Type, Type]:
    old_pkg, new_pkg = ctx.old.package, ctx.new.package
    return (
        resolve(old_expr, ctx.canonical(old_pkg), lambda p: _alias_value(old_pkg, p)),  # type: ignore[arg-type]
        resolve(new_expr, ctx.canonical(new_pkg), lambda p: _alias_value(new_pkg, p)),  # type: ignore[arg-type]
    )


def _alias_value(package: griffe.Module, path: str) -> object | None:
    """What the package's type alias ``path`` stands for (``Clock = Callable[[], float]``), else None."""
    obj = _lookup(package, path)
    if not isinstance(obj, griffe.Attribute) or not obj.parent or not obj.parent.is_module:
        return None
    if obj.annotation is not None and "TypeAlias" not in str(obj.annotation):
        return None
    value = obj.value
    return value if isinstance(value, (griffe.ExprSubscript, griffe.ExprBinOp, griffe.ExprName, griffe.ExprAttribute)) else None


def _sub(ctx: _Context, a: Type, b: Type) -> bool:
    return is_subtype(a, b, _ancestors_fn(ctx))  # type: ignore[arg-type]


def _same(ctx: _Context, a: Type, b: Type) -> bool:
    return _sub(ctx, a, b) and _sub(ctx, b, a)


# -- functions ---------------------------------------------------------------------------------


def _params(func: griffe.Function) -> list[griffe.Parameter]:
    params = list(func.parameters)
    is_method = func.parent is not None and func.parent.is_class and "staticmethod" not in func.labels
    return params[1:] if is_method and params else params


def _default(p: griffe.Parameter) -> str | None:
    return None if p.default is None else str(p.default)


def _compare_function(
    ctx: _Context, symbol: str, old: griffe.Function, new: griffe.Function, role: str, reach: Reach
) -> None:
    """``role``: ``call`` (drivers call it), ``implement`` (the core calls drivers' override), ``both``."""
    calls, implements = role in ("call", "both"), role in ("implement", "both")
    who = "the core may pass" if implements and not calls else "callers may pass"
    old_ps, new_ps = _params(old), _params(new)
    old_by, new_by = {p.name: p for p in old_ps}, {p.name: p for p in new_ps}

    def add(kind: str, message: str, breaking: bool, o: str | None = None, n: str | None = None) -> None:
        ctx.add(Finding(symbol, kind, f"{symbol}: {message}", breaking, old=o, new=n, reach=reach))

    renamed: set[str] = set()
    for i, p in enumerate(old_ps):
        if p.name in new_by:
            continue
        q = new_ps[i] if i < len(new_ps) else None
        if q is not None and q.name not in old_by and q.kind == p.kind:
            renamed |= {p.name, q.name}
            add("parameter-renamed", f"parameter {p.name} was renamed to {q.name}", True, p.name, q.name)
        else:
            add("parameter-removed", f"parameter {p.name} was removed", True, _param_text(p), None)
    for j, q in enumerate(new_ps):
        if q.name in old_by or q.name in renamed:
            continue
        variadic = q.kind in (griffe.ParameterKind.var_positional, griffe.ParameterKind.var_keyword)
        if q.default is None and not variadic:
            add(
                "parameter-added-required",
                f"new parameter {q.name} (position {j + 1}) has no default",
                True,
                None,
                _param_text(q),
            )
        elif implements:
            add(
                "parameter-added",
                f"new parameter {_param_text(q)}: {who} it, and drivers implementing the old method do not accept it",
                True,
                None,
                _param_text(q),
            )
        else:
            add("parameter-added", f"new optional parameter {_param_text(q)}", False, None, _param_text(q))
    old_pos = [p.name for p in old_ps if p.kind in _POSITIONAL]
    new_pos = [p.name for p in new_ps if p.kind in _POSITIONAL]
    for p in old_ps:
        q = new_by.get(p.name)
        if q is None:
            continue
        if p.name in old_pos and p.name in new_pos and old_pos.index(p.name) != new_pos.index(p.name):
            i, j = old_pos.index(p.name) + 1, new_pos.index(p.name) + 1
            add("parameter-moved", f"parameter {p.name} moved from position {i} to {j}", True, str(i), str(j))
        pk, qk = _pkind(p), _pkind(q)
        if pk != qk:
            lost = (calls and not _WAYS[pk] <= _WAYS[qk]) or (implements and not _WAYS[qk] <= _WAYS[pk])
            add(
                "parameter-kind-changed",
                f"parameter {p.name} changed from {pk.value} to {qk.value}",
                lost,
                pk.value,
                qk.value,
            )
        od, nd = _default(p), _default(q)
        if od is not None and nd is None and p.kind not in (griffe.ParameterKind.var_positional,):
            add("parameter-made-required", f"parameter {p.name} lost its default {od}", calls, od, None)
        elif od is None and nd is not None:
            add(
                "parameter-made-optional",
                f"parameter {p.name} now has a default {nd}"
                + (f": {who} omit it, and drivers implementing the old method require it" if implements else ""),
                implements,
                None,
                nd,
            )
        elif od is not None and nd is not None and od != nd:
            add("parameter-default-changed", f"parameter {p.name}'s default changed: {od} -> {nd}", True, od, nd)
        if p.annotation is not None and q.annotation is not None:
            ot, nt = _types(ctx, p.annotation, q.annotation)
            if not _same(ctx, ot, nt):
                narrowed = calls and not _sub(ctx, ot, nt)
                widened = implements and not _sub(ctx, nt, ot)
                why = (
                    f" (drivers may pass {ot}, which it no longer accepts)"
                    if narrowed
                    else f" (the core may pass {nt}, which drivers written for {ot} do not accept)"
                    if widened
                    else ""
                )
                shown = f"{p.annotation} -> {q.annotation}"
                shown += f" ({ot} -> {nt})" if str(p.annotation) == str(q.annotation) else ""
                add(
                    "parameter-type-changed",
                    f"parameter {p.name}: {shown}{why}",
                    narrowed or widened,
                    str(p.annotation),
                    str(q.annotation),
                )
    if old.returns is not None and new.returns is not None:
        ot, nt = _types(ctx, old.returns, new.returns)
        if not _same(ctx, ot, nt):
            widened = calls and not _sub(ctx, nt, ot)
            narrowed = implements and not _sub(ctx, ot, nt)
            why = (
                f" (callers handle {ot} only)"
                if widened
                else f" (drivers written for the old API return {ot}, which the core no longer accepts)"
                if narrowed
                else ""
            )
            add(
                "return-type-changed",
                f"returns {old.returns} -> {new.returns}{why}",
                widened or narrowed,
                str(old.returns),
                str(new.returns),
            )


def _pkind(p: griffe.Parameter) -> griffe.ParameterKind:
    return p.kind or griffe.ParameterKind.positional_or_keyword


def _param_text(p: griffe.Parameter) -> str:
    prefix = {griffe.ParameterKind.var_positional: "*", griffe.ParameterKind.var_keyword: "**"}.get(_pkind(p), "")
    text = prefix + p.name + (f": {p.annotation}" if p.annotation is not None else "")
    return text + (f" = {p.default}" if p.default is not None else "")


# -- classes -----------------------------------------------------------------------------------


def _bases(cls: griffe.Class) -> Iterator[str]:
    """Every ancestor of ``cls`` (canonical paths; builtins by name), nearest first."""
    seen: set[str] = set()
    todo = list(cls.bases)
    while todo:
        base = todo.pop(0)
        name = base.canonical_path if isinstance(base, (griffe.ExprName, griffe.ExprAttribute)) else str(base)
        if isinstance(base, griffe.Expr) and not isinstance(base, (griffe.ExprName, griffe.ExprAttribute)):
            name = str(base)
        target = _lookup(cls.package, name) if "." in name else None
        if isinstance(target, griffe.Class):
            name = target.path
        if name in seen:
            continue
        seen.add(name)
        yield name
        if isinstance(target, griffe.Class):
            todo.extend(target.bases)
        else:
            for ancestor in _stdlib_ancestors(name):
                if ancestor not in seen:
                    seen.add(ancestor)
                    yield ancestor


def _stdlib_ancestors(name: str) -> list[str]:
    """The ancestors of a builtin or standard-library class (``enum.StrEnum``: ``str``, ``enum.Enum``, ...)."""
    module, _, attr = name.rpartition(".")
    if module and module.partition(".")[0] not in sys.stdlib_module_names:
        return []
    try:
        value = getattr(importlib.import_module(module), attr) if module else getattr(builtins, name, None)
    except (ImportError, AttributeError):
        return []
    if not isinstance(value, type):
        return []
    return [
        c.__name__ if c.__module__ == "builtins" else f"{c.__module__}.{c.__qualname__}"
        for c in value.__mro__[1:]
        if c is not object
    ]


def _lookup(package: griffe.Module, path: str) -> griffe.Object | None:
    if path != package.path and not path.startswith(package.path + "."):
        return None
    try:
        obj = package.modules_collection.get_member(path)
    except (KeyError, ValueError, AttributeError):
        return None
    try:
        return obj.final_target if isinstance(obj, griffe.Alias) else obj  # type: ignore[no-any-return]
    except (griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None


def _public_members(cls: griffe.Class) -> dict[str, griffe.Object]:
    out: dict[str, griffe.Object] = {}
    for name, member in cls.members.items():
        if name.startswith("_") and name != "__init__":
            continue
        if isinstance(member, griffe.Alias):
            continue
        out[name] = member
    return out


def _compare_class(ctx: _Context, symbol: str, old: griffe.Class, new: griffe.Class, reach: Reach) -> None:
    old_bases, new_bases = list(_bases(old)), list(_bases(new))
    implemented = old.path in IMPLEMENTED or new.path in IMPLEMENTED
    is_exception = "BaseException" in old_bases
    is_enum = bool(_ENUM_BASES & set(old_bases))
    is_object = _OBJECT_BASE in old_bases
    if is_exception:
        lost = [b for b in old_bases if b not in new_bases]
        gained = [b for b in new_bases if b not in old_bases and (b in ctx.old_api or hasattr(builtins, b))]
        if lost or gained:
            o, n = ", ".join(map(str, old.bases)), ", ".join(map(str, new.bases))
            what = "; ".join(
                filter(
                    None,
                    (
                        f"no longer caught as {', '.join(lost)}" if lost else "",
                        f"now caught as {', '.join(gained)}" if gained else "",
                    ),
                )
            )
            ctx.add(
                Finding(
                    symbol, "exception-base-changed", f"{symbol}: bases {o} -> {n} ({what})", True, o, n, reach=reach
                )
            )
    else:
        for b in old_bases:
            if b not in new_bases and b not in ("object",):
                ctx.add(
                    Finding(symbol, "base-removed", f"{symbol} no longer derives from {b}", True, b, None, reach=reach)
                )
    if is_enum:
        _compare_enum(ctx, symbol, old, new)
        return
    fields_old = _fields(old) if is_object else {}
    fields_new = _fields(new) if is_object else {}
    if is_object:
        _compare_fields(ctx, symbol, old, new, fields_old, fields_new)
    old_members, new_members = _public_members(old), _public_members(new)
    skip = set(fields_old) | set(fields_new) | ({"VERSION", "CHANGES"} if is_object else set())
    for name, om in old_members.items():
        if name in skip:
            continue
        member_symbol = f"{symbol}.{name}"
        member_reach = Reach(reach.names, name) if name != "__init__" else _constructors(ctx, old, reach)
        nm = new_members.get(name)
        if nm is None:
            ctx.add(
                Finding(
                    member_symbol,
                    "removed",
                    f"{_kind(om)} {member_symbol} was removed",
                    True,
                    old=name,
                    reach=member_reach,
                )
            )
            continue
        if om.kind != nm.kind and not (_is_attribute_like(om) and _is_attribute_like(nm)):
            ctx.add(
                Finding(
                    member_symbol,
                    "kind-changed",
                    f"{member_symbol} changed from a {om.kind.value} to a {nm.kind.value}",
                    True,
                    om.kind.value,
                    nm.kind.value,
                    reach=member_reach,
                )
            )
            continue
        if isinstance(om, griffe.Function) and isinstance(nm, griffe.Function):
            role = ("both" if name == "__init__" else "implement") if implemented else "call"
            _compare_function(ctx, member_symbol, om, nm, role, member_reach)
            if implemented and "abstractmethod" in nm.labels and "abstractmethod" not in om.labels:
                ctx.add(
                    Finding(
                        member_symbol,
                        "method-made-abstract",
                        f"{member_symbol} is now abstract: every driver must implement it",
                        True,
                        reach=Reach(reach.names, name, "subclass"),
                    )
                )
        elif isinstance(om, griffe.Attribute) and isinstance(nm, griffe.Attribute):
            _compare_attribute(ctx, member_symbol, om, nm, member_reach, implemented)
    for name, nm in new_members.items():
        if name in skip or name in old_members:
            continue
        member_symbol = f"{symbol}.{name}"
        if implemented and isinstance(nm, griffe.Function) and "abstractmethod" in nm.labels:
            ctx.add(
                Finding(
                    member_symbol,
                    "abstract-method-added",
                    f"new abstract method {member_symbol}: every driver must implement it",
                    True,
                    new=name,
                    reach=Reach(reach.names, name, "subclass"),
                )
            )
        elif implemented and isinstance(nm, griffe.Attribute) and nm.value is None and nm.annotation is not None:
            ctx.add(
                Finding(
                    member_symbol,
                    "required-attribute-added",
                    f"new class attribute {member_symbol}: {nm.annotation} has no default: every driver must set it",
                    True,
                    new=str(nm.annotation),
                    reach=Reach(reach.names, name, "subclass"),
                )
            )
        else:
            ctx.add(Finding(member_symbol, "added", f"new public {_kind(nm)} {member_symbol}", False, new=name))


def _constructors(ctx: _Context, cls: griffe.Class, reach: Reach) -> Reach:
    """Who feels a change to ``cls.__init__``: code constructing it or a public class inheriting it."""
    names = set(reach.names)
    for spelling, obj in ctx.old.names.items():
        if isinstance(obj, griffe.Class) and obj.path != cls.path and _init_owner(obj) == cls.path:
            names |= {spelling, obj.path}
    return Reach(frozenset(names), None, "construct")


def _init_owner(cls: griffe.Class) -> str | None:
    """The class whose ``__init__`` ``cls`` uses (itself or its nearest ancestor defining one)."""
    for path in (cls.path, *_bases(cls)):
        owner = cls if path == cls.path else _lookup(cls.package, path)
        if isinstance(owner, griffe.Class) and "__init__" in owner.members:
            return owner.path
    return None


def _compare_attribute(
    ctx: _Context, symbol: str, old: griffe.Object, new: griffe.Object, reach: Reach, implemented: bool
) -> None:
    if not (isinstance(old, griffe.Attribute) and isinstance(new, griffe.Attribute)):
        return
    if implemented and old.value is not None and new.value is None and new.annotation is not None:
        ctx.add(
            Finding(
                symbol,
                "attribute-made-required",
                f"{symbol} lost its default {old.value}: every driver must set it",
                True,
                str(old.value),
                None,
                reach=Reach(reach.names, reach.member, "subclass"),
            )
        )
    if old.annotation is not None and new.annotation is not None:
        ot, nt = _types(ctx, old.annotation, new.annotation)
        if not _same(ctx, ot, nt):
            ctx.add(
                Finding(
                    symbol,
                    "attribute-retyped",
                    f"{symbol}: {old.annotation} -> {new.annotation}",
                    True,
                    str(old.annotation),
                    str(new.annotation),
                    reach=reach,
                )
            )


def _compare_enum(ctx: _Context, symbol: str, old: griffe.Class, new: griffe.Class) -> None:
    def members(cls: griffe.Class) -> dict[str, str]:
        return {
            n: str(a.value)
            for n, a in cls.members.items()
            if isinstance(a, griffe.Attribute)
            and not n.startswith("_")
            and a.annotation is None
            and a.value is not None
        }

    before, after = members(old), members(new)
    reach_names = ctx.names(old, new)
    for name, value in before.items():
        if name not in after:
            ctx.add(
                Finding(
                    f"{symbol}.{name}",
                    "enum-member-removed",
                    f"enum member {symbol}.{name} ({value}) was removed",
                    True,
                    value,
                    None,
                    reach=Reach(reach_names, name),
                )
            )
        elif after[name] != value:
            ctx.add(
                Finding(
                    f"{symbol}.{name}",
                    "enum-value-changed",
                    f"enum member {symbol}.{name} changed value: {value} -> {after[name]} (values are stored and sent)",
                    True,
                    value,
                    after[name],
                    reach=Reach(reach_names, name),
                )
            )
    for name, value in after.items():
        if name not in before:
            ctx.add(
                Finding(
                    f"{symbol}.{name}",
                    "enum-member-added",
                    f"new enum member {symbol}.{name} = {value}",
                    False,
                    new=value,
                )
            )


def _fields(cls: griffe.Class) -> dict[str, griffe.Attribute]:
    """The versioned object's fields (annotated, not ``ClassVar``, public), in declaration order."""
    out: dict[str, griffe.Attribute] = {}
    for name, a in cls.members.items():
        if not isinstance(a, griffe.Attribute) or name.startswith("_") or a.annotation is None:
            continue
        if "ClassVar" in str(a.annotation) or "instance-attribute" not in a.labels:
            continue
        out[name] = a
    return out


def _compare_fields(
    ctx: _Context,
    symbol: str,
    old: griffe.Class,
    new: griffe.Class,
    before: dict[str, griffe.Attribute],
    after: dict[str, griffe.Attribute],
) -> None:
    names = ctx.names(old, new)
    old_order, new_order = list(before), list(after)
    renamed: set[str] = set()
    for i, (name, a) in enumerate(before.items()):
        if name in after:
            continue
        candidate = new_order[i] if i < len(new_order) else None
        if candidate and candidate not in before:
            ot, nt = _types(ctx, a.annotation, after[candidate].annotation)
            if _same(ctx, ot, nt) and (a.value is None) == (after[candidate].value is None):
                renamed |= {name, candidate}
                ctx.add(
                    Finding(
                        f"{symbol}.{name}",
                        "field-renamed",
                        f"field {symbol}.{name} was renamed: {name} -> {candidate}",
                        True,
                        name,
                        candidate,
                        reach=Reach(names, name),
                    )
                )
                continue
        ctx.add(
            Finding(
                f"{symbol}.{name}",
                "field-removed",
                f"field {symbol}.{name}: {a.annotation} was removed",
                True,
                f"{name}: {a.annotation}",
                None,
                reach=Reach(names, name),
            )
        )
    for name, a in after.items():
        if name in before or name in renamed:
            continue
        if a.value is None:
            ctx.add(
                Finding(
                    f"{symbol}.{name}",
                    "field-added-required",
                    f"new field {symbol}.{name}: {a.annotation} has no default (every construction must pass it)",
                    True,
                    None,
                    f"{name}: {a.annotation}",
                    reach=Reach(names, name, "construct"),
                )
            )
        else:
            ctx.add(
                Finding(
                    f"{symbol}.{name}",
                    "field-added",
                    f"new field {symbol}.{name}: {a.annotation} = {a.value}",
                    False,
                    None,
                    f"{name}: {a.annotation}",
                )
            )
    for name, a in before.items():
        b = after.get(name)
        if b is None:
            continue
        field_symbol = f"{symbol}.{name}"
        ot, nt = _types(ctx, a.annotation, b.annotation)
        if not _same(ctx, ot, nt):
            ctx.add(
                Finding(
                    field_symbol,
                    "field-retyped",
                    f"field {field_symbol} changed type: {a.annotation} -> {b.annotation}",
                    True,
                    str(a.annotation),
                    str(b.annotation),
                    reach=Reach(names, name),
                )
            )
        if a.value is not None and b.value is None:
            ctx.add(
                Finding(
                    field_symbol,
                    "field-made-required",
                    f"field {field_symbol} lost its default {a.value} (every construction must pass it)",
                    True,
                    str(a.value),
                    None,
                    reach=Reach(names, name, "construct"),
                )
            )
        elif a.value is None and b.value is not None:
            ctx.add(
                Finding(
                    field_symbol,
                    "field-made-optional",
                    f"field {field_symbol} now defaults to {b.value}",
                    False,
                    None,
                    str(b.value),
                )
            )
        elif a.value is not None and b.value is not None and str(a.value) != str(b.value):
            ctx.add(
                Finding(
                    field_symbol,
                    "field-default-changed",
                    f"field {field_symbol}'s default changed: {a.value} -> {b.value}",
                    True,
                    str(a.value),
                    str(b.value),
                    reach=Reach(names, name, "construct"),
                )
            )
    kept_old = [n for n in old_order if n in after]
    kept_new = [n for n in new_order if n in before]
    for name in kept_old:
        i, j = kept_old.index(name) + 1, kept_new.index(name) + 1
        if i != j:
            ctx.add(
                Finding(
                    f"{symbol}.{name}",
                    "field-moved",
                    f"field {symbol}.{name} moved from position {i} to {j} (positional constructions now set another field)",
                    True,
                    str(i),
                    str(j),
                    reach=Reach(names, name, "construct"),
                )
            )
    ov, nv = _version_attr(old), _version_attr(new)
    if ov is not None and nv is not None and nv < ov:
        ctx.add(
            Finding(
                f"{symbol}.VERSION",
                "object-version-lowered",
                f"{symbol}.VERSION went down: {ov} -> {nv} (peers hold data of {ov})",
                True,
                str(ov),
                str(nv),
                reach=Reach(names),
            )
        )


def _version_attr(cls: griffe.Class) -> Version | None:
    attr = cls.members.get("VERSION")
    if not isinstance(attr, griffe.Attribute) or attr.value is None:
        return None
    try:
        return Version(str(attr.value).strip("'\""))
    except InvalidVersion:
        return None
