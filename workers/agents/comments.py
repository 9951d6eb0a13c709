"""Ingest, classify and route comments in one agent: the faust shell (stream, transactions, resync)
around the pure step in ``workers.comment_step`` (decode, dedupe, route).

One hop instead of three: decoding, dedupe and routing are cheap next to classification, and an
internal topic between them would add a produce/consume round trip to every comment's latency for
no gain in isolation. Comments are taken in batches so the detectors vectorise their work.

Guarantee: exactly-once for readers with ``isolation_level=read_committed``. The outputs of a batch
(tagged, review, council, auto-hide action and audit, dead letters) and the input offset commit
in one Kafka transaction per input partition (``workers.transactions``), so a crash at any point
leaves either all of a batch or none of it, and the batch is redone from the committed offset.
faust never commits this topic's offsets itself (``workers.app``), a new owner starts from the
*stable* committed offset, and a batch that does not continue exactly from it is not committed.
Dedupe (same ``platform:comment_id`` and the same text) catches a connector that sends a comment
twice; its table is written only after the commit, so it can let a duplicate through after a
crash but never make the worker skip a comment. Ids of reviews and forwards derive from the
comment, so even that duplicate is recognisable downstream. An edited comment has new text and is
classified again.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import defaultdict
from typing import Any

import structlog
from aiokafka import TopicPartition
from faust.streams import _current_event
from faust.types import TP

from pipelines.pipeline import PolicyPipeline
from workers.app import (
    app,
    comments_raw,
    post_texts,
    seen_comments,
    settings,
)
from workers.batching import queued_batches
from workers.comment_step import CommentBatch, CommentStep, OutputTopics, Pending, classify_safely, partition_of
from workers.transactions import Output, PartitionRevoked, PartitionTransactions

__all__ = ["CommentBatch", "comments", "finish_batch", "gaps", "pipeline", "prepare_batch", "resync", "stale"]

log = structlog.get_logger("civicwatch.comments")

_pipeline: PolicyPipeline | None = None
_transactions: PartitionTransactions | None = None
_policy_label: str | None = None


def pipeline() -> PolicyPipeline:
    """Built once per process: loading the policy and models is the slow part of start-up."""
    global _pipeline
    if _pipeline is None:
        _pipeline = PolicyPipeline(settings.policy_path, batch_size=settings.batch_size)
    return _pipeline


def policy_label() -> str:
    global _policy_label
    if _policy_label is None:
        _policy_label = pipeline().policy.name + "@" + pipeline().policy.version
    return _policy_label


def transactions() -> PartitionTransactions:
    """One per process; faust's consumer group id is the app id."""
    global _transactions
    if _transactions is None:
        _transactions = PartitionTransactions(
            settings.bootstrap_servers,
            app.conf.id,
            owned=lambda: {TopicPartition(tp.topic, tp.partition) for tp in app.consumer.assignment()},
        )
    return _transactions


@app.on_partitions_assigned.connect  # type: ignore[arg-type]
async def log_assignment(sender: Any, assigned: set[Any], **_: Any) -> None:
    """Fence the partitions' previous owners before reading them; log what this worker now owns."""
    raw = comments_raw.get_topic_name()
    mine = {TopicPartition(tp.topic, tp.partition) for tp in assigned if tp.topic == raw}
    _assignment_settled.clear()
    try:
        _next_offset.clear()
        _abandoned.clear()
        _resyncing.clear()
        await transactions().prepare(mine)
        # Read only now: fencing made the previous owner's last transaction final, so these are
        # the offsets it really committed. Events before them may still arrive from a fetch made
        # before faust's seek; they are the previous owner's and must not be processed again.
        _next_offset.update(await transactions().committed(mine))
    finally:
        _assignment_settled.set()
    log.info(
        "partitions_assigned",
        partitions=sorted(tp.partition for tp in mine),
        committed={tp.partition: offset for tp, offset in sorted(_next_offset.items())},
    )


@app.on_before_shutdown.connect  # type: ignore[arg-type]
async def close_transactions(sender: Any, **_: Any) -> None:
    """The stream has stopped, so no transaction is open: close the producers cleanly."""
    if _transactions is not None:
        await _transactions.close()


def _enter(event: Any) -> None:
    # Table writes go to the changelog partition of the *current* event; in a batch that must be
    # the event being handled, not the batch's last one.
    _current_event.set(weakref.ref(event))


@app.agent(comments_raw)
async def comments(stream: Any) -> None:
    """Batch whatever is waiting, up to ``batch_size``: big batches under load, no wait when idle.

    While one batch commits, the next is classified (in a thread, so the event loop keeps the
    commit's network traffic moving); commits stay in batch order.

    Not ``stream.take_events``: under CPU pressure it can clear an event that arrived while the
    previous batch was being handled, and the next batch's commit would then skip it for good.
    A batch is taken only from what is already queued, so no event waits unacked for more to come,
    and none is held across a rebalance (``workers.batching``).
    """
    manual = stream.noack()
    finishing: asyncio.Task[None] | None = None
    try:
        async for batch in queued_batches(manual, settings.batch_size):
            prepared = await prepare_batch(batch)
            if finishing is not None:
                await finishing
            finishing = asyncio.create_task(finish_batch(prepared, manual))
            if manual.channel.empty():
                await finishing  # idle: commit now rather than with the next comment
    finally:
        if finishing is not None and not finishing.done():
            await finishing


step = CommentStep(OutputTopics.with_prefix(settings.topic_prefix), policy_label)
"""Decode, dedupe and route (``workers.comment_step``); its ``pending_marks`` outlive a batch."""


async def prepare_batch(events: list[Any]) -> CommentBatch:
    """Decode, dedupe, classify and route one batch. Nothing here may raise for a bad message."""
    prepared = CommentBatch(events, time.perf_counter())
    batch: list[Pending] = []
    in_batch: set[tuple[str, str]] = set()
    for event in events:
        tp = partition_of(event)
        if tp in _abandoned or await stale(tp, event.message.offset):
            continue
        prepared.taken.append(event)
        prepared.seeks.setdefault(tp, _seeks[tp])
        prepared.starts.setdefault(tp, event.message.offset)
        prepared.ends[tp] = event.message.offset + 1
        _enter(event)
        pending = step.admit(prepared, event, seen_comments.get, post_texts.get, in_batch)
        if pending is not None:
            batch.append(pending)
    results = await asyncio.to_thread(classify_safely, pipeline(), batch) if batch else []
    step.route(prepared, batch, results)
    return prepared


async def finish_batch(prepared: CommentBatch, stream: Any) -> None:
    """Commit each partition's outputs with its offset, then mark the comments as seen and ack.

    A comment is marked as seen only after that commit, so a batch interrupted half-way is
    processed again, never skipped.
    """
    try:
        await _assignment_settled.wait()
        for tp in [tp for tp in prepared.ends if tp in _abandoned]:  # an earlier batch was handed over
            del prepared.ends[tp]
        for tp in [tp for tp, end in prepared.ends.items() if end <= _next_offset.get(tp, -1)]:
            log.info("committed_events_skipped", partition=tp.partition, offset=prepared.starts[tp])
            del prepared.ends[tp]
        for tp, offset in gaps(prepared).items():
            if prepared.seeks[tp] == _seeks[tp]:  # else read before the latest seek, which covers it
                await resync(tp, offset, prepared.starts[tp])
            del prepared.ends[tp]
        classified = time.perf_counter()
        committed = await commit_partitions(prepared.outputs, prepared.ends)
        commit_ms = round((time.perf_counter() - classified) * 1000, 1)
        for tp in committed:
            _next_offset[tp] = prepared.ends[tp]
            for event, key, digest in prepared.marks[tp]:
                _enter(event)
                seen_comments[key] = digest
    finally:
        step.release(prepared)
        for event in prepared.events:
            await stream.ack(event)
    log.info(
        "batch_processed",
        comments=prepared.comments,
        duplicates=prepared.duplicates,
        dead_lettered=prepared.dead,
        flagged=prepared.flagged,
        partitions=len(committed),
        ms=round((time.perf_counter() - prepared.started) * 1000, 1),
        commit_ms=commit_ms,
    )


_abandoned: set[TopicPartition] = set()
_next_offset: dict[TopicPartition, int] = {}
"""Per owned input partition, the group's committed offset: the next batch must start there."""
_assignment_settled = asyncio.Event()
"""Cleared while a rebalance fences previous owners and reads committed offsets; commits wait for it."""
_assignment_settled.set()


_resyncing: dict[TopicPartition, tuple[int, float]] = {}
"""Partitions sought back to their committed offset after a gap: that offset and when."""
_seeks: dict[TopicPartition, int] = defaultdict(int)
RESEEK_S = 10.0
"""A resync whose offset has not come back after this long seeks again."""


def gaps(prepared: CommentBatch) -> dict[TopicPartition, int]:
    """Partitions whose events in this batch do not continue exactly from the committed offset.

    Maps each to the offset it must be read from again. faust drops messages it fetched while its
    flow was suspended during a rebalance and relies on a later seek; when that seek came first,
    the messages would be skipped for good, so they are detected here instead of trusted.
    """
    sizes: dict[TopicPartition, int] = defaultdict(int)
    outside: set[TopicPartition] = set()
    for event in prepared.taken:
        tp = TopicPartition(event.message.topic, event.message.partition)
        if tp in prepared.ends:
            sizes[tp] += 1
            if not prepared.starts[tp] <= event.message.offset < prepared.ends[tp]:
                outside.add(tp)
    found = {}
    for tp, end in prepared.ends.items():
        start, expected = prepared.starts[tp], _next_offset.get(tp, prepared.starts[tp])
        if start != expected or end - start != sizes[tp] or tp in outside:
            found[tp] = expected
    return found


async def resync(tp: TopicPartition, offset: int, seen_start: int) -> None:
    """Read ``tp`` again from ``offset``, once per gap (again if it has not come back in ``RESEEK_S``)."""
    pending = _resyncing.get(tp)
    if pending is not None and pending[0] == offset and time.monotonic() - pending[1] < RESEEK_S:
        return
    _resyncing[tp] = (offset, time.monotonic())
    _seeks[tp] += 1
    log.warning("input_gap_resynced", partition=tp.partition, expected=offset, offset=seen_start)
    await app.consumer.seek_wait({TP(tp.topic, tp.partition): offset})  # in the consumer's own thread


async def reseek_overdue() -> None:
    """Seek again for a resync whose offset has not come back, even when no event arrives at all."""
    for tp, (offset, since) in list(_resyncing.items()):
        if time.monotonic() - since >= RESEEK_S:
            await resync(tp, offset, -1)


@app.timer(interval=RESEEK_S / 2)  # type: ignore[untyped-decorator]
async def resync_watchdog() -> None:
    await reseek_overdue()


async def stale(tp: TopicPartition, offset: int) -> bool:
    """Whether an event was read before its partition's resync seek, and must be dropped.

    Events already queued for the agent when the seek happened still arrive, in order, before the
    re-read ones; the first re-read event is the one at the sought offset. A batch mixing the two
    would look like a gap again and, once the re-read head was dropped with it, the partition could
    never continue.
    """
    pending = _resyncing.get(tp)
    if pending is None:
        return False
    if offset == pending[0]:
        del _resyncing[tp]
        return False
    if time.monotonic() - pending[1] >= RESEEK_S:
        await resync(tp, pending[0], offset)
    return True


async def commit_partitions(
    outputs: dict[TopicPartition, list[Output]], ends: dict[TopicPartition, int]
) -> set[TopicPartition]:
    """Commit each input partition's outputs and offset; return the partitions that were committed."""
    tps = list(ends)
    results = await asyncio.gather(
        *(transactions().commit(tp, outputs.get(tp, []), ends[tp]) for tp in tps), return_exceptions=True
    )
    committed = set()
    for tp, outcome in zip(tps, results, strict=True):
        if isinstance(outcome, PartitionRevoked):
            log.warning("batch_handed_over", partition=tp.partition)
            _abandoned.add(tp)  # its later events are the new owner's too, until our next assignment
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            committed.add(tp)
    return committed
