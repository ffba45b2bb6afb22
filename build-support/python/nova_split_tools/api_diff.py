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

import griffe

from nova_split_tools.api_diff_classes import compare_attribute, compare_class
from nova_split_tools.api_diff_core import Context, Finding, Reach, is_attribute_like, kind_of, with_article
from nova_split_tools.api_diff_functions import compare_function
from nova_split_tools.api_surface import Surface

__all__ = ["Finding", "Reach", "compare"]


def compare(old: Surface, new: Surface) -> list[Finding]:
    """Every finding between ``old`` and ``new``, breaks first, one per (symbol, kind)."""
    ctx = Context(old, new)
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
        ctx.add(Finding(spellings[0], "added", f"new public {kind_of(new.names[spellings[0]])} {spellings[0]}", False))
    return sorted(ctx.findings.values(), key=lambda f: (not f.breaking, f.symbol, f.kind))


def _removed_or_renamed(ctx: Context, symbol: str, old_obj: griffe.Object) -> None:
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
            f"{kind_of(old_obj)} {symbol} was removed",
            True,
            old=symbol,
            reach=Reach(ctx.names(old_obj, None)),
        )
    )


def _shape(obj: griffe.Object) -> str:
    """What a renamed object keeps: its kind and signature (or members)."""
    if isinstance(obj, griffe.Function):
        params = ", ".join(f"{p.kind.value}:{p.name}:{p.annotation}:{p.default}" for p in obj.parameters)
        return f"function({params})->{obj.returns}"
    if isinstance(obj, griffe.Class):
        return f"class[{', '.join(sorted(obj.members))}]"
    return f"{obj.kind.value}:{getattr(obj, 'annotation', None)}:{getattr(obj, 'value', None)}"


def _compare_object(ctx: Context, symbol: str, old: griffe.Object, new: griffe.Object) -> None:
    reach = Reach(ctx.names(old, new))
    if old.kind != new.kind and not (is_attribute_like(old) and is_attribute_like(new)):
        ctx.add(
            Finding(
                symbol,
                "kind-changed",
                f"{symbol} changed from {with_article(old.kind.value)} to {with_article(new.kind.value)}",
                True,
                old=old.kind.value,
                new=new.kind.value,
                reach=reach,
            )
        )
        return
    if isinstance(old, griffe.Function) and isinstance(new, griffe.Function):
        compare_function(ctx, symbol, old, new, "call", reach)
    elif isinstance(old, griffe.Class) and isinstance(new, griffe.Class):
        compare_class(ctx, symbol, old, new, reach)
    elif isinstance(old, griffe.Attribute) and isinstance(new, griffe.Attribute):
        compare_attribute(ctx, symbol, old, new, reach, implemented=False)
