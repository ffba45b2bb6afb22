"""The package's own names (``nova_common.ComputeDriver``) are loaded on first use, not on import."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import nova_common
from nova_common import api_version, driver, power, virtapi
from nova_common.compute import names

#: what the package promises (its docstring and __all__): each name, and the module defining it
PROMISED = {
    "DRIVER_API_VERSION": api_version,
    "APIVersion": api_version,
    "APIVersionRange": api_version,
    "ComputeDriver": driver,
    "VirtAPI": virtapi,
}


def _fresh(code: str) -> str:
    """Run ``code`` in a new interpreter (nothing of nova_common imported yet); its stdout."""
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_importing_one_module_of_the_package_loads_none_of_the_driver_api() -> None:
    loaded = _fresh(
        f"import sys, {names.__name__}\n" "print('\\n'.join(m for m in sys.modules if m.startswith('nova_common')))"
    ).split()
    assert "nova_common" in loaded and names.__name__ in loaded
    assert not {"nova_common.driver", "nova_common.virtapi", "nova_common.api_version", "nova_common.objects"} & set(
        loaded
    ), loaded


def test_a_name_is_loaded_on_first_use_in_a_fresh_interpreter() -> None:
    out = _fresh(
        "import sys, nova_common\n"
        "assert 'nova_common.driver' not in sys.modules\n"
        "from nova_common import ComputeDriver, DRIVER_API_VERSION\n"
        "print(ComputeDriver.__module__, 'nova_common.driver' in sys.modules, DRIVER_API_VERSION.major)"
    )
    assert out.split() == ["nova_common.driver", "True", str(api_version.DRIVER_API_VERSION.major)]


@pytest.mark.parametrize("name", sorted(PROMISED))
def test_each_name_is_the_same_object_as_in_its_module(name: str) -> None:
    assert getattr(nova_common, name) is getattr(PROMISED[name], name)


def test_the_import_statement_form_works() -> None:
    from nova_common import APIVersionRange, ComputeDriver, VirtAPI  # noqa: TID251 (the form under test)

    assert (ComputeDriver, VirtAPI, APIVersionRange) == (
        driver.ComputeDriver,
        virtapi.VirtAPI,
        api_version.APIVersionRange,
    )


def test_all_and_dir_list_exactly_the_promised_names() -> None:
    assert sorted(nova_common.__all__) == sorted(PROMISED)
    assert set(PROMISED) <= set(dir(nova_common))


def test_a_module_not_imported_yet_is_an_attribute_error_that_says_to_import_it() -> None:
    """``import nova_common`` once loaded the driver API's modules as a side effect."""
    name = power.__name__  # nova_common.power: in this test's sandbox, not loaded by the package
    out = _fresh(
        "import nova_common\n"
        f"try:\n    nova_common.{name.split('.')[1]}\nexcept AttributeError as e:\n    print(e)\n"
        f"import {name}\nprint({name}.__name__)"
    )
    assert out.splitlines() == [
        f"module 'nova_common' has no attribute 'power': import {name} "
        "(the package does not import its modules itself)",
        name,
    ]


@pytest.mark.parametrize("name", ["a.b", ".x", "compute.nope", "", "__path_hook__"])
def test_hasattr_of_any_string_is_false_and_imports_nothing(name: str) -> None:
    loaded = set(sys.modules)
    assert not hasattr(nova_common, name)
    assert set(sys.modules) == loaded


def test_an_unknown_name_is_the_usual_attribute_and_import_error() -> None:
    with pytest.raises(AttributeError, match="module 'nova_common' has no attribute 'ComputeDrivr'"):
        nova_common.ComputeDrivr  # noqa: B018
    with pytest.raises(ImportError, match="cannot import name 'ComputeDrivr' from 'nova_common'"):
        exec("from nova_common import ComputeDrivr")


def test_the_type_checking_imports_match_the_run_time_table_and_add_no_build_dependency() -> None:
    """The names type checkers and the API gate see are the ones loaded at run time, from the same
    modules, and each such import keeps the pragma that leaves it out of the build graph (without
    it every module of the package would depend on the whole driver API again)."""
    path = Path(nova_common.__file__)
    source = path.read_text()
    lines = source.splitlines()
    (block,) = (n for n in ast.parse(source).body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    seen: dict[str, str] = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.module is not None, ast.unparse(node)
        assert lines[node.lineno - 1].rstrip().endswith("# pants: no-infer-dep"), lines[node.lineno - 1]
        seen.update({alias.name: node.module for alias in node.names})
    assert seen == nova_common._DEFINED_IN == {name: module.__name__ for name, module in PROMISED.items()}
    run_time = {
        alias.name if isinstance(n, ast.Import) else n.module
        for n in ast.parse(source).body
        if isinstance(n, (ast.Import, ast.ImportFrom))
        for alias in n.names
    }
    # a run-time import of the package's own modules here would load them for every module again
    assert run_time == {"__future__", "importlib", "importlib.util", "typing"}, run_time
