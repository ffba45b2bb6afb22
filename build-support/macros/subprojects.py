# Macros for nova-split's two kinds of subproject. A driver's BUILD file is one call:
#
#     nova_driver(name="libvirt", driver_class="LibvirtDriver", module_mapping={...})
#
# and nova-common's is one call to nova_common_library(). The macros derive every target from
# the name, so each subproject gets the same shape: sources and tests (tests beside code,
# `*_test.py`; slow, end-to-end ones `*_integration_test.py`), a wheel with the driver's entry
# point, and the visibility rules that keep drivers apart. Versions, descriptions and the nova-common range live in each subproject's
# `subproject.toml` and are applied by the nova_split_pants plugin.


def _all_resolves():
    """The resolve names from pants.toml's [python.resolves] section.

    pants.toml is the one registry of subprojects: a driver is its directory plus its resolve
    line there. nova-common must be usable from every resolve, so its targets are parametrized
    over all of them; reading the list here keeps that from becoming a second list to maintain.
    Any change to pants.toml restarts Pants' scheduler, so this never goes stale.
    """
    names = []
    section = None
    for raw in open("pants.toml").read().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("["):
            section = line
        elif section == "[python.resolves]" and "=" in line:
            names.append(line.split("=", 1)[0].strip().strip('"'))
    if "common" not in names:
        raise ValueError("pants.toml's [python.resolves] must define the 'common' resolve")
    return names


#: nova-common's top-level packages: the driver API and compute service, and the command-line
#: plumbing nova-compute shares with the tooling (which must not import nova_common, see below).
_CORE_PACKAGES = ("nova_common", "nova_common_cli")


def nova_common_library(entry_points):
    """nova-common: sources usable from every resolve, tests run once (in 'common'), one wheel."""
    resolves = _all_resolves()
    # nova-common's own third-party requirements exist in every resolve, so a driver team never
    # lists them; pytest is here for the conformance suite (the wheel's `testing` extra).
    python_requirements(name="reqs", source="requirements.txt", resolve=parametrize(*resolves))
    python_sources(
        name="lib",
        # nova_common_cli: the command-line plumbing nova-compute shares with nova-split, outside
        # the nova_common package so that the tooling's imports of it do not load the driver API.
        sources=[f"{p}/**/*.py" for p in _CORE_PACKAGES] + [f"!{p}/**/*_test.py" for p in _CORE_PACKAGES],
        resolve=parametrize(*resolves),
    )
    python_tests(
        name="tests",
        sources=[f"{p}/**/*_test.py" for p in _CORE_PACKAGES]
        + [f"!{p}/**/*_integration_test.py" for p in _CORE_PACKAGES],
        resolve="common",
    )
    # The end-to-end tests install nova-common's own wheel (its entry points, as declared below).
    python_tests(
        name="integration",
        sources=["nova_common/**/*_integration_test.py"],  # (nova_common_cli has none: an unmatched glob fails)
        resolve="common",
        runtime_package_dependencies=[":dist"],
    )
    # Entry points name modules that exist once per resolve; the dist takes them from 'common'.
    ambiguous = []
    for group in entry_points.values():
        for target in group.values():
            module = target.split(":")[0]
            rel = module.replace(".", "/") + ".py"
            up = "/".join([".."] * rel.count("/"))
            ambiguous += ["!" + build_file_dir().as_posix() + "/" + rel + ":" + up + "/lib@resolve=" + r
                          for r in resolves if r != "common"]
    # The core never depends on a driver (it finds them through entry points at run time), and
    # tests never import tests (shared test code is nova_common.testing). The command-line plumbing
    # imports nothing of nova_common: the tooling imports it without loading the driver API.
    __dependencies_rules__(
        ("/nova_common_cli/**", "!*_test.py", "!//nova-common/nova_common/**", "!//drivers/*/nova_*/**", "*"),
        ("*_test.py", "!*_test.py", "!//drivers/*/nova_*/**", "*"),
        ("*", "!//drivers/*/nova_*/**", "*"),
    )
    _license()
    # Data files of the wheel (the plugin names them in data_files): the bash completion of
    # nova-compute, written by `nova-split packaging`. At the source root, like the LICENSE.
    resources(name="share", sources=["share/**/*"])
    python_distribution(
        name="dist",
        # Every parametrized copy: otherwise a driver wheel would inline nova-common's code.
        dependencies=[":lib@resolve=" + r for r in resolves] + [":license", ":share"] + ambiguous,
        provides=python_artifact(name="nova-common"),
        entry_points=entry_points,
    )


def nova_driver(
    name,
    driver_class,
    module_mapping=None,
    test_utils=(),
    test_dependencies=(),
    requirement_overrides=None,
    bindep=False,
):
    """A hypervisor driver in drivers/<name>: its own resolve, wheel, entry point and rules.

    name: the driver's short public name, which is also its resolve, its package suffix
        (`nova_<name>`), its distribution suffix (`nova-<name>`) and its entry point name.
    driver_class: the ComputeDriver subclass in `nova_<name>/driver.py`.
    module_mapping: import names of requirements that Pants cannot guess.
    requirement_overrides: per-requirement fields for python_requirements' `overrides`, e.g.
        `{"os-win": {"dependencies": [":reqs#six"]}}` for a package that imports another one
        without declaring it (the wheel then requires both).
    test_utils: test-support modules (peer fixtures), relative to the driver dir; not in the wheel.
    test_dependencies: extra targets the tests need (peer binaries, fixtures' data).
    bindep: the driver has a `bindep.txt` (the Debian packages its build and test peers need);
        its unit tests get it as a file, to check with nova_common.testing.system_packages that
        the list brings what they use.

    Every subproject has at least one `*_integration_test.py`: its end-to-end test of
    `nova-compute` through the installed entry point (the glob must match: globs that match
    nothing are errors here).
    """
    package = "nova_" + name
    python_requirements(
        name="reqs",
        source="requirements.txt",
        resolve=name,
        module_mapping=module_mapping or {},
        overrides=requirement_overrides or {},
    )
    excluded = ["!" + f for f in test_utils]
    python_sources(name="lib", sources=[package + "/**/*.py", "!" + package + "/**/*_test.py"] + excluded, resolve=name)
    if test_utils:
        python_test_utils(name="test-utils", sources=list(test_utils), resolve=name)
    if bindep:
        file(name="bindep", source="bindep.txt")
    python_tests(
        name="tests",
        sources=[package + "/**/*_test.py", "!" + package + "/**/*_integration_test.py"],
        resolve=name,
        dependencies=list(test_dependencies) + ([":bindep"] if bindep else []),
    )
    python_tests(
        name="integration",
        sources=[package + "/**/*_integration_test.py"],
        resolve=name,
        dependencies=list(test_dependencies),
        # The driver's own wheel, built into the sandbox: its end-to-end tests install its
        # dist-info (nova_common.testing.cli.installed_wheel), so they find the driver through
        # the entry point this file declares, not a copy of it.
        runtime_package_dependencies=[":dist"],
    )
    _license()
    python_distribution(
        name="dist",
        # nova-common is required through the range the plugin derives from [driver] api-major;
        # without the transitive exclude Pants would add a second, unversioned Requires-Dist for it.
        dependencies=[":lib", ":license", "!!//nova-common:lib@resolve=" + name],
        provides=python_artifact(name="nova-" + name),
        entry_points={"nova.compute.drivers": {name: package + ".driver:" + driver_class}},
    )
    _driver_visibility()


def _license():
    # The subproject's copy of the repository's LICENSE (written by `nova-split packaging`): a
    # resource at the source root, so it lands beside the generated setup.py, whose
    # license_files names it (nova_split_tools.wheel_metadata).
    resource(name="license", source="LICENSE")


def _driver_visibility():
    # A driver's code may depend on its own targets and on nova-common's public API, nothing
    # else: not another driver, not nova-common's compute service or its command-line plumbing
    # (nova_common_cli; both core-internal). Its
    # end-to-end tests may also use the compute service, which is how they drive the driver. Third-party packages of other drivers are out of reach anyway:
    # they live in other resolves.
    # Tests never import tests (shared test code is nova_common.testing or the driver's test_utils).
    __dependencies_rules__(
        (
            "*_test.py",
            "!*_test.py",
            "/**",
            "//nova-common/**",
            "!//drivers/**",
            "!*",
        ),
        (
            {"type": "python_tests"},
            "/**",
            "//nova-common/**",
            "!//drivers/**",
            "!*",
        ),
        (
            "*",
            "/**",
            "!//nova-common/nova_common/compute/**",
            "!//nova-common/nova_common_cli/**",
            "//nova-common/**",
            "!//drivers/**",
            "!*",
        ),
    )
