"""The API diff's rules for functions and methods: parameters (names, positions, kinds, defaults,
types) and return types, with the variance of the caller's role (see :mod:`api_diff`)."""

from __future__ import annotations

import griffe

from nova_split_tools.api_diff_core import Context, Finding, Reach, is_same, is_sub, types_of

__all__ = ["compare_function"]

_POSITIONAL = {griffe.ParameterKind.positional_only, griffe.ParameterKind.positional_or_keyword}
_WAYS = {
    griffe.ParameterKind.positional_only: {"position"},
    griffe.ParameterKind.positional_or_keyword: {"position", "keyword"},
    griffe.ParameterKind.keyword_only: {"keyword"},
    griffe.ParameterKind.var_positional: {"*args"},
    griffe.ParameterKind.var_keyword: {"**kwargs"},
}


def _params(func: griffe.Function) -> list[griffe.Parameter]:
    params = list(func.parameters)
    is_method = func.parent is not None and func.parent.is_class and "staticmethod" not in func.labels
    return params[1:] if is_method and params else params


def _default(p: griffe.Parameter) -> str | None:
    return None if p.default is None else str(p.default)


def compare_function(
    ctx: Context, symbol: str, old: griffe.Function, new: griffe.Function, role: str, reach: Reach
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
            ot, nt = types_of(ctx, p.annotation, q.annotation)
            if not is_same(ctx, ot, nt):
                narrowed = calls and not is_sub(ctx, ot, nt)
                widened = implements and not is_sub(ctx, nt, ot)
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
        ot, nt = types_of(ctx, old.returns, new.returns)
        if not is_same(ctx, ot, nt):
            widened = calls and not is_sub(ctx, nt, ot)
            narrowed = implements and not is_sub(ctx, ot, nt)
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
