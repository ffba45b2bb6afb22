import pytest

from nova_split_tools.errors import ToolError
from nova_split_tools.graph import Graph
from nova_split_tools.replay import NOVA_MIX, parse_shares, replay, scaling_note
from nova_split_tools.subprojects import CorePolicy
from nova_split_tools.testing.graphs import NC, graph, subprojects, target

DOCS = ["docs/architecture.md", "README.md"]


def _graph() -> Graph:
    """The test graph plus a core-internal module (compute/manager.py) no driver reaches."""
    g = graph()
    extra = Graph.from_peek([target(f"{NC}/compute/manager.py", "common", [])])
    for path, owners in extra.owners.items():
        g.owners[path] |= owners
    g.types.update(extra.types)
    return g


def _cost(mix: str, drivers: str = "libvirt=50", policy: CorePolicy = CorePolicy.VOTE) -> list[float]:
    results = replay(
        _graph(),
        subprojects(policy, policy),
        DOCS,
        parse_shares(mix, None, "--mix"),
        parse_shares(drivers, None, "--driver-shares"),
        commits=30,
        seed=1,
    )
    return [r.driver_cis for r in results]


def test_docs_and_core_internal_commits_run_no_driver_ci() -> None:
    assert _cost("docs=1,core-internal=1") == [0.0, 0.0]


def test_one_driver_commits_run_exactly_that_driver() -> None:
    assert _cost("one-driver=1", "libvirt=100") == [1.0]
    assert _cost("one-driver=1", "xen=100") == [1.0]


def test_driver_api_commits_run_the_drivers_the_changed_module_reaches() -> None:
    # objects/network.py reaches libvirt only, driver.py both drivers: the mean lies between
    (api,) = _cost("driver-api=1")
    assert 1.0 < api < 2.0
    # xen, whose policies skip both paths from nova-common, is never charged: only libvirt remains
    (skipping,) = _cost("driver-api=1", policy=CorePolicy.SKIP)
    assert 0.0 < skipping <= 1.0 and skipping < api


def test_shares_are_normalised_and_the_sample_is_seeded() -> None:
    a = replay(_graph(), subprojects(), DOCS, {"docs": 1, "one-driver": 3}, {}, commits=5, seed=3)
    b = replay(_graph(), subprojects(), DOCS, {"docs": 1, "one-driver": 3}, {}, commits=5, seed=3)
    assert [r.share for r in a] == [25.0, 75.0]
    assert [(r.example, r.driver_cis) for r in a] == [(r.example, r.driver_cis) for r in b]


def test_the_documented_default_is_nova_s_mix() -> None:
    assert NOVA_MIX["core-internal"] == 65.7 and round(sum(NOVA_MIX.values()), 1) == 100.1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("core=1", "unknown name 'core'"),
        ("core-internal", "not NAME=SHARE"),
        ("docs=x", "not a number"),
        ("docs=-1", ">= 0"),
        ("docs=inf", ">= 0"),
        ("docs=0", "at least one positive share"),
        ("docs=150", "share of 'docs' is 150; shares are percentages, at most 100"),
        ("docs=60,docs=60", "'docs' is given twice"),
    ],
)
def test_bad_mix_is_refused_with_one_line(text: str, message: str) -> None:
    with pytest.raises(ToolError, match=message):
        parse_shares(text, list(NOVA_MIX), "--mix")


def test_unknown_driver_and_no_commits_are_refused() -> None:
    with pytest.raises(ToolError, match="unknown driver 'nope'"):
        replay(_graph(), subprojects(), DOCS, {"docs": 1}, {"nope": 1}, commits=1, seed=0)
    with pytest.raises(ToolError, match="at least 1"):
        replay(_graph(), subprojects(), DOCS, {"docs": 1}, {}, commits=0, seed=0)
    with pytest.raises(ToolError, match=r"--driver-shares add up to 120%, more than 100"):
        replay(_graph(), subprojects(), DOCS, {"docs": 1}, {"libvirt": 60, "xen": 60}, commits=1, seed=0)


def test_a_mix_that_is_not_100_percent_is_scaled_with_a_note() -> None:
    assert scaling_note(NOVA_MIX, "--mix") is None  # 100.1: rounding
    assert scaling_note({"core-internal": 50}, "--mix") == (
        "note: --mix adds up to 50%; each share is scaled to its part of 100%"
    )


def test_a_driver_share_of_zero_leaves_that_driver_out() -> None:
    assert parse_shares("libvirt=0", None, "--driver-shares", all_zero=True) == {"libvirt": 0.0}
    for seed in range(8):  # the first sampled commit of each seed names a driver other than libvirt
        results = replay(_graph(), subprojects(), DOCS, {"one-driver": 100}, {"libvirt": 0}, commits=1, seed=seed)
        assert results[0].example_drivers and "libvirt" not in results[0].example_drivers
