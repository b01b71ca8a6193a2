"""What data standards (BIDS, NWB) say of a draft's files, beyond dandischema.

A standard's validator runs in a background job and leaves *findings* about assets (by
path) or about the dataset as a whole (``db.models.StandardFinding``), each with a
severity: an ``error`` or a ``not-checked`` (the validator crashed, timed out or is
missing: never taken for a pass) blocks publishing; a ``warning`` is advice.

Findings are shown in upstream's shape, ``{field, message}``, with ``code``,
``severity`` and ``standard`` added.
"""

from __future__ import annotations

from typing import Any

ERROR = "error"
WARNING = "warning"
NOT_CHECKED = "not-checked"
BLOCKING = (ERROR, NOT_CHECKED)

# The state of a check (``db.models.StandardCheck``): a run queued or under way, or done.
QUEUED, RUNNING, DONE = "queued", "running", "done"
# How a done check ended: the validator answered, or it could not (``reason`` says why).
CHECKED = "checked"


def not_checked(standard: str, reason: str) -> dict[str, Any]:
    """A finding saying that ``standard``'s validator could not judge, and why."""
    return finding(
        standard, NOT_CHECKED, f"{standard.upper()}.NOT_CHECKED", f"Could not be checked: {reason}"
    )


def finding(
    standard: str, severity: str, code: str, message: str, field: str = ""
) -> dict[str, Any]:
    return {
        "field": field,
        "message": message,
        "code": code,
        "severity": severity,
        "standard": standard,
    }
