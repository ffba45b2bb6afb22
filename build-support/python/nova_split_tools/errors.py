"""The one exception type for expected failures: printed as one line, exit code 1."""

from __future__ import annotations

__all__ = ["ToolError"]


class ToolError(Exception):
    """Something the user can fix; the message says what is wrong and how to fix it."""
