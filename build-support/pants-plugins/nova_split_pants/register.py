"""nova-split's Pants plugin: wheel metadata from each subproject's ``subproject.toml``.

Every ``python_distribution`` in this repo sits beside a ``subproject.toml``, the one source of
truth for the subproject's version (read here by ``pants package`` and by build-support's
tooling). For a driver, it also states the driver API major version the driver is built for,
from which the wheel's ``Requires-Dist: nova-common>=M.0,<M+1`` is derived: a minor nova-common
release never breaks an installed driver and a major one never installs under an old driver.
"""

from __future__ import annotations

import os

import toml  # Pants' own dependency (Pants runs on Python 3.9: no tomllib)
from pants.backend.python.util_rules.package_dists import SetupKwargs, SetupKwargsRequest
from pants.engine.fs import DigestContents, PathGlobs
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import Target
from pants.engine.unions import UnionRule
from pants.base.glob_match_error_behavior import GlobMatchErrorBehavior


class NovaSubprojectSetupKwargsRequest(SetupKwargsRequest):
    @classmethod
    def is_applicable(cls, _: Target) -> bool:
        return True


def nova_common_requirement(driver_api_major: int) -> str:
    """The range a driver built for driver API ``driver_api_major`` accepts."""
    return f"nova-common>={driver_api_major}.0,<{driver_api_major + 1}"


@rule
async def subproject_setup_kwargs(request: NovaSubprojectSetupKwargsRequest) -> SetupKwargs:
    directory = request.target.address.spec_path
    path = os.path.join(directory, "subproject.toml")
    contents = await Get(
        DigestContents,
        PathGlobs([path], glob_match_error_behavior=GlobMatchErrorBehavior.error, description_of_origin="nova_split_pants"),
    )
    meta = toml.loads(contents[0].content.decode())
    project = meta.get("project", {})
    for key in ("version", "description"):
        if key not in project:
            raise ValueError(f"{path}: [project] needs a {key!r} key")
    kwargs = {
        **request.explicit_kwargs,
        "version": project["version"],
        "description": project["description"],
        "license": "Apache-2.0",
        "python_requires": ">=3.11",
    }
    install_requires = []
    driver = meta.get("driver")
    if driver is not None:
        major = driver.get("api-major")
        if not isinstance(major, int):
            raise ValueError(f"{path}: [driver] api-major must be an integer (the driver API major version)")
        install_requires.append(nova_common_requirement(major))
    extras = project.get("extras", {})
    if extras:
        kwargs["extras_require"] = {k: list(v) for k, v in extras.items()}
    if install_requires:
        kwargs["install_requires"] = install_requires
    return SetupKwargs(kwargs, address=request.target.address, _allow_banned_keys=bool(install_requires))


def rules():
    return [*collect_rules(), UnionRule(SetupKwargsRequest, NovaSubprojectSetupKwargsRequest)]
