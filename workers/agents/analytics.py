"""Windowed analytics of ``comments.tagged`` for analysts, published to ``analytics.aggregates``.

Counting (clauses 2.2.3, 2.2.8): every tagged comment becomes an ``Observation`` (no text, handle or
author id) and adds to hour and day tumbling windows of faust tables, keyed
``shard|dimension|key`` for dimensions all, platform, post, language, clause and topic, with a
perception score (``workers.analytics.perception``). Windows follow the comment's ``created_at``.

Why a shard in the key: faust writes a table key to the changelog partition of the event being
processed, so a key written from two input partitions would have two conflicting histories. Each
input partition therefore counts on its own, co-partitioned with ``comments.tagged`` (no
repartition topic, no extra hop), and readers sum the shards (``workers.analytics.report``).

Publishing: a timer sends the running total of every window touched since its last tick, keyed so
that the latest record per key wins. Windows are dropped from the tables after their expiry
(``CIVICWATCH_ANALYTICS_*_EXPIRES_DAYS``); a comment older than that is not counted, because
re-creating an expired window would publish a partial total over the full one. Counting is
at-least-once like the rest of the worker: a crash between the table write and the offset commit
can count a comment twice.
"""

from __future__ import annotations

import asyncio
import time
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import structlog
from faust.exceptions import PartitionsMismatch
from faust.types import TP

from schemas import SchemaError, TaggedComment, decode, encode
from workers.agents.deadletters import send_dead_letter
from workers.analytics.counts import (
    WINDOWS,
    Observation,
    WindowName,
    add,
    aggregate_key,
    dimension_keys,
    observe,
    to_aggregate,
    window_start,
)
from workers.app import analytics_aggregates, analytics_daily, analytics_hourly, app, comments_tagged, settings

log = structlog.get_logger("civicwatch.analytics")

_window_at: ContextVar[float] = ContextVar("analytics_window_at")
"""Start of the window being read or written: tables are relative to the comment's time, which
lives in the decoded event, not in the Kafka message timestamp faust would otherwise use."""


def _relative(_event: Any = None) -> float:
    return _window_at.get()


TABLES: dict[WindowName, Any] = {
    "hour": cast(Any, analytics_hourly).relative_to(_relative),
    "day": cast(Any, analytics_daily).relative_to(_relative),
}
EXPIRES: dict[WindowName, timedelta] = {
    "hour": timedelta(days=settings.analytics_hour_expires_days),
    "day": timedelta(days=settings.analytics_day_expires_days),
}

_dirty: set[tuple[WindowName, float, str]] = set()
_late = 0


def expired(start: datetime, window: WindowName, now: datetime) -> bool:
    """True when the table has already dropped (or is about to drop) this window."""
    return start + WINDOWS[window] <= now - EXPIRES[window]


def count(obs: Observation, shard: int, now: datetime | None = None) -> int:
    """Add one observation to every window it falls in; return how many windows were too old."""
    now = now or datetime.now(UTC)
    late = 0
    for window, table in TABLES.items():
        start = window_start(obs.at, window)
        if expired(start, window, now):
            late += 1
            continue
        token = _window_at.set(start.timestamp())
        try:
            for dimension, key in dimension_keys(obs):
                table_key = f"{shard}|{dimension}|{key}"
                table[table_key] = add(table[table_key].value(), obs)
                _dirty.add((window, start.timestamp(), table_key))
        finally:
            _window_at.reset(token)
    return late


async def _refresh_consumer_metadata() -> None:
    """Have the consumer (in faust's consumer thread) re-read cluster metadata now rather than at
    its next periodic refresh (5 minutes); a changed partition count makes the group rejoin."""
    thread = cast(Any, app.consumer)._thread

    async def refresh() -> None:
        await thread._ensure_consumer()._client.force_metadata_update()

    await thread.call_thread(refresh)


async def count_when_ready(obs: Observation, shard: int, attempts: int = 120) -> int:
    """``count`` once faust agrees that the tables' changelogs match ``comments.tagged``.

    On a first start faust declares the changelog topics just before the group joins; when the
    join's metadata snapshot predates a changelog topic, faust sees 0 partitions, raises
    ``PartitionsMismatch`` and also leaves that changelog out of the assignment. Refreshing the
    consumer's metadata makes the group rejoin with the real count. Every table is checked before
    anything is written, so a retry never counts a window twice.
    """
    for attempt in range(attempts):
        try:
            for table in TABLES.values():
                table.table.partition_for_key(None)
        except PartitionsMismatch:
            if attempt == attempts - 1:
                raise
            if attempt == 0:
                log.warning("analytics_tables_not_ready", retry_s=1.0)
            if attempt % 5 == 0:
                await _refresh_consumer_metadata()
            await asyncio.sleep(1.0)
            continue
        break
    return count(obs, shard)


@app.agent(comments_tagged)
async def analytics(stream: Any) -> None:
    global _late
    async for event in stream.events():
        try:
            tagged = decode(event.value, TaggedComment)
        except SchemaError as exc:
            await send_dead_letter(event, "analytics", exc)
            continue
        try:
            _late += await count_when_ready(observe(tagged), event.message.partition) > 0
        except Exception as exc:  # a bug here must not stop analytics for every later comment
            await send_dead_letter(event, "analytics", exc)


def _owner(shard: int) -> bool | None:
    """Only the worker that owns an input partition may publish its counts (after a rebalance the
    previous owner's copy is stale); ``None`` while a rebalance leaves nothing assigned."""
    assigned = app.assignor.assigned_actives()
    if not assigned:
        return None
    return TP(comments_tagged.get_topic_name(), shard) in assigned


@app.timer(interval=settings.analytics_interval)  # type: ignore[untyped-decorator]
async def publish_aggregates() -> None:
    """Send the running totals of the windows touched since the last tick (no personal data)."""
    global _late
    if _late:
        log.warning("late_comments_not_counted", comments=_late)
        _late = 0
    if not _dirty:
        return
    started = time.perf_counter()
    touched = sorted(_dirty)
    _dirty.clear()
    sent = 0
    for window, start_ts, table_key in touched:
        shard, dimension, key = table_key.split("|", 2)
        owner = _owner(int(shard))
        if owner is None:
            _dirty.add((window, start_ts, table_key))  # mid-rebalance: decide at the next tick
            continue
        if not owner:
            continue
        token = _window_at.set(start_ts)
        try:
            counts = TABLES[window][table_key].value()
        finally:
            _window_at.reset(token)
        if not counts or not counts.get("comments"):
            continue  # expired in between: publishing zeros would overwrite the real total
        aggregate = to_aggregate(window, datetime.fromtimestamp(start_ts, UTC), dimension, key, int(shard), counts)
        try:
            await analytics_aggregates.send(key=aggregate_key(aggregate).encode(), value=encode(aggregate))
        except Exception:
            _dirty.add((window, start_ts, table_key))  # retried at the next tick
            log.exception("aggregate_publish_failed", window=window, dimension=dimension)
            continue
        sent += 1
    log.info("aggregates_published", aggregates=sent, ms=round((time.perf_counter() - started) * 1000, 1))
