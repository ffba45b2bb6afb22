"""The synthetic monorepo's files: its layout, the subprojects' initial files and the text of each change.

``synthetic_history`` decides which commits happen (branches, merges, renames, moves); this module
decides what the files hold: every path's content is a tuple of chunks drawn from one
``random.Random``, so a seed always gives the same bytes.
"""

from __future__ import annotations

import json
import posixpath
import random
import re
from dataclasses import dataclass

__all__ = [
    "CORE_DIR",
    "DRIVERS",
    "NEVER_CHANGED",
    "LARGE_SUFFIX",
    "NOUNS",
    "VERBS",
    "WORDS",
    "Change",
    "Files",
    "Scale",
    "chunk",
    "initial_chunks",
    "initial_files",
    "large_file",
    "owner",
    "package_dir",
    "protected",
    "scale_up",
    "stem",
    "subproject_dir",
]


DRIVERS = ("libvirt", "vmware", "xen", "hyperv", "ironic")


CORE_DIR = "nova-common"


WORDS = (
    *("host", "vmops", "volumeops", "network", "image", "console", "migration", "power", "snapshot"),
    *("session", "agent", "firewall", "pool", "vif", "utils", "events", "stats", "config"),
)


VERBS = ("fix", "refactor", "add", "remove", "rename", "document", "test", "handle", "cache", "log")


NOUNS = ("timeouts", "retries", "errors", "the power state", "cleanup on failure", "options", "races")


#: where ``nova-split clone`` reads each driver's directory set (``clone.CLOSURES_FILE``)
CLOSURES_FILE = "build-support/clone-closures.json"


NEVER_CHANGED = {"pants.toml", "LICENSE", CLOSURES_FILE}


#: large files (disk images, recorded fixtures) added to and deleted from drivers' history
LARGE_SUFFIX = ".img"


@dataclass(frozen=True)
class Scale:
    """A realistic monorepo's proportions (the default, all zero, is the export benchmark's small tree).

    ``driver_modules`` more modules in each driver at the root commit (with ``module_chunks``
    functions each), so that drivers outweigh nova-common; a driver commit adds a large file of
    about ``large_bytes`` bytes with probability ``1/large_every`` and deletes one as often, so
    the history carries large files that the tip mostly no longer has.
    """

    driver_modules: int = 0
    module_chunks: int = 0
    large_every: int = 0
    large_bytes: int = 0

    def __bool__(self) -> bool:
        return any((self.driver_modules, self.module_chunks, self.large_every, self.large_bytes))

    def key(self) -> str:
        return f"m{self.driver_modules}c{self.module_chunks}l{self.large_every}b{self.large_bytes}"


def subproject_dir(name: str) -> str:
    return CORE_DIR if name == "common" else f"drivers/{name}"


def package_dir(name: str) -> str:
    return f"{CORE_DIR}/nova_common" if name == "common" else f"drivers/{name}/nova_{name}"


def protected(path: str) -> bool:
    """Files a subproject always keeps (so its directory never empties): never deleted or moved."""
    return path in NEVER_CHANGED or posixpath.basename(path) in ("BUILD", "subproject.toml", "__init__.py")


Files = dict[str, tuple[str, ...]]  # path -> chunks (a file's text is their concatenation)


Change = tuple[str, ...]  # ("M", path), ("D", path) or ("R", old, new): fast-import's file commands


def stem(path: str) -> str:
    """``vmops`` for ``.../vmops.py`` and ``.../vmops_12.py``."""
    return re.sub(r"_\d+$", "", posixpath.splitext(posixpath.basename(path))[0])


def owner(path: str) -> str:
    return "nova-common" if path.startswith(CORE_DIR + "/") else path.split("/")[1]


def chunk(rng: random.Random, path: str, n: int) -> str:
    """One unit of text for ``path``'s kind of file: a function, a pinned requirement, a line."""
    if path.endswith(".py"):
        return f"\n\ndef {stem(path)}_step_{n}(value):\n    return value * {rng.randint(2, 99)} + {n}\n"
    if path.endswith((".lock", ".txt")):
        return f"package-{n}=={rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}\n"
    if path.endswith(".md"):
        return f"\nNote {n}: {rng.choice(VERBS)} {rng.choice(NOUNS)} before {rng.choice(WORDS)}.\n"
    return f"# setting {n}: {rng.choice(WORDS)} = {rng.randint(0, 999)}\n"


def initial_chunks(rng: random.Random, path: str, n: int) -> tuple[str, ...]:
    header = f'"""{stem(path)}: part of {owner(path)}."""\n' if path.endswith(".py") else f"# {path}\n"
    return (header, *(chunk(rng, path, n * 100 + i) for i in range(rng.randint(3, 8))))


def initial_files(rng: random.Random) -> Files:
    resolves = "".join(f'{d} = "drivers/{d}/{d}.lock"\n' for d in DRIVERS)
    files: Files = {
        "pants.toml": (
            '[GLOBAL]\npants_version = "2.17.1"\n\n[python.resolves]\n'
            f'common = "{CORE_DIR}/common.lock"\n{resolves}',
        ),
        "LICENSE": ("Apache License\nVersion 2.0, January 2004\n\n(synthetic: the export benchmark's history)\n",),
        "README.md": ("# nova-split (synthetic history)\n",),
        "build-support/bin/ci": ("#!/usr/bin/env bash\n",),
        "build-support/python/tools.py": ('"""tools: the repository tooling."""\n',),
    }
    paths = [f"{CORE_DIR}/BUILD", f"{CORE_DIR}/subproject.toml", f"{CORE_DIR}/common.lock"]
    paths += [f"{CORE_DIR}/nova_common/{m}.py" for m in ("__init__", "driver", "virtapi", "exception", "loader")]
    paths += [f"{CORE_DIR}/nova_common/objects/{m}.py" for m in ("__init__", "instance", "flavor", "network")]
    for d in DRIVERS:
        top = f"drivers/{d}"
        paths += [f"{top}/BUILD", f"{top}/subproject.toml", f"{top}/requirements.txt", f"{top}/{d}.lock"]
        paths += [f"{top}/README.md"]
        paths += [f"{top}/nova_{d}/{m}.py" for m in ("__init__", "driver", "config", "host", "vmops", "driver_test")]
    for i, path in enumerate(paths):
        files[path] = initial_chunks(rng, path, i + 1)
    for path in list(files):
        if len(files[path]) == 1:
            files[path] += (chunk(rng, path, 0),) if path not in NEVER_CHANGED else ()
    return files


def scale_up(rng: random.Random, files: Files, scale: Scale) -> None:
    """Grow the root commit's drivers to ``scale`` and add the closure-clone data of the layout."""
    serial = 10_000
    for d in DRIVERS:
        for i in range(scale.driver_modules):
            word = WORDS[i % len(WORDS)]
            path = f"{package_dir(d)}/{'tests/' if i % 3 == 0 else ''}{word}_{i}.py"
            serial += 1
            files[path] = (
                f'"""{word}: part of {d}."""\n',
                *(chunk(rng, path, serial * 100 + j) for j in range(scale.module_chunks)),
            )
    data = {
        "version": 1,
        "drivers": {
            d: {"path": f"drivers/{d}", "dirs": sorted(["build-support", f"drivers/{d}", CORE_DIR])} for d in DRIVERS
        },
    }
    files[CLOSURES_FILE] = (json.dumps(data, indent=2, sort_keys=True) + "\n",)


def large_file(rng: random.Random, scale: Scale) -> tuple[str, ...]:
    """One large file's content: incompressible text (hex) of 0.5 to 1.5 times ``large_bytes``."""
    size = rng.randint(scale.large_bytes // 2, scale.large_bytes * 3 // 2)
    return (rng.randbytes(size // 2).hex() + "\n",)
