from nova_split_tools.audit import covers, source_files
from nova_split_tools.graph import failed_tests
from nova_split_tools.testing.graphs import LV, NC, graph


def test_source_files_are_non_test_python_of_core_and_drivers() -> None:
    files = source_files(graph())
    assert f"{NC}/driver.py" in files and f"{LV}/guest_xml.py" in files
    assert not any(f.endswith("_test.py") for f in files)


def test_failing_tests_are_read_from_pants_output() -> None:
    out = (
        "✓ nova-common/nova_common/api_version_test.py:../tests succeeded in 0.4s.\n"
        "✕ drivers/xen/nova_xen/driver_test.py:../tests failed in 1.2s.\n"
        "  ✕ drivers/libvirt/nova_libvirt/conformance_test.py:../tests failed in 0.9s.\n"
    )
    assert failed_tests(out) == {
        "drivers/xen/nova_xen/driver_test.py",
        "drivers/libvirt/nova_libvirt/conformance_test.py",
    }


def test_specs_cover_files_and_directories() -> None:
    assert covers("drivers/xen::", "drivers/xen/nova_xen/driver_test.py")
    assert not covers("drivers/xen::", "drivers/xenon/nova_xenon/driver_test.py")
    assert covers(f"{LV}/driver_test.py", f"{LV}/driver_test.py")
