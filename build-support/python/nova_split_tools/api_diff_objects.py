"""The API diff's rules for versioned objects: fields (removed, renamed, moved, retyped, made required,
default changed) and ``VERSION`` (see :mod:`api_diff`)."""

from __future__ import annotations

import griffe
from packaging.version import InvalidVersion, Version

from nova_split_tools.api_diff_core import Context, Finding, Reach, is_same, types_of

__all__ = ["OBJECT_BASE", "compare_fields", "fields_of"]

OBJECT_BASE = "nova_common.objects.base.VersionedObject"


def fields_of(cls: griffe.Class) -> dict[str, griffe.Attribute]:
    """The versioned object's fields (annotated, not ``ClassVar``, public), in declaration order."""
    out: dict[str, griffe.Attribute] = {}
    for name, a in cls.members.items():
        if not isinstance(a, griffe.Attribute) or name.startswith("_") or a.annotation is None:
            continue
        if "ClassVar" in str(a.annotation) or "instance-attribute" not in a.labels:
            continue
        out[name] = a
    return out


def compare_fields(
    ctx: Context,
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
            ot, nt = types_of(ctx, a.annotation, after[candidate].annotation)
            if is_same(ctx, ot, nt) and (a.value is None) == (after[candidate].value is None):
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
        ot, nt = types_of(ctx, a.annotation, b.annotation)
        if not is_same(ctx, ot, nt):
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
                    f"field {symbol}.{name} moved from position {i} to {j}"
                    " (positional constructions now set another field)",
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
