"""The API diff's rules for classes: bases, members, abstract methods and attributes drivers must set
(``ComputeDriver``), exception ancestry and enum members (see :mod:`api_diff`)."""

from __future__ import annotations

import builtins

import griffe

from nova_split_tools.api_diff_core import (
    Context,
    Finding,
    Reach,
    ancestors_of,
    is_attribute_like,
    is_same,
    kind_of,
    lookup,
    types_of,
    with_article,
)
from nova_split_tools.api_diff_functions import compare_function
from nova_split_tools.api_diff_objects import OBJECT_BASE, compare_fields, fields_of
from nova_split_tools.api_surface import IMPLEMENTED

__all__ = ["compare_attribute", "compare_class"]

_ENUM_BASES = {"enum.Enum", "enum.IntEnum", "enum.StrEnum", "enum.Flag", "enum.IntFlag"}


def _public_members(cls: griffe.Class) -> dict[str, griffe.Object]:
    out: dict[str, griffe.Object] = {}
    for name, member in cls.members.items():
        if name.startswith("_") and name != "__init__":
            continue
        if isinstance(member, griffe.Alias):
            continue
        out[name] = member
    return out


def compare_class(ctx: Context, symbol: str, old: griffe.Class, new: griffe.Class, reach: Reach) -> None:
    old_bases, new_bases = list(ancestors_of(old)), list(ancestors_of(new))
    implemented = old.path in IMPLEMENTED or new.path in IMPLEMENTED
    is_exception = "BaseException" in old_bases
    is_enum = bool(_ENUM_BASES & set(old_bases))
    is_object = OBJECT_BASE in old_bases
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
    fields_old = fields_of(old) if is_object else {}
    fields_new = fields_of(new) if is_object else {}
    if is_object:
        compare_fields(ctx, symbol, old, new, fields_old, fields_new)
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
                    f"{kind_of(om)} {member_symbol} was removed",
                    True,
                    old=name,
                    reach=member_reach,
                )
            )
            continue
        if om.kind != nm.kind and not (is_attribute_like(om) and is_attribute_like(nm)):
            ctx.add(
                Finding(
                    member_symbol,
                    "kind-changed",
                    f"{member_symbol} changed from {with_article(om.kind.value)} to {with_article(nm.kind.value)}",
                    True,
                    om.kind.value,
                    nm.kind.value,
                    reach=member_reach,
                )
            )
            continue
        if isinstance(om, griffe.Function) and isinstance(nm, griffe.Function):
            role = ("both" if name == "__init__" else "implement") if implemented else "call"
            compare_function(ctx, member_symbol, om, nm, role, member_reach)
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
            compare_attribute(ctx, member_symbol, om, nm, member_reach, implemented)
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
            ctx.add(Finding(member_symbol, "added", f"new public {kind_of(nm)} {member_symbol}", False, new=name))


def _constructors(ctx: Context, cls: griffe.Class, reach: Reach) -> Reach:
    """Who feels a change to ``cls.__init__``: code constructing it or a public class inheriting it."""
    names = set(reach.names)
    for spelling, obj in ctx.old.names.items():
        if isinstance(obj, griffe.Class) and obj.path != cls.path and _init_owner(obj) == cls.path:
            names |= {spelling, obj.path}
    return Reach(frozenset(names), None, "construct")


def _init_owner(cls: griffe.Class) -> str | None:
    """The class whose ``__init__`` ``cls`` uses (itself or its nearest ancestor defining one)."""
    for path in (cls.path, *ancestors_of(cls)):
        owner = cls if path == cls.path else lookup(cls.package, path)
        if isinstance(owner, griffe.Class) and "__init__" in owner.members:
            return owner.path
    return None


def compare_attribute(
    ctx: Context, symbol: str, old: griffe.Object, new: griffe.Object, reach: Reach, implemented: bool
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
        ot, nt = types_of(ctx, old.annotation, new.annotation)
        if not is_same(ctx, ot, nt):
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


def _compare_enum(ctx: Context, symbol: str, old: griffe.Class, new: griffe.Class) -> None:
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
