import random
from pathlib import Path

import pytest

from nova_split_tools.input_mutations import input_mutations
from nova_split_tools.mutations import OPERATORS, Site, apply, choose, sites

MODULE = '''"""Docstring with 1 number."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    LIMIT = 3

__all__ = ["fits", "record"]


def fits(used: int, size: int, free: int = 10) -> bool:
    """Whether size fits: 2 spaces."""
    if used + size > free:
        return False
    return True


def record(events: list[str], name: str) -> str | None:
    events.append(name)
    assert name, "never mutated"
    label = f"{name}-{len(events) + 1}"
    return label if name in events else None
'''


def _run(source: str, call: str) -> object:
    namespace: dict[str, object] = {}
    exec(compile(source, "m.py", "exec"), namespace)
    return eval(call, namespace)


def test_every_operator_has_sites_and_each_mutant_parses_and_changes_behaviour() -> None:
    found = sites(MODULE)
    assert {s.operator for s in found} == set(OPERATORS)
    for site in found:
        mutated = apply(MODULE, site)
        assert mutated != MODULE
        # the rest of the file keeps its bytes: only the site's line range differs
        before, after = MODULE.splitlines(), mutated.splitlines()
        assert len(before) == len(after)
        assert [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b] == [site.line - 1]


def test_annotations_docstrings_all_type_checking_assert_and_fstrings_are_not_mutated() -> None:
    lines = {s.line for s in sites(MODULE)}
    text = MODULE.splitlines()
    untouched = [i + 1 for i, line in enumerate(text) if "Docstring" in line or "2 spaces" in line]
    untouched += [i + 1 for i, line in enumerate(text) if "LIMIT" in line or "__all__" in line]
    untouched += [i + 1 for i, line in enumerate(text) if "assert" in line or 'f"' in line]
    assert not lines & set(untouched)


def test_mutants_change_what_the_code_does() -> None:
    by_op: dict[str, Site] = {}
    for s in sites(MODULE):
        by_op.setdefault(s.operator, s)  # the first site of each operator, in fits()
    assert _run(MODULE, "fits(5, 4)") is True
    assert _run(apply(MODULE, by_op["flip-compare"]), "fits(5, 4)") is False
    assert _run(apply(MODULE, by_op["negate-condition"]), "fits(5, 4)") is False
    assert _run(apply(MODULE, by_op["off-by-one"]), "fits(5, 6)") is True  # free=11
    assert _run(apply(MODULE, by_op["return-none"]), "fits(5, 6)") is True  # return False -> True
    events: list[str] = []
    assert _run(apply(MODULE, by_op["drop-call"]), "record") is not None
    assert _run(apply(MODULE, by_op["drop-call"]), "record")(events, "a") is None  # type: ignore[operator]
    assert events == []


def test_choice_is_seeded_and_spread_over_operators() -> None:
    assert choose(MODULE, random.Random(7)) == choose(MODULE, random.Random(7))
    chosen = {choose(MODULE, random.Random(s)).operator for s in range(40)}  # type: ignore[union-attr]
    assert chosen == set(OPERATORS)
    assert choose('"""only a docstring"""\n', random.Random(0)) is None


def test_multibyte_text_before_a_site_keeps_offsets_right() -> None:
    source = 'NAME = "é→✓"\n\n\ndef f(x: int) -> bool:\n    return x == 1\n'
    flipped = next(s for s in sites(source) if s.operator == "flip-compare")
    assert apply(source, flipped).endswith("return (x != 1)\n")


INPUTS = {
    "nova-common/common.lock": '// header\n// --- BEGIN\n{\n  "artifacts": [{"hash": "abc123", "url": "x"}]\n}\n',
    "nova-common/requirements.txt": "# comment\npackaging>=23\npytest==7.4.4\n",
    "drivers/xen/BUILD": 'nova_driver(\n    name="xen",\n    driver_class="XenDriver",\n)\n',
    "nova-common/BUILD": 'nova_common_library(entry_points={"x": {"fake": "nova_common.fake_driver:FakeDriver"}})\n',
    "pants.toml": '[pytest]\ninstall_from_resolve = "common"\nargs = ["--no-header"]\n',
    "drivers/xen/subproject.toml": '[project]\nname = "nova-xen"\nversion = "1.0.0"\n',
    "drivers/libvirt/system-deps": "# why\ncommand -v gcc | gcc\n",
    "drivers/vmware/vcsim/main.go": "package main\nfunc f(a int) bool { return a == 1 }\n",
}


def test_each_non_python_input_gets_its_edit(tmp_path: Path) -> None:
    for path, text in INPUTS.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    found = {(m.path, m.operator): m.edit(INPUTS[m.path]) for m in input_mutations(tmp_path, list(INPUTS))}
    assert '"hash": "0bc123"' in found[("nova-common/common.lock", "lock-corrupt-hash")]
    refreshed = found[("nova-common/common.lock", "lock-valid-refresh")]
    assert refreshed != INPUTS["nova-common/common.lock"] and refreshed.startswith("// header\n// --- BEGIN\n")
    assert '"hash": "abc123"' in refreshed
    assert found[("nova-common/requirements.txt", "requirements-drop")] == "# comment\npytest==7.4.4\n"
    assert 'driver_class="XenDriverAudit"' in found[("drivers/xen/BUILD", "build-rename")]
    assert "fake_driver:FakeDriverAudit" in found[("nova-common/BUILD", "build-rename")]
    assert 'args = ["-W", "error", "--no-header"]' in found[("pants.toml", "pants-toml-pytest-args")]
    assert 'version = "1.0.0.post1"' in found[("drivers/xen/subproject.toml", "subproject-version")]
    assert found[("drivers/libvirt/system-deps", "system-deps-drop")] == "# why\n"
    assert "a != 1" in found[("drivers/vmware/vcsim/main.go", "go-flip-compare")]


def test_an_input_without_a_site_offers_no_mutation(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("# nothing pinned\n")
    (tmp_path / "x.lock").write_text("not json\n")
    assert input_mutations(tmp_path, ["requirements.txt", "x.lock"]) == []


@pytest.mark.parametrize("bad", ["def f(:\n", "x = (\n"])
def test_unparsable_source_is_an_error_not_a_silent_skip(bad: str) -> None:
    with pytest.raises(SyntaxError):
        sites(bad)
