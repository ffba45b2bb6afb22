"""The committed test-impact map is one that plans can use: a commit of a corrupt or hand-edited
map fails here, in the one test the plan runs for it, instead of silently turning every plan back
to the graph (a plan only warns about an unreadable map)."""

from pathlib import Path

from nova_split_tools.impact_map import MAP_PATH, read_map
from nova_split_tools.subprojects import CORE


def test_the_committed_map_is_readable_and_names_only_subproject_paths() -> None:
    imap = read_map(Path(MAP_PATH).read_text(), MAP_PATH)
    assert len(imap.commit) == 40 and all(c in "0123456789abcdef" for c in imap.commit), imap.commit
    assert imap.files, "a map that records no file narrows nothing: record it again (nova-split impact record)"
    assert imap.tests, "a map with no trusted test narrows nothing: record it again (nova-split impact record)"
    roots = (f"{CORE}/", "drivers/", "build-support/")
    outside = sorted(p for p in [*imap.files, *imap.tests, *imap.untrusted] if not p.startswith(roots))
    assert not outside, f"paths outside the subprojects: {outside[:3]}"
    assert all(t.endswith("_test.py") for t in [*imap.tests, *imap.untrusted])
