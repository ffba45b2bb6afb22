"""Annotations as resolved types, and whether one type is a subtype of another.

griffe gives an annotation as an expression whose names resolve to canonical paths; this module
turns it into a :class:`Type` (``Optional[int]``, ``typing.Union[int, None]`` and ``int | None``
are the same type; ``Instance`` and ``nova_common.objects.Instance`` too) and decides
:func:`is_subtype` with the rules a type checker applies: unions, ``None``, ``Any``, the numeric
promotions (``int`` is accepted where ``float`` is), nominal subclassing (from the package's own
classes and Python's builtins), and variance of generics (``list`` invariant, ``Sequence``
covariant, ``Callable`` contravariant in its parameters).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass

import griffe

__all__ = ["ANY", "Type", "is_subtype", "resolve"]


@dataclass(frozen=True, order=True)
class Type:
    """A resolved type: ``name`` is a canonical path (``int``, ``collections.abc.Sequence``) or one of
    ``|`` (a union of ``args``), ``None``, ``Any``, ``Literal``, ``[]`` (a parameter list) or ``...``."""

    name: str
    args: tuple[Type, ...] = ()

    def __str__(self) -> str:
        if self.name == "|":
            return " | ".join(map(str, self.args))
        if self.name == "[]":
            return "[" + ", ".join(map(str, self.args)) + "]"
        short = self.name.rpartition(".")[2] if "." in self.name else self.name
        return f"{short}[{', '.join(map(str, self.args))}]" if self.args else short


ANY = Type("Any")
NONE = Type("None")

_ALIASES = {
    **{f"typing.{n}": n.lower() for n in ("List", "Dict", "Set", "FrozenSet", "Tuple", "Type")},
    **{f"builtins.{n}": n for n in ("int", "str", "float", "bool", "bytes", "list", "dict", "set", "tuple", "object")},
    "typing.Text": "str",
    "typing.Any": "Any",
    "typing_extensions.Any": "Any",
    "typing.AbstractSet": "collections.abc.Set",
    "NoneType": "None",
    "types.NoneType": "None",
}
_ABC = (
    "Callable Iterable Iterator Collection Sequence MutableSequence Mapping MutableMapping Set MutableSet "
    "Container Sized Hashable Generator Awaitable Coroutine AsyncIterator AsyncIterable Reversible"
).split()
_ALIASES.update({f"typing.{n}": f"collections.abc.{n}" for n in _ABC if n != "Set"})
_WRAPPERS = {"typing.ClassVar", "typing.Final", "typing.Annotated", "typing_extensions.Annotated"}

_ABC_SUPERS: dict[str, tuple[str, ...]] = {
    "list": ("MutableSequence",),
    "tuple": ("Sequence",),
    "str": ("Sequence",),
    "bytes": ("Sequence",),
    "dict": ("MutableMapping",),
    "set": ("MutableSet",),
    "frozenset": ("Set",),
    "collections.abc.MutableSequence": ("Sequence",),
    "collections.abc.Sequence": ("Collection", "Reversible"),
    "collections.abc.MutableMapping": ("Mapping",),
    "collections.abc.Mapping": ("Collection",),
    "collections.abc.MutableSet": ("Set",),
    "collections.abc.Set": ("Collection",),
    "collections.abc.Collection": ("Iterable", "Sized", "Container"),
    "collections.abc.Iterator": ("Iterable",),
    "collections.abc.Generator": ("Iterator",),
    "collections.abc.Reversible": ("Iterable",),
}
#: PEP 484's numeric promotions: an ``int`` is accepted where a ``float`` is expected.
_PROMOTIONS = {"bool": ("int",), "int": ("float",), "float": ("complex",)}
_INVARIANT = {"list", "dict", "set", "collections.abc.MutableSequence", "collections.abc.MutableMapping"}
_INVARIANT |= {"collections.abc.MutableSet"}


def _normal(name: str) -> str:
    return _ALIASES.get(name, name)


def resolve(
    expr: object,
    canonical: Callable[[str], str] = lambda p: p,
    alias: Callable[[str], object | None] = lambda p: None,
) -> Type:
    """The :class:`Type` of a griffe annotation expression (a string for ``None`` and literals).

    ``canonical`` maps a resolved dotted name to the path of the object it finally names (through
    re-exports), so two spellings of one class are one type. ``alias`` gives the expression a type
    alias (``Clock = Callable[[], float]``) stands for, or None: aliases are compared expanded.
    """
    if expr is None:
        return ANY
    if isinstance(expr, str):
        text = expr.strip()
        if text in ("None", "NoneType"):
            return NONE
        if text == "...":
            return Type("...")
        return Type(_normal(canonical(text)))
    if isinstance(expr, griffe.ExprBinOp) and expr.operator == "|":
        return _union([resolve(expr.left, canonical, alias), resolve(expr.right, canonical, alias)])
    if isinstance(expr, (griffe.ExprName, griffe.ExprAttribute)):
        path = expr.canonical_path
        target = alias(canonical(path))
        if target is not None:
            return resolve(target, canonical, lambda p: None if p == canonical(path) else alias(p))
        name = _normal(path)
        if name == path:
            name = _normal(canonical(path))
        return NONE if name == "None" else Type(name)
    if isinstance(expr, griffe.ExprSubscript):
        origin = resolve(expr.left, canonical, alias).name
        items = list(expr.slice.elements) if isinstance(expr.slice, griffe.ExprTuple) else [expr.slice]
        if origin in _WRAPPERS:
            return resolve(items[0], canonical, alias)
        if origin == "typing.Optional":
            return _union([resolve(items[0], canonical, alias), NONE])
        if origin == "typing.Union":
            return _union([resolve(i, canonical, alias) for i in items])
        if origin in ("typing.Literal", "typing_extensions.Literal"):
            return Type("Literal", tuple(sorted(Type(str(i)) for i in items)))
        return Type(origin, tuple(resolve(i, canonical, alias) for i in items))
    if isinstance(expr, griffe.ExprList):
        return Type("[]", tuple(resolve(i, canonical, alias) for i in expr.elements))
    if isinstance(expr, griffe.ExprTuple):
        return Type("tuple", tuple(resolve(i, canonical, alias) for i in expr.elements))
    if isinstance(expr, griffe.Expr):
        return Type(str(expr))
    return ANY


def _union(members: list[Type]) -> Type:
    flat: set[Type] = set()
    for m in members:
        flat.update(m.args if m.name == "|" else (m,))
    if ANY in flat:
        return ANY
    return next(iter(flat)) if len(flat) == 1 else Type("|", tuple(sorted(flat)))


def _builtin_supers(name: str) -> set[str]:
    value = getattr(builtins, name, None)
    if isinstance(value, type):
        return {c.__name__ for c in value.__mro__[1:]}
    return set()


def supertypes(name: str, ancestors: Callable[[str], set[str]]) -> set[str]:
    """Every nominal supertype of ``name``: its ancestors, promotions and the ABCs it implements."""
    out: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        nxt = set(ancestors(current)) | _builtin_supers(current) | set(_PROMOTIONS.get(current, ()))
        nxt |= {f"collections.abc.{a}" for a in _ABC_SUPERS.get(current, ())}
        for n in nxt - out:
            out.add(n)
            todo.append(n)
    return out


def _literal_type(value: Type) -> Type:
    if value.name[:1] in "'\"":
        return Type("str")
    return Type("bool") if value.name in ("True", "False") else Type("int")


def is_subtype(a: Type, b: Type, ancestors: Callable[[str], set[str]] = lambda _: set()) -> bool:
    """Whether every value of ``a`` is a value of ``b``; ``ancestors`` gives a class's base classes."""
    if a == b or ANY in (a, b) or b.name == "object":
        return True
    if a.name == "|":
        return all(is_subtype(x, b, ancestors) for x in a.args)
    if b.name == "|":
        return any(is_subtype(a, y, ancestors) for y in b.args)
    if NONE in (a, b):
        return False
    if a.name == "Literal":
        if b.name == "Literal":
            return set(a.args) <= set(b.args)
        return all(is_subtype(_literal_type(x), b, ancestors) for x in a.args)
    if a.name != b.name and b.name not in supertypes(a.name, ancestors):
        return False
    if not a.args or not b.args:
        return True  # a bare generic means "of anything"
    if b.name == "collections.abc.Callable" and a.name == b.name and len(a.args) == len(b.args) == 2:
        params_a, params_b = a.args[0], b.args[0]
        if "..." not in (params_a.name, params_b.name):
            if len(params_a.args) != len(params_b.args):
                return False
            if not all(is_subtype(pb, pa, ancestors) for pa, pb in zip(params_a.args, params_b.args, strict=True)):
                return False
        return is_subtype(a.args[1], b.args[1], ancestors)
    if a.name == b.name == "tuple":
        if len(b.args) == 2 and b.args[1].name == "...":
            return all(is_subtype(x, b.args[0], ancestors) for x in a.args if x.name != "...")
        if len(a.args) != len(b.args):
            return False
    if len(a.args) != len(b.args):
        return True  # different generic shapes (dict vs Iterable): compare nominally only
    invariant = b.name in _INVARIANT
    for i, (x, y) in enumerate(zip(a.args, b.args, strict=True)):
        key_of_mapping = i == 0 and b.name.endswith("Mapping")
        if invariant or key_of_mapping:
            if not (is_subtype(x, y, ancestors) and is_subtype(y, x, ancestors)):
                return False
        elif not is_subtype(x, y, ancestors):
            return False
    return True
