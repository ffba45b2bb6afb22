"""Load a project's ``zuul.d/`` with Zuul's own configuration loader and report its errors.

Runs in the Zuul tool venv (``build-support/zuul/requirements.txt``, made by
``build-support/bin/zuul-tools``), not in a Pants resolve: Zuul pins libraries the tooling's
resolve does not share. The steps are the ones the scheduler takes for a project branch
(``zuul.configloader``): every file under ``zuul.d/`` is read with Zuul's YAML loader, parsed by
``TenantParser.parseConfig`` (the voluptuous schemas of every stanza, the RE2 file matchers,
the job attributes), then the jobs go into a ``Layout`` beside a tenant's ``base`` job, as a
config project would define it, and Zuul validates their references (parents, nodesets) and
each job the project stanza names in each pipeline. A Gerrit connection is configured
(never connected), as an OpenStack tenant has one.

Usage: python check_config.py REPO_ROOT [PROJECT_NAME]  -- exit 0 when the config loads,
1 with Zuul's own error messages otherwise.

``--match CHANGES.json`` (a JSON list of changes, each a list of changed paths) then prints,
for each change, which jobs of the ``check`` pipeline Zuul's own file matchers
(``Job.changeMatchesFiles``: ``files`` any-match, ``irrelevant-files`` all-match, each inherited
from the nearest job in the parent chain that sets it) would run, as a JSON list of
``{job: runs}``; the trigger test compares that with ``nova-split plan``.
"""

from __future__ import annotations

import configparser
import json
import logging
import shutil
import sys
from pathlib import Path

from zuul import configloader, model
from zuul.lib.connections import ConnectionRegistry

CONNECTION = "gerrit"
HOSTNAME = "review.example.org"
#: a tenant's base job, as the tenant's config project defines it (every job's root)
TENANT_BASE = "- job:\n    name: base\n    parent: null\n"
#: the project of the standard roles (``ensure-python``) every OpenStack tenant includes
ROLES_PROJECT = "zuul/zuul-jobs"
#: the tenant's pipelines (an OpenStack tenant's main two) that the project stanza must fill
PIPELINES = ("check", "gate")


class _Ansible:
    """The executor's Ansible versions (a job may request one); the loader only asks for these."""

    default_version = "9"

    def requestVersion(self, version: str) -> None:  # noqa: N802 (Zuul's interface)
        if version not in {"8", "9"}:
            raise Exception(f"Requested unsupported Ansible version: {version}")


def _connections() -> ConnectionRegistry:
    # Zuul's registry starts every driver, bubblewrap's included, which runs `bwrap --version`.
    if shutil.which("bwrap") is None:
        raise SystemExit(
            "check_config: Zuul needs bubblewrap's bwrap; install it (e.g. 'sudo apt-get install bubblewrap';"
            " build-support/bindep.txt lists it, profile test)"
        )
    config = configparser.ConfigParser()
    config.read_dict({f"connection {CONNECTION}": {"driver": "gerrit", "server": HOSTNAME, "user": "zuul"}})
    registry = ConnectionRegistry()
    registry.configure(config, sources=True, triggers=True, reporters=True)
    return registry


def _tenant(connections: ConnectionRegistry, project: str) -> model.Tenant:
    """A tenant as ``TenantParser.fromYaml`` makes one with defaults: a trusted config project
    (``project-config``), zuul-jobs (:data:`ROLES_PROJECT`, as OpenStack's tenant has it) and the
    project under test, untrusted."""
    tenant = model.Tenant("nova-split")
    tenant.allowed_triggers = tenant.allowed_reporters = None
    tenant.allowed_labels = tenant.disallowed_labels = None
    tenant.default_base_job = "base"
    tenant.use_nodepool = True
    source = connections.getSource(CONNECTION)
    for name, trusted in (("project-config", True), (ROLES_PROJECT, False), (project, False)):
        tpc = model.TenantProjectConfig(source.getProject(name))
        tpc.trusted = trusted
        tenant.addTPC(tpc)
    return tenant


def _parse(
    pcontext: configloader.ParseContext, text: str, project: str, path: str, trusted: bool
) -> model.ParsedConfig:
    source = model.SourceContext(f"{HOSTNAME}/{project}", project, CONNECTION, "master", path)
    source.trusted = trusted
    unparsed = model.UnparsedConfig()
    unparsed.extend(configloader.safe_load_yaml(text, source))
    parser = configloader.TenantParser(pcontext.connections, None, None, None, None, None, None, None)
    return parser.parseConfig(unparsed, pcontext)


def check(root: Path, project: str, matches: list[list[str]] | None = None) -> list[str]:
    """Zuul's error messages for ``root/zuul.d`` (empty when it loads); with ``matches``, the
    list is filled in with the ``{job: runs}`` of each change (see ``--match``)."""
    files = sorted((root / "zuul.d").glob("*.yaml"))
    if not files:
        return [f"{root}/zuul.d holds no *.yaml file"]
    connections = _connections()
    pcontext = configloader.ParseContext(connections, None, None, _Ansible())
    parsed = [_parse(pcontext, TENANT_BASE, "project-config", "zuul.d/base.yaml", True)]
    parsed += [_parse(pcontext, f.read_text(), project, f"zuul.d/{f.name}", False) for f in files]
    found = list(pcontext.error_list)
    for p in parsed:
        found += [e for name in dir(p) if name.endswith("_errors") for e in getattr(p, name)]
    # Zuul's ConfigurationError: .error is the message with the stanza and file it came from.
    errors = [f"[{e.severity}] {e.error.strip()}" for e in found]
    tenant = _tenant(connections, project)
    layout = model.Layout(tenant)
    jobs = [job for p in parsed for job in p.jobs]
    for job in jobs:
        # The loader takes any `roles: [{zuul: X}]`; the executor fails the job when X is not a
        # project of the tenant (it cannot check the role out).
        for role in job.roles:
            if isinstance(role, model.ZuulRole) and not role.implicit and tenant.getProject(role.project_name)[1] is None:
                errors.append(f"{job.name}: roles: {role.project_name} is not a project of the tenant")
        try:
            layout.addJob(job)
        except Exception as e:  # Zuul raises plain exceptions carrying its message
            errors.append(f"{job.name}: {e}")
    for job in jobs:
        try:
            job.validateReferences(layout)
        except Exception as e:
            errors.append(f"{job.name}: {e}")
    projects = [pc for p in parsed for pc in p.projects]
    if not projects:
        errors.append("no project stanza: no pipeline runs any job")
    for pc in projects:
        try:
            layout.addProjectConfig(f"{HOSTNAME}/{project}", pc)
        except Exception as e:
            errors.append(f"project: {e}")
        missing = [name for name in PIPELINES if name not in pc.pipelines]
        if missing:
            errors.append(f"the project stanza has no {' or '.join(missing)} pipeline")
        for name, ppc in pc.pipelines.items():
            if name not in PIPELINES:
                errors.append(f"project: pipeline {name!r} is not one of the tenant's ({', '.join(PIPELINES)})")
            for variants in ppc.job_list.jobs.values():
                for job in variants:
                    try:
                        layout.getJob(job.name)
                        job.validateReferences(layout, project_config=pc)
                    except Exception as e:
                        errors.append(f"project {name}: {job.name}: {e}")
    if matches is not None and not errors:
        jobs_of_check = [j.name for pc in projects for j in _check_jobs(pc)]
        changes = [_Change(paths) for paths in matches]
        matches[:] = [{name: _effective(layout, name).changeMatchesFiles(c) for name in jobs_of_check} for c in changes]
    return errors


class _Change:
    """What Zuul's file matchers read of a change: its files."""

    def __init__(self, files: list[str]) -> None:
        self.files = files


def _check_jobs(pc: model.ProjectConfig) -> list[model.Job]:
    ppc = pc.pipelines.get("check")
    return [job for variants in ppc.job_list.jobs.values() for job in variants] if ppc else []


def _effective(layout: model.Layout, name: str) -> model.Job:
    """A copy of job ``name`` whose file matchers are the nearest ones set in its parent chain."""
    chain = []
    job: model.Job | None = layout.getJob(name)
    while job is not None:
        chain.append(job)
        job = layout.getJob(job.parent) if job.parent else None
    frozen = chain[0].copy()
    for attr in ("file_matcher", "irrelevant_file_matcher"):
        setattr(frozen, attr, next((getattr(j, attr) for j in chain if getattr(j, attr)), None))
    return frozen


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.ERROR)
    match_file = None
    if "--match" in argv:
        i = argv.index("--match")
        if i + 1 >= len(argv):
            print("usage: --match needs a JSON file of changes", file=sys.stderr)
            return 2
        match_file = argv[i + 1]
        argv = argv[:i] + argv[i + 2 :]
    if len(argv) not in (2, 3):
        print("usage: check_config.py REPO_ROOT [PROJECT_NAME] [--match CHANGES.json]", file=sys.stderr)
        return 2
    root = Path(argv[1])
    matches = json.loads(Path(match_file).read_text()) if match_file else None
    errors = check(root, argv[2] if len(argv) == 3 else "openstack/nova-split", matches)
    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        print(f"zuul config: {len(errors)} error(s) in {root / 'zuul.d'}", file=sys.stderr)
        return 1
    if matches is not None:
        print(json.dumps(matches))
    else:
        print(f"zuul config: {root / 'zuul.d'} loads in Zuul's configuration loader")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
