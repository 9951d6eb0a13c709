"""What analysts read: shard totals summed, top posts and topics, CSV for their own tools.

Input is ``Aggregate`` records (latest per Kafka key); output never contains more than they do, so
no personal information can appear here either (clause 6.1).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from schemas import Aggregate

Measure = Literal["comments", "flagged"]
CSV_COLUMNS = (
    "window",
    "window_start",
    "window_end",
    "dimension",
    "key",
    "comments",
    "flagged",
    "by_clause",
    "sentiment_mean",
    "sentiment_count",
    "positive",
    "negative",
    "neutral",
    "confirmed",
    "false_alarms",
    "added",
)


@dataclass
class Total:
    """One window (or a span of windows) of one dimension key, all shards summed."""

    window: str
    window_start: datetime
    window_end: datetime
    dimension: str
    key: str
    comments: int = 0
    flagged: int = 0
    by_clause: dict[str, int] = field(default_factory=dict)
    sentiment_sum: float = 0.0
    sentiment_count: int = 0
    positive: int = 0
    negative: int = 0
    neutral: int = 0
    confirmed: int = 0
    false_alarms: int = 0
    added: int = 0

    @property
    def sentiment_mean(self) -> float | None:
        return self.sentiment_sum / self.sentiment_count if self.sentiment_count else None

    def absorb(self, other: Total | Aggregate) -> None:
        self.window_start = min(self.window_start, other.window_start)
        self.window_end = max(self.window_end, other.window_end)
        self.comments += other.comments
        self.flagged += other.flagged
        for clause, n in other.by_clause.items():
            self.by_clause[clause] = self.by_clause.get(clause, 0) + n
        if isinstance(other, Total):
            self.sentiment_sum += other.sentiment_sum
        elif other.sentiment_mean is not None:
            self.sentiment_sum += other.sentiment_mean * other.sentiment_count
        self.sentiment_count += other.sentiment_count
        self.positive += other.positive
        self.negative += other.negative
        self.neutral += other.neutral
        self.confirmed += other.confirmed
        self.false_alarms += other.false_alarms
        self.added += other.added


def combine(aggregates: Iterable[Aggregate]) -> list[Total]:
    """Sum the shards of each (window, start, dimension, key), ordered by start then dimension/key."""
    out: dict[tuple[str, datetime, str, str], Total] = {}
    for a in aggregates:
        k = (a.window, a.window_start, a.dimension, a.key)
        total = out.get(k)
        if total is None:
            total = out[k] = Total(a.window, a.window_start, a.window_end, a.dimension, a.key)
        total.absorb(a)
    return sorted(out.values(), key=lambda t: (t.window_start, t.dimension, t.key))


def over_span(totals: Iterable[Total], dimension: str) -> list[Total]:
    """One total per key of ``dimension`` across every window given."""
    out: dict[str, Total] = {}
    for t in totals:
        if t.dimension != dimension:
            continue
        span = out.get(t.key)
        if span is None:
            span = out[t.key] = Total(t.window, t.window_start, t.window_end, t.dimension, t.key)
        span.absorb(t)
    return list(out.values())


def top(totals: Iterable[Total], dimension: str, by: Measure = "comments", n: int = 10) -> list[Total]:
    """The ``n`` keys of ``dimension`` with most comments (or flags); ties broken by key for stability."""
    spans = [t for t in over_span(totals, dimension) if getattr(t, by) > 0]
    return sorted(spans, key=lambda t: (-getattr(t, by), t.key))[:n]


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet runs a cell starting with these as a formula (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_csv(totals: Iterable[Total]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for t in totals:
        mean = t.sentiment_mean
        writer.writerow(
            [
                _cell(v)
                for v in (
                    t.window,
                    t.window_start.isoformat(),
                    t.window_end.isoformat(),
                    t.dimension,
                    t.key,
                    t.comments,
                    t.flagged,
                    ";".join(f"{c}={n}" for c, n in sorted(t.by_clause.items())),
                    f"{mean:.4f}" if mean is not None else "",
                    t.sentiment_count,
                    t.positive,
                    t.negative,
                    t.neutral,
                    t.confirmed,
                    t.false_alarms,
                    t.added,
                )
            ]
        )
    return buffer.getvalue()
