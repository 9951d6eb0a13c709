"""Brigading: a sudden rise of comments or flags on one post, against that post's own recent past.

A campaign against a post shows as many comments, or many flagged ones, in a short window. Busy
posts are busy every day, so the window is compared with the post's own mean per window over the
hours before it (only the hours since its first comment: a new post has no past and is judged on
the minimums alone). The result names the post and the clauses flagged, never a comment or an
author: it is logged, counted and recorded in the audit log as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from pipelines.policy import BrigadingRule
from schemas import PostAlert
from schemas.ids import stable_id

Signal = Literal["comments", "flags", "both"]


@dataclass(frozen=True)
class PostWindow:
    """One post's counts: the latest window and the baseline before it."""

    post: str
    comments: int
    flagged: int
    clauses: dict[str, int]
    """Flagged comments per clause in the window."""
    baseline_comments: int
    baseline_flagged: int
    baseline_windows: float
    """How many windows the baseline covers (0 for a post with no earlier comment)."""


@dataclass(frozen=True)
class BrigadingAlert:
    post: str
    signal: Signal
    comments: int
    flagged: int
    clauses: tuple[str, ...]
    """The flagged clauses, most frequent first."""
    baseline: float
    """The post's usual comments per window."""
    baseline_flagged: float
    window_minutes: float
    at: float


def _mean(count: int, windows: float) -> float:
    return count / windows if windows >= 1 else float(count)


def rises(count: int, mean: float, minimum: int, factor: float) -> bool:
    """``count`` is at least ``minimum`` and more than ``factor`` times the usual (plus one, so that a
    post that usually gets nothing needs more than a handful)."""
    return count >= minimum and count > factor * (mean + 1.0)


def assess(window: PostWindow, rule: BrigadingRule, at: float) -> BrigadingAlert | None:
    base_comments = _mean(window.baseline_comments, window.baseline_windows)
    base_flagged = _mean(window.baseline_flagged, window.baseline_windows)
    by_comments = rises(window.comments, base_comments, rule.min_comments, rule.factor)
    by_flags = rises(window.flagged, base_flagged, rule.min_flagged, rule.factor)
    if not (by_comments or by_flags):
        return None
    signal: Signal = "both" if by_comments and by_flags else "comments" if by_comments else "flags"
    ranked = sorted(window.clauses.items(), key=lambda kv: (-kv[1], kv[0]))
    return BrigadingAlert(
        post=window.post,
        signal=signal,
        comments=window.comments,
        flagged=window.flagged,
        clauses=tuple(clause for clause, _ in ranked),
        baseline=round(base_comments, 2),
        baseline_flagged=round(base_flagged, 2),
        window_minutes=rule.window_minutes,
        at=at,
    )


def post_alert(alert: BrigadingAlert) -> PostAlert:
    """The alert as analysts read it on ``analytics.alerts``; one id per post and window, so a
    re-sent alert is recognisably the same one."""
    end = datetime.fromtimestamp(alert.at, UTC)
    start = end - timedelta(minutes=alert.window_minutes)
    return PostAlert(
        alert_id=stable_id("brigading", alert.post, start.isoformat()),
        post_key=alert.post,
        signal=alert.signal,
        window_start=start,
        window_end=end,
        comments=alert.comments,
        flagged=alert.flagged,
        clauses=list(alert.clauses),
        baseline_comments=alert.baseline,
        baseline_flagged=alert.baseline_flagged,
        raised_at=end,
    )
