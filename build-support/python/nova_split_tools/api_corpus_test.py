"""The API gate over its corpus: every scenario is a real repository with a release tag and one change.

Each break must fail at a minor bump with exactly its kind and name exactly the drivers whose code
uses the changed member, and pass at a major bump; each addition needs a minor bump; each
harmless change passes untouched (see nova_split_tools.testing.api_corpus).
"""

from pathlib import Path

import pytest

from nova_split_tools.testing.api_corpus import SCENARIOS, Scenario, check, make_base


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_base(tmp_path_factory.mktemp("corpus") / "base")


def test_the_corpus_covers_every_break_kind_and_compatible_look_alikes() -> None:
    kinds = {k for s in SCENARIOS if s.verdict == "break" for k in s.kinds}
    assert len(SCENARIOS) >= 40
    assert {
        "removed",
        "renamed",
        "parameter-removed",
        "parameter-renamed",
        "parameter-moved",
        "parameter-added-required",
        "parameter-kind-changed",
        "parameter-default-changed",
        "parameter-made-required",
        "parameter-type-changed",
        "return-type-changed",
        "field-removed",
        "field-retyped",
        "field-made-required",
        "field-added-required",
        "enum-member-removed",
        "enum-value-changed",
        "exception-base-changed",
        "abstract-method-added",
        "method-made-abstract",
        "required-attribute-added",
        "object-version-lowered",
    } <= kinds
    assert {s.verdict for s in SCENARIOS} == {"break", "addition", "silent"}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_scenario(scenario: Scenario, base: Path, tmp_path: Path) -> None:
    assert check(base, scenario, tmp_path) == []
