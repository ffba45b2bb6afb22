from pathlib import Path

import pytest

from nova_split_tools.errors import ToolError
from nova_split_tools.subprojects import CORE, CorePolicy, find_subproject, load_subprojects, registered, tool_resolves

PANTS_TOML = '[python.resolves]\ncommon = "nova-common/common.lock"\nxen = "drivers/xen/xen.lock"\n'


def _tree(root: Path, xen_meta: str | None) -> Path:
    (root / "pants.toml").write_text(PANTS_TOML)
    if xen_meta is not None:
        (root / "drivers/xen").mkdir(parents=True)
        (root / "drivers/xen/subproject.toml").write_text(xen_meta)
    return root


def test_registry_and_policies(tmp_path: Path) -> None:
    root = _tree(tmp_path, '[ci]\ncore-changes = "advisory"\napi-changes = "skip"\n')
    assert [(s.name, s.path, s.core_changes, s.api_changes) for s in load_subprojects(root)] == [
        (CORE, "nova-common", CorePolicy.VOTE, CorePolicy.VOTE),
        ("xen", "drivers/xen", CorePolicy.ADVISORY, CorePolicy.SKIP),
        ("build-support", "build-support", CorePolicy.VOTE, CorePolicy.VOTE),
    ]


def test_policy_defaults_api_votes_core_internal_skips(tmp_path: Path) -> None:
    root = _tree(tmp_path, "")
    xen = load_subprojects(root)[1]
    assert (xen.api_changes, xen.core_changes) == (CorePolicy.VOTE, CorePolicy.SKIP)


def test_tool_resolves_come_from_install_from_resolve(tmp_path: Path) -> None:
    root = _tree(tmp_path, None)
    text = (root / "pants.toml").read_text()
    (root / "pants.toml").write_text(
        text + '\n[pytest]\ninstall_from_resolve = "common"\n[mypy]\ninstall_from_resolve = "common"\n'
    )
    assert tool_resolves(root) == {"common": ["mypy", "pytest"]}


def test_registered_needs_no_driver_directory(tmp_path: Path) -> None:
    root = _tree(tmp_path, None)
    assert [s.name for s in registered(root)] == [CORE, "xen"]
    with pytest.raises(ToolError, match=r"drivers/xen/subproject.toml is missing; every subproject needs one$"):
        load_subprojects(root)


def test_registry_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match=r"^cannot read .*pants.toml"):
        registered(tmp_path)
    (tmp_path / "pants.toml").write_text('[python.resolves]\nxen = "drivers/xen/xen.lock"\n')
    with pytest.raises(ToolError, match=r"^pants.toml's \[python.resolves\] has no 'common' resolve$"):
        registered(tmp_path)


@pytest.mark.parametrize("name", ["xen", "drivers/xen", "drivers/xen/", "nova-xen"])
def test_find_by_name_directory_or_distribution(tmp_path: Path, name: str) -> None:
    assert find_subproject(registered(_tree(tmp_path, None)), name).name == "xen"


def test_find_nova_common_and_unknown(tmp_path: Path) -> None:
    subprojects = registered(_tree(tmp_path, None))
    assert find_subproject(subprojects, "nova-common").name == CORE
    with pytest.raises(ToolError, match=r"^unknown subproject 'nope'; choose one of: nova-common, xen$"):
        find_subproject(subprojects, "nope")
