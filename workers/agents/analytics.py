"""Windowed analytics of ``comments.tagged`` for analysts, published to ``analytics.aggregates``.

Counting (clauses 2.2.3, 2.2.8): every tagged comment becomes an ``Observation`` (no text, handle or
author id) and adds to hour and day tumbling windows of faust tables, keyed
``shard|dimension|key`` for dimensions all, platform, post, language, clause and topic, with a
perception score (``workers.analytics.perception``). Windows follow the comment's ``created_at``.

Why a shard in the key: faust writes a table key to the changelog partition of the event being
processed, so a key written from two input partitions would have two conflicting histories. Each
input partition therefore counts on its own, co-partitioned with ``comments.tagged`` (no
repartition topic, no extra hop), and readers sum the shards (``review.report``).

Batches: whatever is queued (up to ``CIVICWATCH_ANALYTICS_BATCH_SIZE``) is decoded and observed in a
thread, grouped by counter, and each counter is written once per batch, so a batch costs one
changelog record per counter instead of one per comment and counter (about a dozen per comment).
Each write is made as an event of the counter's own shard, so it lands in that shard's changelog
partition. Events are acked once their batch is counted.

Publishing: a timer sends the running total of every window touched since its last tick, keyed so
that the latest record per key wins. Windows are dropped from the tables after their expiry
(``CIVICWATCH_ANALYTICS_*_EXPIRES_DAYS``); a comment older than that is not counted, because
re-creating an expired window would publish a partial total over the full one. Counting is
at-least-once: a crash between the table writes and the offset commit can count a batch twice.

Run apart from classification (``civicwatch worker --agents analytics``), this is its own faust app
``<app id>-analytics``: its own consumer group on ``comments.tagged`` and its own table changelogs
(``runtime.settings.Settings.faust_app_id`` says why it must be).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import structlog
from faust.exceptions import PartitionsMismatch
from faust.streams import _current_event
from faust.types import TP

from schemas import encode
from workers.agents.deadletters import send_dead_letter
from workers.analytics.counts import (
    WINDOWS,
    Pending,
    WindowName,
    add_all,
    aggregate_key,
    observe_batch,
    shard_of,
    to_aggregate,
)
from workers.app import analytics_aggregates, app, comments_tagged, settings
from workers.batching import queued_batches
from workers.tables import expiring_table

log = structlog.get_logger("civicwatch.analytics")

_window_at: ContextVar[float] = ContextVar("analytics_window_at")
"""Start of the window being read or written: tables are relative to the comment's time, which
lives in the decoded event, not in the Kafka message timestamp faust would otherwise use."""


def _relative(_event: Any = None) -> float:
    return _window_at.get()


EXPIRES: dict[WindowName, timedelta] = {
    "hour": timedelta(days=settings.analytics_hour_expires_days),
    "day": timedelta(days=settings.analytics_day_expires_days),
}
# Declared here, not in workers.app, so that only processes counting comments.tagged subscribe to
# their changelogs: faust keeps a changelog's partitions with the input's only when the same group
# members read both.
analytics_hourly = expiring_table(
    app, "analytics-hour", key_type=str, default=dict, help="shard|dimension|key -> counters, per UTC hour"
).tumbling(WINDOWS["hour"], expires=EXPIRES["hour"])
analytics_daily = expiring_table(
    app, "analytics-day", key_type=str, default=dict, help="shard|dimension|key -> counters, per UTC day"
).tumbling(WINDOWS["day"], expires=EXPIRES["day"])
TABLES: dict[WindowName, Any] = {
    "hour": cast(Any, analytics_hourly).relative_to(_relative),
    "day": cast(Any, analytics_daily).relative_to(_relative),
}

GATHER_SECONDS = 0.05
IN_THREAD_FROM = 64
"""Batches at least this big are decoded and observed in a thread, so that the event loop keeps
the other agents' and the producers' traffic moving meanwhile; smaller ones are not worth the
hand-over to another thread."""

_dirty: set[tuple[WindowName, float, str]] = set()
_late = 0


def _as_event_of(event: Any) -> None:
    """Make ``event`` faust's current event: a table write goes to its partition's changelog."""
    _current_event.set(weakref.ref(event))


async def _refresh_consumer_metadata() -> None:
    """Have the consumer (in faust's consumer thread) re-read cluster metadata now rather than at
    its next periodic refresh (5 minutes); a changed partition count makes the group rejoin."""
    thread = cast(Any, app.consumer)._thread

    async def refresh() -> None:
        await thread._ensure_consumer()._client.force_metadata_update()

    await thread.call_thread(refresh)


async def tables_ready(event: Any, attempts: int = 120) -> None:
    """Return once faust agrees that the tables' changelogs match ``comments.tagged``.

    On a first start faust declares the changelog topics just before the group joins; when the
    join's metadata snapshot predates a changelog topic, faust sees 0 partitions, raises
    ``PartitionsMismatch`` and also leaves that changelog out of the assignment. Refreshing the
    consumer's metadata makes the group rejoin with the real count. Every table is checked before
    anything is written, so a batch is never counted in part.
    """
    _as_event_of(event)
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
        return


def write(pending: Pending, shard_events: dict[int, Any]) -> int:
    """Add each counter's observations to its table key; return the number of keys written."""
    written = 0
    for (window, start_ts, table_key), observations in pending.by_counter.items():
        _as_event_of(shard_events[shard_of(table_key)])
        token = _window_at.set(start_ts)
        try:
            table = TABLES[window]
            table[table_key] = add_all(table[table_key].value(), observations)
        finally:
            _window_at.reset(token)
        _dirty.add((window, start_ts, table_key))
        written += 1
    return written


async def count_batch(events: list[Any]) -> None:
    """Count a batch of ``comments.tagged`` events; bad ones go to the dead letters."""
    global _late
    started = time.perf_counter()
    messages = [(e.value if isinstance(e.value, bytes) else None, e.message.partition) for e in events]
    if len(messages) >= IN_THREAD_FROM:
        pending, failed = await asyncio.to_thread(observe_batch, messages, datetime.now(UTC), EXPIRES)
    else:
        pending, failed = observe_batch(messages, datetime.now(UTC), EXPIRES)
    for position, exc in failed.items():
        await send_dead_letter(events[position], "analytics", exc)
    shard_events = {e.message.partition: e for i, e in enumerate(events) if i not in failed}
    written = 0
    if pending.by_counter:
        await tables_ready(next(iter(shard_events.values())))
        written = write(pending, shard_events)
    _late += pending.late
    log.info(
        "analytics_batch_counted",
        comments=pending.comments,
        dead_lettered=len(failed),
        late=pending.late,
        counters=written,
        ms=round((time.perf_counter() - started) * 1000, 1),
    )


@app.agent(comments_tagged)
async def analytics(stream: Any) -> None:
    """Count whatever is waiting, up to the batch size: big batches under load, no wait when idle.

    Events reach the stream a few at a time even from a long backlog, so when the queue runs dry
    the agent waits ``GATHER_SECONDS`` once for more before counting: measured, without it most
    batches held one comment and cost a dozen table writes each. Aggregates are published every
    few seconds, so the wait costs analysts nothing.

    Not ``stream.take_events``: under CPU pressure it can drop an event that arrives while the
    previous batch is being handled. Events are acked only after their batch is counted, and a
    batch is never held across a rebalance (``workers.batching``).
    """
    manual = stream.noack()
    async for batch in queued_batches(manual, settings.analytics_batch_size, gather=GATHER_SECONDS):
        await count_batch(batch)  # if it raises, the worker stops with the batch unacked
        for counted in batch:
            await manual.ack(counted)


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
