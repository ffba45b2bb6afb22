"""Member-level change detection: which identifiers a change of a module alters, and who refers to them."""

import pytest

from nova_split_tools.api_reach import EVERYTHING, SUBCLASS, affected_units, changed_units, references

FLAVOR = '''"""Flavor."""
from nova_common.objects.base import VersionedObject


def _gib(mb):
    return mb // 1024


class Flavor(VersionedObject):
    """The size."""

    VERSION = "1.0"
    vcpus: int
    memory_mb: int
    ephemeral_gb: int = 0

    def memory_gb(self):
        return _gib(self.memory_mb)

    def summary(self):
        return f"{self.vcpus} / {self.memory_gb()}"

    def __repr__(self):
        return "Flavor"
'''


@pytest.mark.parametrize(
    "old,new,idents",
    [
        ("ephemeral_gb: int = 0", "ephemeral_gb: int = 1", {"ephemeral_gb"}),  # a default
        ("ephemeral_gb: int = 0", "ephemeral_gb: int", {"ephemeral_gb", "Flavor"}),  # made required
        ("    ephemeral_gb: int = 0\n", "", {"ephemeral_gb", "Flavor"}),  # removed
        ("return mb // 1024", "return mb // 1000", {"_gib", "memory_gb", "summary"}),  # a helper, its callers
        ('"The size."', '"The flavor size."', set()),  # a docstring
        ('VERSION = "1.0"', 'VERSION = "1.1"', {"Flavor", "VERSION"}),  # a constant: its class, its name
        ('return "Flavor"', 'return "F"', {"Flavor"}),  # a dunder
        ("class Flavor(VersionedObject):", "class Flavor(object):", {"Flavor"}),  # the header
        ("import VersionedObject", "import VersionedObject, obj_field", {"obj_field"}),  # an import
        ("    vcpus: int\n    memory_mb: int\n", "    memory_mb: int\n    vcpus: int\n", {"Flavor"}),  # field order
        ('    VERSION = "1.0"\n    vcpus: int\n', '    vcpus: int\n    VERSION = "1.0"\n', {"Flavor"}),  # data order
    ],
)
def test_changed_units(old: str, new: str, idents: set[str]) -> None:
    assert old in FLAVOR
    changed = changed_units(FLAVOR, FLAVOR.replace(old, new))
    assert changed is not None
    assert {i for i in changed if not i.startswith(SUBCLASS)} == idents
    # a member or the class changed: subclasses inherit it
    assert (SUBCLASS + "Flavor" in changed) == bool(idents - {"_gib", "obj_field"})


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (  # a constant computed by a method defined above it
            "class C:\n    def _mk():\n        return 1\n    X = _mk()\n",
            "class C:\n    X = _mk()\n    def _mk():\n        return 1\n",
        ),
        (  # a decorator argument defined above the method
            "class C:\n    K = 1\n    @deco(K)\n    def m(self):\n        pass\n",
            "class C:\n    @deco(K)\n    def m(self):\n        pass\n    K = 1\n",
        ),
        (  # a property before its setter
            "class C:\n    @staticmethod\n    def a():\n        pass\n    def b(self):\n        pass\n",
            "class C:\n    def b(self):\n        pass\n    @staticmethod\n    def a():\n        pass\n",
        ),
    ],
    ids=["constant-after-method", "decorator-argument", "decorated-method"],
)
def test_members_whose_order_a_user_sees_change_the_class(old: str, new: str) -> None:
    changed = changed_units(old, new)
    assert changed is not None and "C" in changed


def test_methods_in_another_order_change_nothing() -> None:
    """Only data members have an order a user sees (construction by position, iteration)."""
    method = "    def memory_gb(self):\n        return _gib(self.memory_mb)\n\n"
    moved = FLAVOR.replace(method, "").replace('    VERSION = "1.0"\n', method + '    VERSION = "1.0"\n')
    assert moved != FLAVOR and moved.count("def memory_gb") == 1
    assert changed_units(FLAVOR, moved) == frozenset()


@pytest.mark.parametrize(
    "new",
    [FLAVOR + "\nprint('loaded')\n", FLAVOR.replace("class Flavor", "class Flavor(:"), None],
)
def test_what_cannot_be_narrowed_is_the_whole_file(new: str | None) -> None:
    assert changed_units(FLAVOR, new) is None
    assert changed_units(None, FLAVOR) is None


def test_affected_units_flow_through_a_dependent_module() -> None:
    instance = (
        "from nova_common.objects.flavor import Flavor\nclass Instance:\n    flavor: Flavor\n"
        "    def cores(self):\n        return self.flavor.vcpus\n"
    )
    assert affected_units(instance, frozenset({"vcpus"})) == frozenset({"cores", SUBCLASS + "Instance"})
    # the field typed Flavor changes, and so does every member that reads it
    assert affected_units(instance, frozenset({"Flavor"})) == frozenset(
        {"Flavor", "flavor", "cores", SUBCLASS + "Instance"}
    )
    assert affected_units(instance, frozenset({"memory_mb"})) == frozenset()
    assert affected_units("register(Flavor)\n", frozenset({"Flavor"})) is None  # module-level code uses it
    assert affected_units("x = (\n", frozenset({"a"})) is None


def test_references() -> None:
    assert {"Flavor", "vcpus", "spawn", "memory_mb"} <= references(
        "from nova_common.objects import Flavor\nclass D:\n    def spawn(self, f: Flavor):\n"
        "        return f.vcpus, dict(memory_mb=1), getattr(f, 'x')\n"
    )
    assert "__all__" not in references("__all__ = ['x']\n")
    assert references("from nova_common.objects import *\n") is EVERYTHING
    assert references("def f(o, k):\n    return getattr(o, k)\n") is EVERYTHING
    assert references("def f(o):\n    return o.__dict__\n") is EVERYTHING
    assert references("x = (\n") is EVERYTHING


def test_a_subclass_inherits_changed_members_it_never_names() -> None:
    suite = "class DriverConformance:\n    def test_boot(self):\n        assert True\n"
    changed = changed_units(suite, suite.replace("True", "False"))
    # a suite: changed by its name too (whatever makes a class of it may run its tests)
    assert changed == frozenset({"test_boot", "DriverConformance", SUBCLASS + "DriverConformance"})
    driver_test = (
        "from nova_common.testing.conformance import DriverConformance\n"
        "class TestXen(DriverConformance):\n    pass\n"
    )
    assert changed is not None
    assert changed & references(driver_test)
    # naming the suite is enough (a factory may make a class of it); naming neither it nor the test is not
    assert changed & references("from nova_common.testing.conformance import DriverConformance\n")
    assert not changed & references("from nova_common.testing.conformance import other\n")


def test_a_helper_change_reaches_subclasses_of_the_suite_that_calls_it() -> None:
    suite = (
        "from nova_common.testing.factories import make_instance\n"
        "class DriverConformance:\n    def test_boot(self):\n        make_instance()\n"
    )
    assert affected_units(suite, frozenset({"make_instance"})) == frozenset(
        {"make_instance", "test_boot", SUBCLASS + "DriverConformance"}
    )


def test_a_changed_member_reaches_subclasses_of_its_subclasses() -> None:
    """``_Checks`` -> ``DriverConformance(_Checks)`` -> a driver's ``TestXen(DriverConformance)``:
    the driver test runs the changed method and names neither ``_Checks`` nor the method."""
    suite = (
        "class _Checks:\n    def test_ok(self):\n        assert True\n\n"
        "class Middle(_Checks):\n    pass\n\n"
        "class DriverConformance(Middle):\n    def test_boot(self):\n        pass\n"
    )
    changed = changed_units(suite, suite.replace("True", "False"))
    assert changed is not None
    assert {SUBCLASS + "_Checks", SUBCLASS + "Middle", SUBCLASS + "DriverConformance"} <= changed
    assert changed & references("import c\nclass TestXen(c.DriverConformance):\n    pass\n")
    # only the classes below the changed one: a sibling's subclasses are not reached
    sibling = suite + "\nclass Other:\n    def test_other(self):\n        pass\n"
    changed = changed_units(sibling, sibling.replace("True", "False"))
    assert changed is not None and SUBCLASS + "Other" not in changed


def test_a_class_in_a_dependent_module_passes_on_its_bases_change() -> None:
    """``base.py``'s ``Base`` changed a member; ``conformance.py`` subclasses it: its subclasses inherit it."""
    dependent = (
        "from pkg.base import Base\n\n"
        "class DriverConformance(Base):\n    pass\n\n"
        "class Deeper(DriverConformance):\n    pass\n"
    )
    aff = affected_units(dependent, frozenset({"check", SUBCLASS + "Base"}))
    assert aff is not None and {SUBCLASS + "DriverConformance", SUBCLASS + "Deeper"} <= aff
    assert affected_units(dependent, frozenset({"check"})) == frozenset()  # a member of no base of theirs


_SUITE = "class _Checks:\n    def test_ok(self):\n        assert True\n\n"


@pytest.mark.parametrize(
    "tail",
    [
        "_Base = _Checks\n\nclass DriverConformance(_Base):\n    pass\n",  # an alias
        "class DriverConformance(_Checks[int]):\n    pass\n",  # a subscripted (generic) base
        "class DriverConformance(with_meta(_Checks)):\n    pass\n",  # a base made by a call
        "def _make():\n    class C(_Checks):\n        pass\n    return C\n\nDriverConformance = _make()\n",
        "DriverConformance = type('DriverConformance', (_Checks,), {})\n",
    ],
)
def test_a_changed_member_reaches_the_suite_made_from_its_class_however_it_is_spelled(tail: str) -> None:
    suite = _SUITE + tail
    changed = changed_units(suite, suite.replace("True", "False"))
    driver_test = (
        "from nova_common.testing.conformance import DriverConformance\nclass TestXen(DriverConformance):\n    pass\n"
    )
    assert changed is not None and changed & references(driver_test), changed


def test_a_class_made_under_an_if_cannot_be_narrowed() -> None:
    suite = _SUITE + "if True:\n    class DriverConformance(_Checks):\n        pass\n"
    assert changed_units(suite, suite.replace("True:\n", "True:\n", 1).replace("assert True", "assert False")) is None
    dependent = "from a import _Checks\nif FLAG:\n    class DriverConformance(_Checks):\n        pass\n"
    assert affected_units(dependent, frozenset({"test_ok", SUBCLASS + "_Checks"})) is None


@pytest.mark.parametrize(
    "dependent",
    [
        "from a import _Checks as Base\n\nclass DriverConformance(Base):\n    pass\n",  # an import alias
        "from a import _Checks as DriverConformance\n",  # a re-export under another name
    ],
)
def test_a_dependent_module_passes_an_inherited_change_on_under_its_own_names(dependent: str) -> None:
    aff = affected_units(dependent, frozenset({"test_ok", SUBCLASS + "_Checks"}))
    assert aff is not None and SUBCLASS + "DriverConformance" in aff, aff


@pytest.mark.parametrize(
    "driver_test",
    [
        "from nova_common.testing.conformance import DriverConformance as Conformance\n"
        "class TestXen(Conformance):\n    pass\n",
        "from nova_common.testing import conformance\nBase = conformance.DriverConformance\n"
        "class TestXen(Base):\n    pass\n",
        "from nova_common.testing.conformance import DriverConformance\n"
        "TestXen = type('TestXen', (DriverConformance,), {})\n",
        "from nova_common.testing.conformance import DriverConformance as TestXen\n",  # collected by pytest
        "from nova_common.testing.conformance import DriverConformance\nTestXen = DriverConformance\n",
    ],
)
def test_a_driver_test_inherits_the_suite_under_any_name(driver_test: str) -> None:
    assert SUBCLASS + "DriverConformance" in references(driver_test)


def test_naming_a_class_is_not_inheriting_it() -> None:
    """A driver that only uses ``Flavor`` is not reached by a change to a member it does not use."""
    refs = references("from nova_common.objects import Flavor\ndef f(x: Flavor):\n    return Flavor(vcpus=1)\n")
    assert SUBCLASS + "Flavor" not in refs
    assert SUBCLASS + "Flavor" not in references("from nova_common.objects import Flavor as F\nx = F(vcpus=1)\n")


_CHECKS = "class Checks:\n    def test_a(self):\n        assert 1\n"
_DRIVER = (
    "from nova_common.testing.conformance import DriverConformance\nclass TestLibvirt(DriverConformance):\n    pass\n"
)


def _through(suffix: str, *dependents: str, driver: str = _DRIVER) -> bool:
    """Whether a change to ``Checks.test_a`` (in a module ending with ``suffix``), passed on through
    ``dependents`` in turn, reaches ``driver``; None from a step (cannot narrow) reaches it."""
    idents = changed_units(_CHECKS + suffix, _CHECKS.replace("1", "2") + suffix)
    if idents is None:
        return True
    for text in dependents:
        more = affected_units(text, idents)
        if more is None:
            return True
        idents |= more
    return bool(references(driver) & idents)


@pytest.mark.parametrize(
    "dependent",
    [
        "from a import Checks\nfrom b import make_suite\nDriverConformance = make_suite(Checks)\n",  # a factory
        "from a import Checks\n@mixin(Checks)\nclass DriverConformance:\n    pass\n",  # a decorator
        "try:\n    from a import Checks as Base\nexcept ImportError:\n    Base = object\n"
        "class DriverConformance(Base):\n    pass\n",  # a conditional import
        "from a import Checks\nBASES = (Checks,)\nclass DriverConformance(*BASES):\n    pass\n",  # a tuple
        "import types\nfrom a import Checks\nDriverConformance = types.new_class('DriverConformance', (Checks,))\n",
        "import a\nBase = getattr(a, 'Checks')\nclass DriverConformance(Base):\n    pass\n",
    ],
)
def test_a_changed_suite_is_followed_by_its_name_through_whatever_makes_a_class_of_it(dependent: str) -> None:
    assert _through("", dependent)


@pytest.mark.parametrize(
    "suffix",
    [
        "try:\n    Base = Checks\nexcept Exception:\n    pass\nclass DriverConformance(Base):\n    pass\n",
        "def mk(b):\n    return type('X', (b,), {})\nDriverConformance = mk(Checks)\n",
    ],
)
def test_a_changed_suite_is_followed_by_its_name_in_its_own_module(suffix: str) -> None:
    assert _through(suffix)


@pytest.mark.parametrize(
    "driver",
    [
        "import types\nfrom nova_common.testing.conformance import Checks\n"
        "TestD = types.new_class('TestD', (Checks,))\n",
        "from nova_common.testing.conformance import Checks\n"
        "def mk(b):\n    return type('T', (b,), {})\nTestD = mk(Checks)\n",
    ],
)
def test_a_driver_that_makes_its_suite_without_a_class_statement(driver: str) -> None:
    assert _through("", driver=driver)


def test_fixtures_are_followed_by_the_parameters_that_request_them() -> None:
    fixture = "def fake_conn():\n    yield 1\n"  # (registered by a plugin elsewhere)
    idents = changed_units(fixture, fixture.replace("1", "2"))
    assert idents is not None and "fake_conn" in idents
    assert references("def test_boot(fake_conn):\n    assert True\n") & idents  # requested, never called
    suite = "class Checks:\n    def test_b(self, fake_conn):\n        pass\n"
    assert SUBCLASS + "Checks" in (affected_units(suite, idents) or frozenset())


def test_a_testcase_is_a_suite_whatever_its_name() -> None:
    case = "class ConformanceCase(TestCase):\n    def test_a(self):\n        assert 1\n"  # TestCase from elsewhere
    idents = changed_units(case, case.replace("1", "2"))
    assert idents is not None
    assert references("from nova_common.testing import ConformanceCase  # noqa: F401\n") & idents


@pytest.mark.parametrize(
    "module",
    [
        "import pytest\n@pytest.fixture(name='conn')\ndef _conn_fixture():\n    yield 1\n",  # requested as 'conn'
        "import unittest\nclass AsyncBase(unittest.IsolatedAsyncioTestCase):\n    async def asyncSetUp(self):\n"
        "        self.x = 1\n",
        "from pytest import fixture\nTIMEOUT = 1\nclass Checks:\n    def test_a(self):\n        wait(TIMEOUT)\n",
        "import pytest\nclass Checks:\n    def test_base(self):\n        pass\n"
        "def _add(cls):\n    for n in (1,):\n        setattr(cls, f'test_{n}', lambda self: None)\n_add(Checks)\n",
    ],
)
def test_test_code_changes_by_its_file(module: str) -> None:
    """Test code (it imports a test framework) runs by names no caller spells: never narrowed."""
    assert changed_units(module, module.replace("1", "2")) is None
    if "wait" in module:  # it refers to a changed helper: all of it may change
        assert affected_units(module, frozenset({"wait"})) is None
    assert affected_units(module, frozenset({"unrelated"})) == frozenset()  # not referred to: not reached


def test_dotted_strings_name_each_part() -> None:
    """``mock.patch`` targets and ``pytest_plugins`` entries name what they reach."""
    refs = references("from unittest import mock\n@mock.patch('nova_common.utils.execute')\ndef test_x(m):\n    pass\n")
    assert {"utils", "execute"} <= refs
    assert "fixtures" in references("pytest_plugins = ['nova_common.testing.fixtures']\n")
    assert not {"a", "b"} & references("x = 'a b'\n")


def test_a_changed_object_is_still_followed_by_member_only() -> None:
    """Not a suite: a driver that uses Flavor is reached only when it names the changed member."""
    flavor = "class Flavor:\n    memory_mb: int = 0\n    ephemeral_gb: int = 0\n"
    idents = changed_units(flavor, flavor.replace("ephemeral_gb: int = 0", "ephemeral_gb: int = 1"))
    assert idents is not None and "Flavor" not in idents
    assert (
        not references("from nova_common.objects import Flavor\ndef f(x: Flavor):\n    return x.memory_mb\n") & idents
    )


def test_a_class_body_alias_is_reached_by_its_own_name() -> None:
    """``memory_gb = property(_get_gb)``: a driver reads ``instance.flavor.memory_gb``, naming no class."""
    flavor = (
        "class Flavor:\n    memory_mb: int\n    def _get_gb(self):\n        return self.memory_mb // 1024\n"
        "    memory_gb = property(_get_gb)\n"
    )
    idents = changed_units(flavor, flavor.replace("1024", "1000"))
    assert idents is not None and "memory_gb" in idents
    assert references("def get_mem(instance):\n    return instance.flavor.memory_gb\n") & idents


def test_an_abstract_method_added_changes_every_instantiation() -> None:
    base = "import abc\nclass ComputeDriver(abc.ABC):\n    @abc.abstractmethod\n    def spawn(self):\n        pass\n"
    new = base + "    @abc.abstractmethod\n    def cleanup_host(self):\n        pass\n"
    idents = changed_units(base, new)
    assert idents is not None and "ComputeDriver" in idents
    fake = (
        "from nova_common import driver\n"
        "class FakeDriver(driver.ComputeDriver):\n    def spawn(self):\n        pass\n"
    )
    aff = affected_units(fake, idents)
    assert aff is not None and "FakeDriver" in aff  # FakeDriver() now raises TypeError
    assert references("from nova_common import fake_driver\ndef test_x():\n    fake_driver.FakeDriver().spawn()\n") & (
        idents | aff
    )


@pytest.mark.parametrize(
    "text",
    [
        "import operator\ndef f(x, names):\n    return operator.attrgetter(*names)(x)\n",
        "import inspect\ndef f(x):\n    return inspect.getmembers(x, inspect.ismethod)\n",
        "def f(x, n):\n    return x.__getattribute__(n)\n",
        "def f(x, n):\n    return object.__getattribute__(x, n)\n",
    ],
)
def test_attributes_reached_by_computed_names_may_be_anything(text: str) -> None:
    assert references(text) is EVERYTHING


def test_attributes_reached_by_constant_names_are_spelled() -> None:
    refs = references("import operator\ndef f(x):\n    return operator.attrgetter('memory_mb')(x)\n")
    assert refs is not EVERYTHING and "memory_mb" in refs


def test_members_read_by_a_class_pattern_or_a_format_string_are_spelled() -> None:
    match = "def f(x):\n    match x:\n        case Flavor(disk_gb=d):\n            return d\n"
    assert "disk_gb" in references(match)
    assert {"disk_gb", "root_gb"} <= references("def f(x):\n    return '{0.disk_gb} {x.root_gb}'.format(x)\n")
    assert {"flavor", "vcpus"} <= references("def f(i):\n    return '{i.flavor[0].vcpus}'.format(i=i)\n")
    assert references("x = '{'\n") is not EVERYTHING  # not a format string: nothing from it
