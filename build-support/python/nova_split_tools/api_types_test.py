"""Resolved types and subtyping, as the API gate compares annotations."""

import griffe

from nova_split_tools.api_types import ANY, Type, is_subtype, resolve

INT, FLOAT, STR, NONE = Type("int"), Type("float"), Type("str"), Type("None")


def union(*ts: Type) -> Type:
    return Type("|", tuple(sorted(ts)))


def test_unions_none_and_promotions() -> None:
    assert is_subtype(INT, FLOAT) and not is_subtype(FLOAT, INT)
    assert is_subtype(INT, union(INT, NONE)) and not is_subtype(union(INT, NONE), INT)
    assert is_subtype(union(INT, FLOAT), FLOAT)
    assert is_subtype(STR, ANY) and is_subtype(ANY, STR)


def test_generics_have_their_variance() -> None:
    seq, lst = "collections.abc.Sequence", "list"
    assert is_subtype(Type(lst, (INT,)), Type(seq, (FLOAT,)))  # covariant Sequence, list is a Sequence
    assert not is_subtype(Type(lst, (INT,)), Type(lst, (FLOAT,)))  # list is invariant
    call = "collections.abc.Callable"
    takes_float = Type(call, (Type("[]", (FLOAT,)), Type("bool")))
    takes_int = Type(call, (Type("[]", (INT,)), Type("bool")))
    assert is_subtype(takes_float, takes_int) and not is_subtype(takes_int, takes_float)


def test_nominal_subclasses_come_from_the_ancestors_given() -> None:
    bases = {"pkg.Sub": {"pkg.Base"}}
    assert is_subtype(Type("pkg.Sub"), Type("pkg.Base"), lambda n: bases.get(n, set()))
    assert not is_subtype(Type("pkg.Base"), Type("pkg.Sub"), lambda n: bases.get(n, set()))


def test_type_aliases_are_compared_expanded() -> None:
    seconds = griffe.ExprName("Seconds", parent="pkg")
    as_float = resolve(seconds, alias=lambda p: "float" if p.endswith("Seconds") else None)
    as_int = resolve(seconds, alias=lambda p: "int" if p.endswith("Seconds") else None)
    assert as_float == FLOAT and as_int == INT  # one spelling, two types: a change the text hides
    assert resolve(seconds) != FLOAT  # without the alias' value it is just a name
