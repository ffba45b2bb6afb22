"""nova-split's Pants plugin: wheel metadata from each subproject's ``subproject.toml``.

Every ``python_distribution`` in this repo sits beside a ``subproject.toml``, the one source of
truth for the subproject's version and description; a driver's also gives the driver API major
version, from which the wheel's ``Requires-Dist: nova-common>=M.0,<M+1`` is derived. The file is
read with the tooling's own reader (``nova_split_tools.metadata``, on Pants' pythonpath), so the
wheel, the releases and the generated packaging agree on every key and every error message.
The license, classifiers, project URLs and README content type come from
``nova_split_tools.wheel_metadata``, shared with each driver's standalone ``pyproject.toml``.
Files under the subproject's ``share/`` (nova-common's bash completion) become the wheel's data
files; the subproject's BUILD makes them resources of the distribution, so they are in the chroot.
"""

from __future__ import annotations

import os

from pants.backend.python.util_rules.package_dists import SetupKwargs, SetupKwargsRequest
from pants.base.glob_match_error_behavior import GlobMatchErrorBehavior
from pants.engine.fs import DigestContents, PathGlobs, Paths
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import Target
from pants.engine.unions import UnionRule

from nova_split_tools.metadata import FILE, parse_metadata
from nova_split_tools.wheel_metadata import DATA_DIR, README, data_files, setup_kwargs


def _literal(text: str) -> str:
    """``text`` for Pants' generated setup.py, which writes a string between single quotes or
    triple double quotes, escaping only those quotes: a backslash (a README's shell line continuation) would vanish, a
    ``"`` at the end of a README would close the triple quote early, and a NUL or a lone carriage
    return breaks the source. Line endings become ``\\n``, as setuptools reads the file."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for c in text:
        if c == "\\":
            out.append("\\\\")
        elif c == '"':
            out.append('\\"')
        elif c == "\x00":
            out.append("\\x00")
        else:
            out.append(c)
    return "".join(out)


class NovaSubprojectSetupKwargsRequest(SetupKwargsRequest):
    @classmethod
    def is_applicable(cls, _: Target) -> bool:
        return True


@rule
async def subproject_setup_kwargs(request: NovaSubprojectSetupKwargsRequest) -> SetupKwargs:
    spec_path = request.target.address.spec_path
    path = os.path.join(spec_path, FILE)
    readme = os.path.join(spec_path, README)
    contents = await Get(
        DigestContents,
        PathGlobs(
            [path, readme],
            glob_match_error_behavior=GlobMatchErrorBehavior.error,
            description_of_origin="nova_split_pants",
        ),
    )
    text = {c.path: c.content.decode() for c in contents}
    shared = await Get(
        Paths,
        PathGlobs(
            [os.path.join(spec_path, DATA_DIR, "**")],
            glob_match_error_behavior=GlobMatchErrorBehavior.ignore,
        ),
    )
    meta = parse_metadata(text[path], path)
    kwargs = {
        **request.explicit_kwargs,
        "version": meta.version_text,
        "description": _literal(meta.description),
        "long_description": _literal(text[readme]),
        **setup_kwargs(spec_path, meta.classifiers),
    }
    files = data_files([os.path.relpath(f, spec_path) for f in shared.files])
    if files:
        kwargs["data_files"] = files
    if meta.extras:
        kwargs["extras_require"] = meta.extras
    requirement = meta.nova_common_requirement
    if requirement is not None:
        kwargs["install_requires"] = [requirement]
    # install_requires and data_files are keys Pants reserves: ours are the only ones given.
    banned = requirement is not None or bool(files)
    return SetupKwargs(kwargs, address=request.target.address, _allow_banned_keys=banned)


def rules():
    return [*collect_rules(), UnionRule(SetupKwargsRequest, NovaSubprojectSetupKwargsRequest)]
