"""Moderators' decisions as training examples for the detectors, written to a private file.

Each example is what a decision teaches: the comment's text with private information (5.7.9)
redacted, the clauses the detector flagged with their scores and detectors, the decision, and
the moderator's verdict per clause (``review.agreement.verdicts``). Nothing identifies the
resident: no author, no comment or post id, no link. The text can still name people, so the file
is personal information: written with mode 0600, limited to the decisions the
``moderation.decisions`` topic still retains, never logged and never part of an aggregate.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from review.agreement import JUDGING, Decided, verdicts, week_of
from review.render import show
from review.store import Store
from schemas import ReviewItem
from schemas.events import MAX_TEXT_CHARS
from schemas.ids import stable_id
from schemas.topics import MODERATION_DECISIONS

RETENTION_DAYS = (MODERATION_DECISIONS.retention_ms or 0) / 86_400_000


def redacted(item: ReviewItem) -> str:
    shown = show(item.comment.text, item.tags, reveal_private=False, limit=MAX_TEXT_CHARS)
    return "".join(s.text for s in shown.segments)


def example(d: Decided) -> dict[str, Any] | None:
    """One decision as a training example; ``None`` when it teaches nothing about a flag (forward,
    escalate) or the comment is gone from the platform (its text left the view)."""
    item = d.item
    if item is None or d.decision not in JUDGING or item.comment.deleted or not item.comment.text:
        return None
    flagged = [t for t in item.tags if t.category in item.flags]
    scores: dict[str, float] = {}
    for t in flagged:
        scores[t.clause] = max(scores.get(t.clause, 0.0), round(t.score, 4))
    return {
        "example_id": stable_id("example", item.review_id),
        "week": week_of(d.decided_at),
        "language": item.comment.language,
        "platform": item.comment.platform,
        "text": redacted(item),
        "post_text": item.post_text,
        "flagged": sorted(set(item.clauses)),
        "scores": scores,
        "detectors": sorted({t.detector for t in flagged}),
        "decision": d.decision,
        "verdicts": verdicts(d),
    }


def export_decisions(store: Store, out: Path, days: float = RETENTION_DAYS, now: float | None = None) -> int:
    """Write one JSON line per example to ``out`` (0600, replaced atomically); return how many."""
    now = now if now is not None else time.time()
    rows = [e for d in store.decided(now - days * 86400, items=True) if (e := example(d)) is not None]
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    partial.chmod(0o600)
    partial.replace(out)
    return len(rows)
