"""What the API diff modules share: a :class:`Finding`, its :class:`Reach`, the comparison's
context, and the type and class-hierarchy questions every rule asks (see :mod:`api_diff`)."""

from __future__ import annotations

import builtins
import importlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

import griffe

from nova_split_tools.api_surface import Surface
from nova_split_tools.api_types import Type, is_subtype, resolve

__all__ = [
    "Context",
    "Finding",
    "Reach",
    "ancestors_of",
    "is_attribute_like",
    "is_same",
    "is_sub",
    "kind_of",
    "lookup",
    "types_of",
    "with_article",
]


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


class Context:
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
            obj = lookup(package, path)
            return obj.path if obj is not None else path

        return resolve_path


def kind_of(obj: griffe.Object) -> str:
    return "method" if obj.is_function and obj.parent is not None and obj.parent.is_class else obj.kind.value


def with_article(word: str) -> str:
    """``an attribute``, ``a function``: for messages."""
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def is_attribute_like(obj: griffe.Object) -> bool:
    return obj.is_attribute or (obj.is_function and "property" in obj.labels)


def _ancestors_fn(ctx: Context) -> object:
    def ancestors(name: str) -> set[str]:
        for surface in (ctx.new, ctx.old):
            cls = lookup(surface.package, name)
            if isinstance(cls, griffe.Class):
                return set(ancestors_of(cls))
        return set()

    return ancestors


def types_of(ctx: Context, old_expr: object, new_expr: object) -> tuple[Type, Type]:
    old_pkg, new_pkg = ctx.old.package, ctx.new.package
    return (
        resolve(old_expr, ctx.canonical(old_pkg), lambda p: _alias_value(old_pkg, p)),  # type: ignore[arg-type]
        resolve(new_expr, ctx.canonical(new_pkg), lambda p: _alias_value(new_pkg, p)),  # type: ignore[arg-type]
    )


def _alias_value(package: griffe.Module, path: str) -> object | None:
    """What the package's type alias ``path`` stands for (``Clock = Callable[[], float]``), else None."""
    obj = lookup(package, path)
    if not isinstance(obj, griffe.Attribute) or not obj.parent or not obj.parent.is_module:
        return None
    if obj.annotation is not None and "TypeAlias" not in str(obj.annotation):
        return None
    value = obj.value
    return (
        value
        if isinstance(value, (griffe.ExprSubscript, griffe.ExprBinOp, griffe.ExprName, griffe.ExprAttribute))
        else None
    )


def is_sub(ctx: Context, a: Type, b: Type) -> bool:
    return is_subtype(a, b, _ancestors_fn(ctx))  # type: ignore[arg-type]


def is_same(ctx: Context, a: Type, b: Type) -> bool:
    return is_sub(ctx, a, b) and is_sub(ctx, b, a)


def ancestors_of(cls: griffe.Class) -> Iterator[str]:
    """Every ancestor of ``cls`` (canonical paths; builtins by name), nearest first."""
    seen: set[str] = set()
    todo = list(cls.bases)
    while todo:
        base = todo.pop(0)
        name = base.canonical_path if isinstance(base, (griffe.ExprName, griffe.ExprAttribute)) else str(base)
        if isinstance(base, griffe.Expr) and not isinstance(base, (griffe.ExprName, griffe.ExprAttribute)):
            name = str(base)
        target = lookup(cls.package, name) if "." in name else None
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


def lookup(package: griffe.Module, path: str) -> griffe.Object | None:
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
