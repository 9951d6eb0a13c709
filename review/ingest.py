"""Keeps the view (``store``) up to date with the topics, exactly once per record.

No consumer group: the view's position is the offsets stored with its rows, so each service
instance has its own complete view and a rebuild is a replay from the earliest offsets. A record
that does not decode is sent whole to ``comments.deadletter`` with the reason, and the view moves
on past it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from review.metrics import ReviewMetrics
from review.store import Store
from runtime.settings import kafka_auth
from schemas import (
    Aggregate,
    AuditRecord,
    Decision,
    Event,
    Post,
    PostReviewItem,
    ReviewItem,
    SchemaError,
    TaggedComment,
    decode,
)
from schemas.topics import (
    ANALYTICS_AGGREGATES,
    AUDIT_LOG,
    COMMENTS_TAGGED,
    MODERATION_DECISIONS,
    MODERATION_REVIEW,
    POSTS,
    POSTS_REVIEW,
    TopicSpec,
)

log = structlog.get_logger("civicwatch.review.ingest")

SOURCES: tuple[tuple[TopicSpec, type[Event]], ...] = (
    (MODERATION_REVIEW, ReviewItem),
    (COMMENTS_TAGGED, TaggedComment),
    (MODERATION_DECISIONS, Decision),
    (AUDIT_LOG, AuditRecord),
    (ANALYTICS_AGGREGATES, Aggregate),
    (POSTS, Post),
    (POSTS_REVIEW, PostReviewItem),
)

DeadLetterSink = Callable[[ConsumerRecord[Any, Any], SchemaError], Awaitable[None]]


def apply(store: Store, event: Event, key: bytes | None) -> None:
    if isinstance(event, ReviewItem):
        store.put_review_item(event)
    elif isinstance(event, TaggedComment):
        store.put_tagged(event)
    elif isinstance(event, Decision):
        store.put_decision(event)
    elif isinstance(event, AuditRecord):
        store.put_audit(event)
    elif isinstance(event, Aggregate):
        store.put_aggregate((key or b"").decode("utf-8", "replace") or event.model_dump_json(), event)
    elif isinstance(event, Post):
        store.put_post(event)
    elif isinstance(event, PostReviewItem):
        store.put_post_item(event)


class Ingest:
    """The consumer loop; ``running`` and ``caught_up`` feed the health endpoint."""

    def __init__(
        self, store: Store, bootstrap: str, prefix: str, metrics: ReviewMetrics, dead_letter: DeadLetterSink
    ) -> None:
        self.store = store
        self.bootstrap = bootstrap
        self.metrics = metrics
        self.dead_letter = dead_letter
        self.topics = {spec.full_name(prefix): (spec, model) for spec, model in SOURCES}
        self.running = False
        self.lag: dict[str, int] = {}
        self.last_error: str | None = None
        self.applied = 0

    @property
    def caught_up(self) -> bool:
        return self.running and sum(self.lag.values()) == 0

    async def run(self) -> None:
        """Consume until cancelled; on any broker error, back off and start again from the view's offsets."""
        backoff = 1.0
        while True:
            try:
                await self._consume()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.running = False
                self.metrics.consumer_up.set(0)
                self.last_error = type(exc).__name__
                log.warning("review_consumer_failed", error=type(exc).__name__, retry_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    async def _assign(self, consumer: AIOKafkaConsumer) -> set[TopicPartition]:
        # ``consumer.topics()`` fetches partitions but keeps only the names; the cluster has both.
        cluster = await consumer._client.fetch_all_metadata()
        present = cluster.topics()
        tps = {
            TopicPartition(topic, p)
            for topic in self.topics
            if topic in present
            for p in cluster.partitions_for_topic(topic) or ()
        }
        missing = sorted(set(self.topics) - present)
        if missing:
            log.warning("review_topics_missing", topics=missing)
        consumer.assign(list(tps))
        stored = self.store.offsets()
        for tp in tps:
            offset = stored.get((tp.topic, tp.partition))
            if offset is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, offset)
        return tps

    async def _consume(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id="civicwatch-review",
            max_partition_fetch_bytes=2 * 1024 * 1024,
            isolation_level="read_committed",  # the worker's outputs are transactional: never show an aborted batch
            **kafka_auth(),
        )
        await consumer.start()
        try:
            assigned = await self._assign(consumer)
            refreshed = time.monotonic()
            self.running = True
            self.last_error = None
            self.metrics.consumer_up.set(1)
            log.info("review_consumer_started", partitions=len(assigned))
            while True:
                if time.monotonic() - refreshed > 30:  # topics created later, partitions added
                    assigned = await self._assign(consumer)
                    refreshed = time.monotonic()
                batch = await consumer.getmany(timeout_ms=500, max_records=500)
                if batch:
                    await self._apply(batch)
                self._measure_lag(consumer, assigned)
        finally:
            self.running = False
            self.metrics.consumer_up.set(0)
            await consumer.stop()

    async def _apply(self, batch: dict[TopicPartition, list[ConsumerRecord[Any, Any]]]) -> None:
        decoded: list[tuple[TopicSpec, Event, bytes | None]] = []
        for tp, records in batch.items():
            spec, model = self.topics[tp.topic]
            for record in records:
                try:
                    decoded.append((spec, decode(record.value, model), record.key))
                except SchemaError as exc:
                    # Sent before the offsets move: a crash here re-sends rather than loses it.
                    await self.dead_letter(record, exc)
                    self.metrics.invalid.labels(spec.name).inc()
        with self.store.transaction():
            for _, event, key in decoded:
                apply(self.store, event, key)
            for tp, records in batch.items():
                self.store.set_offset(tp.topic, tp.partition, records[-1].offset + 1)
        for spec, _, _ in decoded:
            self.metrics.records.labels(spec.name).inc()
        self.applied += len(decoded)

    def _measure_lag(self, consumer: AIOKafkaConsumer, assigned: set[TopicPartition]) -> None:
        stored = self.store.offsets()
        lag: dict[str, int] = {}
        for tp in assigned:
            high = consumer.highwater(tp)
            if high is None:
                continue
            name = self.topics[tp.topic][0].name
            lag[name] = lag.get(name, 0) + max(0, high - stored.get((tp.topic, tp.partition), 0))
        for name, value in lag.items():
            self.metrics.lag.labels(name).set(value)
        self.lag = lag
