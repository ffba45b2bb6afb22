"""The test-impact map: function bodies, what counts as a body-only change, the map's file, narrowing."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from nova_split_tools.impact_map import (
    FileRecord,
    Impact,
    ImpactMap,
    MapError,
    bodies,
    changed_functions,
    git_blob,
    read_map,
    write_map,
)

SOURCE = '''"""A module."""
import functools

LIMIT = 3


def plain(a, b=1):
    """Adds."""
    total = a + b
    return total


class Box:
    size: int = 0

    def grow(self, n):
        self.size += n
        return self.size

    @property
    def empty(self):
        return self.size == 0

    @empty.setter
    def empty(self, value):
        self.size = 0 if value else 1


def outer(x):
    @functools.cache
    def inner(y):
        return y * 2

    return inner(x)


def gen():
    yield 1


async def co():
    return 1
'''


def names(text: str) -> dict[str, tuple[int, int]]:
    found = bodies(text)
    assert found is not None
    return {b.qualname: (b.start, b.end) for b in found}


def edit(old: str, new: str, text: str = SOURCE) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_bodies_name_every_function_and_leave_out_docstrings() -> None:
    assert names(SOURCE) == {
        "plain": (9, 10),  # the docstring (line 8) is not the body
        "Box.grow": (17, 18),
        "Box.empty": (22, 22),
        "Box.empty#2": (26, 26),  # the setter: a second definition of the name
        "outer": (30, 34),  # the first statement's decorator is in the body, and inner() too
        "gen": (38, 38),
        "co": (42, 42),
    }
    found = bodies(SOURCE)
    assert found is not None
    kinds = {b.qualname: b.kind for b in found}
    assert kinds["gen"] == (False, True) and kinds["co"] == (True, False) and kinds["plain"] == (False, False)


def test_a_file_that_does_not_parse_has_no_bodies() -> None:
    assert bodies("def broken(:\n") is None
    assert changed_functions(SOURCE, "def broken(:\n") is None


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    total = a + b\n", "    total = a - b\n", {"plain"}),
        ("        self.size += n\n", "        self.size += n + 1\n", {"Box.grow"}),
        ("        return y * 2\n", "        return y * 3\n", {"outer"}),  # the outermost function
        # an inserted line between two lines of one body, and one before its first statement
        ("    total = a + b\n", "    total = a + b\n    total += 0\n", {"plain"}),
        ("    total = a + b\n", "    a = int(a)\n    total = a + b\n", {"plain"}),
        # a line appended to a body
        ("        return self.size\n", "        return self.size\n        print(n)\n", {"Box.grow"}),
        # a deleted line of a body
        ("    total = a + b\n    return total\n", "    return a + b\n", {"plain"}),
        # the nested def's decorator is a statement of the outer body
        ("    @functools.cache\n", "    @functools.lru_cache\n", {"outer"}),
        ("        self.size = 0 if value else 1\n", "        self.size = 1\n", {"Box.empty#2"}),
        # an await in an async function's body: still a coroutine function
        ("    return 1\n", "    await x()\n    return 1\n", {"co"}),
        # a yield in a nested function or a lambda is not the outer function's
        ("    return total\n", "    return (lambda: (yield))\n", {"plain"}),
    ],
)
def test_a_change_inside_bodies_names_the_innermost_functions(old: str, new: str, expected: set[str]) -> None:
    assert changed_functions(SOURCE, edit(old, new)) == frozenset(expected)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("LIMIT = 3\n", "LIMIT = 4\n"),  # module level
        ("    size: int = 0\n", "    size: int = 1\n"),  # class level: a default
        ("def plain(a, b=1):\n", "def plain(a, b=2):\n"),  # a default in the signature
        ('    """Adds."""\n', '    """Adds two."""\n'),  # the docstring
        ("    @property\n", "    @functools.cached_property\n"),  # a decorator of a method
        ("def gen():\n    yield 1\n", "def gen():\n    return 1\n"),  # no longer a generator
        ("    return total\n", "    return total\n\n\nEXTRA = 1\n"),  # appended after the body
        ("    return total\n", "    yield total\n"),  # becomes a generator
        # compiles no more: every importer fails
        ("    total = a + b\n", "    break\n"),
        ("    total = a + b\n", "    nonlocal total\n"),
        # what the body does beyond calls: an import (a dependency the graph infers), a class cell
        ("    total = a + b\n", "    import json\n    total = a + b\n"),
        ("        self.size += n\n", "        super().grow(n)\n"),
        ("    total = a + b\n", "    global LIMIT\n    total = a + b\n"),
    ],
)
def test_a_change_outside_bodies_or_of_what_a_call_gives_is_not_narrowed(old: str, new: str) -> None:
    assert changed_functions(SOURCE, edit(old, new)) is None


def test_a_form_feed_does_not_shift_the_lines_a_change_is_found_at() -> None:
    text = "# a\x0cb\x0cc\nLIMIT = 10\n\n\ndef f():\n    return LIMIT\n"
    assert changed_functions(text, text.replace("LIMIT = 10", "LIMIT = 1 / 0")) is None
    assert changed_functions(text, text.replace("return LIMIT", "return -LIMIT")) == frozenset({"f"})


def test_a_body_on_its_header_line_is_never_narrowed() -> None:
    text = "def f(a,\n      b): return a\n\n\ndef g(): return 1\n"
    assert names(text) == {}
    assert changed_functions(text, text.replace("b): return a", "b: Undefined): return a")) is None
    assert changed_functions(text, text.replace("return 1", "return 2")) is None


def test_identical_texts_change_no_function() -> None:
    assert changed_functions(SOURCE, SOURCE) == frozenset()


def test_git_blob_is_gits_object_id(tmp_path: Path) -> None:
    f = tmp_path / "x.py"
    f.write_text(SOURCE)
    assert git_blob(SOURCE) == subprocess.check_output(["git", "hash-object", str(f)], text=True).strip()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def sample() -> ImpactMap:
    tests = ("t/a_test.py", "t/b_test.py", "t/c_test.py")
    rec = FileRecord(
        git_blob(SOURCE),
        imported_by=frozenset({0, 1}),
        functions={"plain": frozenset({0}), "Box.grow": frozenset(), "gen": frozenset({0, 1})},
    )
    return ImpactMap("c0ffee" * 6 + "abcd", tests, {"t/u_test.py": "it failed in the recording"}, {"m.py": rec})


def test_the_map_round_trips_through_its_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "impact" / "map.json"
    write_map(target, sample())
    write_map(target, sample())  # over an existing one
    assert read_map(target.read_text(), "map.json") == sample()
    assert [p.name for p in target.parent.iterdir()] == ["map.json"]  # no temporary file left
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()  # an ordinary file, not a private one


def _map(**changes: object) -> str:
    base: dict[str, object] = {
        "format": 1,
        "commit": "x",
        "tests": ["a_test.py", "b_test.py"],
        "untrusted": {},
        "files": {"m.py": {"blob": "b", "imported_by": [0, 1], "functions": {"f": [1]}}},
    }
    return json.dumps(base | changes)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "not JSON"),
        (_map(format=True), "format True"),
        (_map(untrusted={"a_test.py": "it failed"}), "a_test.py is both trusted and not"),
        (_map(tests=["../a_test.py", "b_test.py"]), "'../a_test.py' is not a path relative to the repository"),
        (_map(files={"/abs/m.py": {"blob": "b", "imported_by": [0], "functions": {}}}), "not a path relative"),
        (_map(files={"m.py": {"blob": "b", "imported_by": [0], "functions": {"f": [1]}}}), "did not import it"),
        ("[" * 100000 + "]" * 100000, "not JSON"),
        ("[]", "not a JSON object"),
        (json.dumps({"format": 99}), "format 99"),
        (_map(files={"m.py": {}}), "the record of m.py"),
        (_map(files={"m.py": {"blob": "b", "imported_by": [5], "functions": {}}}), "not one of the map's tests"),
        (_map(files={"m.py": {"blob": "b", "imported_by": [-1], "functions": {}}}), "not one of the map's tests"),
        (_map(files={"m.py": {"blob": "b", "imported_by": [True], "functions": {}}}), "not one of the map's tests"),
        (_map(files={"m.py": {"blob": "b", "imported_by": [0.9], "functions": {}}}), "not one of the map's tests"),
        (
            _map(files={"m.py": {"blob": "b", "imported_by": [0], "functions": {"f": "01"}}}),
            "not one of the map's tests",
        ),
        (
            '{"format": 1, "commit": "x", "tests": ["a"], "untrusted": {}, "files": {"m.py": '
            '{"blob": "b", "imported_by": [Infinity], "functions": {}}}}',
            "not one of the map's tests",
        ),  # fmt: skip
        (_map(tests="ab_test.py"), "commit or tests"),
        (_map(tests=["a_test.py", "a_test.py"]), "listed twice"),
        (_map(untrusted=["a_test.py"]), "untrusted"),
    ],
)
def test_a_broken_map_is_one_line_saying_so_and_how_to_fix_it(text: str, says: str) -> None:
    with pytest.raises(MapError, match=says) as e:
        read_map(text, "the map")
    assert "nova-split impact record" in str(e.value) and "\n" not in str(e.value)


def test_narrowing_keeps_the_executing_tests_and_every_test_the_map_cannot_vouch_for() -> None:
    impact = Impact(sample(), stale={"t/b_test.py"})
    n = impact.narrow("m.py", SOURCE, edit("    total = a + b\n", "    total = a - b\n"))
    assert n is not None and n.functions == {"plain"} and n.executing == {"t/a_test.py"}
    assert n.keep("t/a_test.py")  # executed plain()
    assert n.keep("t/b_test.py")  # stale: something it depends on changed since the recording
    assert n.keep("t/u_test.py")  # not trusted
    assert n.keep("t/new_test.py")  # not recorded
    assert n.keep("t/c_test.py")  # trusted, but never imported m.py where coverage saw it
    assert (
        not Impact(sample())
        .narrow("m.py", SOURCE, edit("    total = a + b\n", "    total = a - b\n"))
        .keep("t/b_test.py")  # type: ignore[union-attr]
    )


def test_a_function_no_test_executed_leaves_out_every_trusted_importer() -> None:
    n = Impact(sample()).narrow("m.py", SOURCE, edit("        self.size += n\n", "        self.size -= n\n"))
    assert n is not None and n.executing == frozenset()
    assert not n.keep("t/a_test.py") and not n.keep("t/b_test.py") and n.keep("t/c_test.py")


@pytest.mark.parametrize(
    ("path", "old", "new"),
    [
        (
            "m.py",
            SOURCE.replace("LIMIT = 3", "LIMIT = 5"),
            SOURCE.replace("LIMIT = 3", "LIMIT = 5").replace("a + b", "a - b"),
        ),
        ("m.py", SOURCE, edit("LIMIT = 3\n", "LIMIT = 4\n")),  # not body-only
        ("m.py", SOURCE, edit("    return inner(x)\n", "    return inner(-x)\n")),  # not in the map
        ("other.py", SOURCE, edit("    total = a + b\n", "    total = a - b\n")),  # file not recorded
        ("m.py", None, SOURCE),
        ("m.py", SOURCE, None),
        ("m.py", SOURCE, SOURCE),
    ],
)
def test_no_narrowing_where_the_map_does_not_hold(path: str, old: str | None, new: str | None) -> None:
    assert Impact(sample()).narrow(path, old, new) is None
