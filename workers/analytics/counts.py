"""From a tagged comment to windowed counters, and from counters to ``Aggregate`` events.

Counters are plain JSON-able dicts because they live in faust tables (changelog topics) as values.
Windows are tumbling and aligned on UTC hours and days, by the comment's ``created_at``: analysts
ask when residents wrote, not when the worker happened to read it.

A batch of comments is grouped by counter first (``Pending``) so that each counter is read and
written once per batch; its comments are then added in arrival order (``add_all``), the very
additions counting them one at a time would make, so the totals are the same to the last bit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from schemas import Aggregate, TaggedComment
from workers.analytics.perception import classify, score
from workers.analytics.tagged import TaggedPart, decode_tagged
from workers.analytics.topics import topics_of

WindowName = Literal["hour", "day"]
WINDOWS: dict[WindowName, timedelta] = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
Counts = dict[str, Any]
"""``{"comments", "flagged", "clauses": {clause: n}, "s_sum", "s_n", "pos", "neg", "neu"}``."""


@dataclass(frozen=True)
class Observation:
    """All that analytics keeps of one comment. Holds no text, handle or id of a person."""

    at: datetime
    platform: str
    post: str
    language: str
    clauses: tuple[str, ...]
    flagged: bool
    topics: tuple[str, ...]
    sentiment: float | None


def observe(tagged: TaggedComment | TaggedPart) -> Observation:
    comment = tagged.comment
    flagged_tags = [t for t in tagged.tags if t.category in tagged.flags]
    return Observation(
        at=comment.created_at.astimezone(UTC),
        platform=comment.platform,
        post=f"{comment.platform}:{comment.post_id}",
        language=tagged.language,
        clauses=tuple(sorted({t.clause for t in flagged_tags})),
        flagged=any(t.clause.startswith("5.7") for t in flagged_tags),
        topics=topics_of(comment.text),
        sentiment=score(comment.text, tagged.language),
    )


def dimension_keys(obs: Observation) -> list[tuple[str, str]]:
    """``(dimension, key)`` pairs this comment counts under; a table key is ``dimension|key``."""
    keys = [("all", "all"), ("platform", obs.platform), ("post", obs.post), ("language", obs.language)]
    keys.extend(("clause", clause) for clause in obs.clauses)
    keys.extend(("topic", topic) for topic in obs.topics)
    return keys


def window_start(at: datetime, window: WindowName) -> datetime:
    hour = at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return hour if window == "hour" else hour.replace(hour=0)


def empty() -> Counts:
    return {"comments": 0, "flagged": 0, "clauses": {}, "s_sum": 0.0, "s_n": 0, "pos": 0, "neg": 0, "neu": 0}


_PERCEPTION_FIELD = {"positive": "pos", "negative": "neg", "neutral": "neu"}


def add_all(counts: Counts | None, observations: list[Observation]) -> Counts:
    """A new counter with ``observations`` added in order (``{}`` is a new window); the input is
    left untouched."""
    out = {**empty(), **(counts or {})}
    clauses = out["clauses"] = dict(out["clauses"])
    for obs in observations:
        out["comments"] += 1
        out["flagged"] += int(obs.flagged)
        for clause in obs.clauses:
            clauses[clause] = clauses.get(clause, 0) + 1
        if obs.sentiment is not None:
            out["s_sum"] += obs.sentiment
            out["s_n"] += 1
            out[_PERCEPTION_FIELD[classify(obs.sentiment)]] += 1
    return out


def add(counts: Counts | None, obs: Observation) -> Counts:
    """A new counter with ``obs`` added (``{}`` is a new window); the input is left untouched."""
    return add_all(counts, [obs])


def expired(start: datetime, window: WindowName, now: datetime, expires: Mapping[WindowName, timedelta]) -> bool:
    """True when the table has already dropped (or is about to drop) this window."""
    return start + WINDOWS[window] <= now - expires[window]


CounterKey = tuple[WindowName, float, str]
"""(window, its start as a POSIX timestamp, table key ``shard|dimension|key``)."""


def shard_of(table_key: str) -> int:
    return int(table_key.partition("|")[0])


@dataclass
class Pending:
    """A batch's observations grouped by the counters they add to, each list in arrival order."""

    expires: Mapping[WindowName, timedelta]
    by_counter: dict[CounterKey, list[Observation]] = field(default_factory=dict)
    comments: int = 0
    late: int = 0
    """Comments with a window too old to count (see ``expired``)."""

    _windows: dict[float, tuple[list[tuple[WindowName, float]], bool]] = field(default_factory=dict)
    """By the hour a comment was written: its windows still counted (name, start), and whether one
    has expired. A batch's comments mostly share an hour."""

    def add(self, obs: Observation, shard: int, now: datetime) -> None:
        """Count ``obs``, read from input partition ``shard``, in every window it falls in."""
        self.comments += 1
        at = obs.at.timestamp()
        hour = at - at % 3600
        windows = self._windows.get(hour)
        if windows is None:
            windows = self._windows[hour] = self._windows_of(obs.at, now)
        counted, late = windows
        self.late += late
        if not counted:
            return
        keys = [f"{shard}|{dimension}|{key}" for dimension, key in dimension_keys(obs)]
        by_counter = self.by_counter
        for window, start_ts in counted:
            for table_key in keys:
                by_counter.setdefault((window, start_ts, table_key), []).append(obs)

    def _windows_of(self, at: datetime, now: datetime) -> tuple[list[tuple[WindowName, float]], bool]:
        counted: list[tuple[WindowName, float]] = []
        for window in WINDOWS:
            start = window_start(at, window)
            if not expired(start, window, now, self.expires):
                counted.append((window, start.timestamp()))
        return counted, len(counted) < len(WINDOWS)


def observe_batch(
    messages: list[tuple[bytes | None, int]], now: datetime, expires: Mapping[WindowName, timedelta]
) -> tuple[Pending, dict[int, Exception]]:
    """Decode, observe and group a batch of ``(comments.tagged value, partition)``; pure, so it can
    run in a thread. Returns the grouped observations and, by position, why a message was not counted.
    """
    pending = Pending(expires)
    failed: dict[int, Exception] = {}
    for position, (value, shard) in enumerate(messages):
        try:
            tagged = decode_tagged(value)
            if tagged.comment.counted_before:
                continue  # each comment counts once, as first received
            obs = observe(tagged)
        except Exception as exc:  # SchemaError, or a bug in observe: dead-letter this one, count the rest
            failed[position] = exc
            continue
        pending.add(obs, shard, now)
    return pending, failed


def to_aggregate(
    window: WindowName, start: datetime, dimension: str, key: str, shard: int, counts: Counts
) -> Aggregate:
    s_n = int(counts.get("s_n", 0))
    return Aggregate(
        window=window,
        window_start=start,
        window_end=start + WINDOWS[window],
        dimension=dimension,  # type: ignore[arg-type]
        key=key[:256],
        comments=int(counts.get("comments", 0)),
        flagged=int(counts.get("flagged", 0)),
        by_clause={str(k): int(v) for k, v in sorted(counts.get("clauses", {}).items())},
        sentiment_mean=round(max(-1.0, min(1.0, counts["s_sum"] / s_n)), 4) if s_n else None,
        sentiment_count=s_n,
        positive=int(counts.get("pos", 0)),
        negative=int(counts.get("neg", 0)),
        neutral=int(counts.get("neu", 0)),
        shard=shard,
    )


def aggregate_key(aggregate: Aggregate) -> str:
    """Kafka key: one running total per window, dimension, key and shard; the latest one wins."""
    return "|".join(
        (aggregate.window, aggregate.window_start.isoformat(), aggregate.dimension, aggregate.key, str(aggregate.shard))
    )
