"""compare_wheels: real zip files with METADATA, one difference at a time."""

import zipfile
from pathlib import Path

from nova_split_tools.wheel_compare import compare_wheels

META = "Metadata-Version: 2.4\nName: nova-x\nVersion: 1.0.0\nRequires-Dist: a>=1\nRequires-Dist: nova-common<2,>=1.0\n"


def wheel(path: Path, meta: str = META, body: str = "# nova-x\n", **files: str) -> Path:
    contents = {"nova_x/__init__.py": "", "nova_x/driver.py": "X = 1\n", **files}
    with zipfile.ZipFile(path, "w") as z:
        for name, text in contents.items():
            z.writestr(name, text)
        z.writestr("nova_x-1.0.0.dist-info/METADATA", meta + "\n" + body)
    return path


def test_equal_wheels_and_the_legitimate_differences(tmp_path: Path) -> None:
    a = wheel(
        tmp_path / "a.whl", META + "Dynamic: requires-dist\n", **{"nova_x-1.0.0.dist-info/namespace_packages.txt": "\n"}
    )
    b = wheel(tmp_path / "b.whl")
    assert compare_wheels(a, b) == []


def test_each_real_difference_is_reported(tmp_path: Path) -> None:
    b = wheel(tmp_path / "b.whl")
    fake = wheel(tmp_path / "fake.whl", **{"nova_x/xenapi_fake.py": "F = 1\n"})
    assert compare_wheels(b, fake) == ["only in the standalone wheel: nova_x/xenapi_fake.py"]
    changed = wheel(tmp_path / "c.whl", **{"nova_x/driver.py": "X = 2\n"})
    assert compare_wheels(b, changed) == ["nova_x/driver.py differs"]
    twice = wheel(tmp_path / "d.whl", META + "Requires-Dist: nova-common\n")
    assert compare_wheels(twice, b) == [
        "METADATA Requires-Dist: Pants ['a>=1', 'nova-common', 'nova-common<2,>=1.0'] != "
        "standalone ['a>=1', 'nova-common<2,>=1.0']"
    ]
    readme = wheel(tmp_path / "e.whl", body="# nova-x \\\n")
    assert compare_wheels(b, readme) == ["METADATA long description (the README) differs"]
    untyped = wheel(tmp_path / "f.whl", META + "Description-Content-Type: text/markdown\n")
    assert compare_wheels(b, untyped) == ["METADATA Description-Content-Type: Pants [] != standalone ['text/markdown']"]
