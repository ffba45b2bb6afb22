"""pytest configuration for every test of the tooling: while the test-impact map is recorded,
mark the runs coverage cannot see into (``nova_split_tools.testing.impact``)."""

from nova_split_tools.testing.impact import watch

watch()
