"""GitHub Actions' rules for a job's result, as the workflow tests need them.

Shared by the unit tests of the generated workflows and the self-test that runs them, so both
decide ``needs.<job>.result`` and whether a job runs the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["job_result", "runs"]

_STATUS_FUNCTION = re.compile(r"\b(always|success|failure|cancelled)\(\)")


def job_result(legs: Iterable[tuple[bool, bool]]) -> str:
    """``needs.<job>.result`` of a job that ran, from each matrix leg's ``(passed, continue_on_error)``.

    ``failure`` when a leg failed without ``continue-on-error``; otherwise ``success`` (a leg that
    may fail and did leaves the job successful). A job that did not run is ``skipped``.
    """
    return "failure" if any(not passed and not may_fail for passed, may_fail in legs) else "success"


def runs(condition: str | None, needs: Mapping[str, str], evaluated: bool) -> bool:
    """Whether a job with ``if: condition`` runs, given its needs' results and the condition's value.

    Without a status function (``always()``, ``success()``, ...) in it, a condition is implicitly
    ``success() && condition``: the job runs only when every job it needs succeeded.
    """
    if condition is None:
        evaluated = True
    if condition is None or not _STATUS_FUNCTION.search(condition):
        return evaluated and all(result == "success" for result in needs.values())
    return evaluated
