"""Paging sorted sets scored by 64-bit ids.

Scores are doubles: Snowflake ids near 2^61 collapse in steps of 256, so ids from one worker in one
millisecond can share a score. Pages therefore start at the cursor's score inclusively, a little wider,
and are cut by the exact id, so that no id sharing the cursor's score is skipped.
"""

from __future__ import annotations

SAME_SCORE_SLACK = 32


def page_bounds(before_id: int | None) -> tuple[str, int]:
    """The upper score bound of a page below `before_id`, and how many extra members to read."""
    return (str(before_id), SAME_SCORE_SLACK) if before_id else ("+inf", 0)
