"""The single faust application: its topics and tables, declared once from ``schemas.topics``.

Values travel as raw bytes and are decoded with ``schemas.codec``: the pydantic models are the wire
contract shared with kafka-python producers, and a decoding failure must reach our dead-letter path
instead of faust's own error handling (faust acks an event even when the agent raises).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import faust
import structlog
from aiokafka import TopicPartition
from faust.transport.drivers import aiokafka as faust_kafka
from kafka import KafkaAdminClient
from mode import CrashingSupervisor

from runtime.admin import ensure_topics
from runtime.logs import register_environment_secrets
from runtime.settings import Settings
from schemas.topics import (
    ANALYTICS_AGGREGATES,
    AUDIT_LOG,
    COMMENTS_DEADLETTER,
    COMMENTS_RAW,
    COMMENTS_TAGGED,
    COUNCIL_FORWARD,
    MODERATION_ACTIONS,
    MODERATION_DECISIONS,
    MODERATION_REVIEW,
    POSTS,
    POSTS_REVIEW,
    TopicSpec,
)
from workers.transactions import stable_committed

settings = Settings.from_env()
log = structlog.get_logger("civicwatch.app")
settings.data_dir.mkdir(parents=True, exist_ok=True)


register_environment_secrets()


def dedupe_store_options(conf: Settings) -> dict[str, Any]:
    """RocksDB options of the dedupe table: entries live ``dedupe_ttl_hours`` and the caches are small.

    Why on disk: the table holds one entry per comment ever seen, so in memory the worker grew about
    250 bytes a comment (docs/PERFORMANCE.md); on disk with a time-to-live its memory is the caches
    below, whatever the volume. The window must outlast every re-send: the connectors' lookback
    (7 days) and a replay of ``comments.raw`` from its last committed offset.
    """
    return {
        "ttl": max(1, round(conf.dedupe_ttl_hours * 3600)),
        "write_buffer_size": 4 * 1024 * 1024,
        "max_write_buffer_number": 2,
        "target_file_size_base": 16 * 1024 * 1024,
        "block_cache_size": 8 * 1024 * 1024,
    }


def dedupe_changelog_config(conf: Settings) -> dict[str, str]:
    """The changelog forgets what the store forgets, so a rebuilt table is as bounded as a live one."""
    return {"cleanup.policy": "compact,delete", "retention.ms": str(round(conf.dedupe_ttl_hours * 3600 * 1000))}


FETCH_MAX_WAIT_MS = 50


class ReadCommittedConsumerThread(faust_kafka.AIOKafkaConsumerThread):
    """faust reads ``read_committed`` only under its own exactly-once mode, which we do not use
    (see ``workers.transactions``); our agents that read the worker's outputs (analytics on
    ``comments.tagged``, decisions) must never see a crashed batch's aborted records."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        if not hasattr(consumer, "_isolation_level") or not hasattr(consumer, "_fetch_max_wait_ms"):
            raise RuntimeError("aiokafka's consumer changed: cannot set isolation level and fetch wait")
        consumer._isolation_level = "read_committed"
        # faust fixes the fetch wait at 1.5 s; measured, it put over a second into the median
        # latency from a comment's arrival to its verdict. 50 ms costs an idle worker a few
        # empty fetches per second.
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


TRANSACTIONAL_INPUTS = frozenset({COMMENTS_RAW.full_name(settings.topic_prefix)})
"""Input topics whose offsets commit inside the comment worker's transactions, never by faust."""


class _ReadOffsets(defaultdict[Any, int | None]):
    """faust's read offsets, except that transactional inputs never have one.

    faust drops every message below a partition's read offset, and raises the offset with each
    message it delivers. After a seek back, messages fetched before the seek and delivered after it
    raised it again, and faust then dropped the re-read ones: the partition stalled. The comment
    agent orders its input itself (committed offsets, gaps, resyncs), so faust need not filter it.
    """

    def __getitem__(self, tp: Any) -> int | None:
        if tp.topic in TRANSACTIONAL_INPUTS:
            return None
        return super().__getitem__(tp)


class ReadCommittedConsumer(faust_kafka.Consumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_offset = _ReadOffsets(lambda: None)

    def _new_consumer_thread(self) -> faust_kafka.AIOKafkaConsumerThread:
        return ReadCommittedConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def seek_to_committed(self) -> Mapping[Any, int]:
        """Start transactional inputs from their *stable* committed offsets.

        faust reads committed offsets without ``require_stable`` and then drops every message below
        what it read; right after a crashed owner's last transaction that value can disagree with
        what the transaction finally left, and comments would be skipped. The stable read waits
        until no transaction is pending on the partition.
        """
        committed = dict(await super().seek_to_committed())
        mine = {tp for tp in self.assignment() if tp.topic in TRANSACTIONAL_INPUTS}
        if not mine:
            return committed
        stable = await asyncio.to_thread(
            stable_committed,
            settings.bootstrap_servers,
            self.app.conf.id,
            {TopicPartition(tp.topic, tp.partition) for tp in mine},
        )
        for tp in mine:
            offset = stable.get(TopicPartition(tp.topic, tp.partition))
            if offset is not None and committed.get(tp) != offset:
                log.warning("committed_offset_corrected", partition=tp.partition, read=committed.get(tp), stable=offset)
                await self._seek(tp, offset)
                committed[tp] = offset
        return committed

    def _filter_committable_offsets(self, tps: Any) -> dict[Any, int]:
        """Leave transactional inputs out of faust's own commits.

        faust acks a batch even when its transaction was abandoned (the partition moved), and its
        periodic commit can land after, and below, a transaction's: either would break
        exactly-once. The acked offsets are still consumed here, so faust's bookkeeping stays
        bounded and its gauges current.
        """
        offsets: dict[Any, int] = super()._filter_committable_offsets(tps)
        for tp in [tp for tp in offsets if tp.topic in TRANSACTIONAL_INPUTS]:
            self._committed_offset[tp] = offsets.pop(tp)
        return offsets


class ReadCommittedTransport(faust_kafka.Transport):
    Consumer = ReadCommittedConsumer


class CivicwatchApp(faust.App):
    def _new_transport(self) -> Any:
        return ReadCommittedTransport(self.conf.broker_consumer, self)

    async def on_start(self) -> None:
        """Declare the tables' changelog topics before the consumer starts.

        faust creates them itself a moment before the first table write, and a broker under load
        may not list a topic that new yet: faust then reads "0 partitions", refuses the write and
        the agent crashes. Created here, they are in the consumer's very first metadata.
        """
        await super().on_start()
        specs = [
            TopicSpec(
                t.changelog_topic.get_topic_name(),
                "changelog",
                t.partitions,
                "compact",
                None,
                config=dict(t.extra_topic_configs or {}),
            )
            for t in self.tables.values()
        ]
        if specs:
            await asyncio.to_thread(declare_and_wait, settings, specs)


def declare_and_wait(conf: Settings, specs: list[TopicSpec], timeout: float = 60.0) -> None:
    ensure_topics(conf.bootstrap_servers, "", specs, default_partitions=conf.partitions, replication=conf.replication)
    names = {s.name for s in specs}
    admin = KafkaAdminClient(
        bootstrap_servers=conf.bootstrap_servers, client_id="civicwatch-admin", **conf.kafka_auth()
    )
    try:
        deadline = time.monotonic() + timeout
        while not names <= set(admin.list_topics()) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        admin.close()


def broker_credentials(conf: Settings) -> faust.SASLCredentials | None:
    """The worker's SASL log-in, from the same settings as every other client's."""
    auth = conf.kafka_auth()
    if not auth:
        return None
    return faust.SASLCredentials(
        username=auth["sasl_plain_username"],
        password=auth["sasl_plain_password"],
        mechanism=auth["sasl_mechanism"],
        ssl_context=auth.get("ssl_context"),
    )


app = CivicwatchApp(
    settings.faust_app_id,
    broker=["kafka://" + s.strip() for s in settings.bootstrap_servers.split(",")],
    store="memory://",  # small tables; the dedupe table names its own store
    datadir=str(settings.data_dir / settings.faust_app_id),
    topic_partitions=settings.partitions,
    topic_replication_factor=settings.replication,
    topic_allow_declare=True,
    topic_disable_leader=True,
    consumer_auto_offset_reset="earliest",
    producer_acks=-1,
    producer_linger=0.02,  # table changelog records go out in batches, not one request each
    producer_compression_type=None,  # CPU is the scarce resource; comments are small and the network local
    web_enabled=settings.web_port > 0,
    web_port=max(settings.web_port, 1),
    web_bind=settings.web_bind,
    table_cleanup_interval=60.0,
    broker_commit_every=500,
    broker_credentials=broker_credentials(settings),
    broker_session_timeout=settings.session_timeout,
    broker_heartbeat_interval=settings.session_timeout / 10,
    broker_commit_interval=1.0,
    stream_buffer_maxsize=4096,
    autodiscover=False,
    # An agent that crashes has stopped consuming; a worker that stays up without it would stall its
    # partitions silently. Crash the process instead: the supervisor (Kubernetes, Compose) restarts
    # it, and the transactions make a restart lose and repeat nothing.
    agent_supervisor=CrashingSupervisor,
)


if settings.web_port > 0:
    # /metrics on faust's web server: per-topic and per-partition counts, commit and send latency,
    # rebalances. Labels are topic, partition, stream and table names only, never message content.
    from faust.sensors.prometheus import setup_prometheus_sensors

    setup_prometheus_sensors(app, name_prefix="civicwatch")


def topic(spec: TopicSpec) -> Any:
    return app.topic(
        spec.full_name(settings.topic_prefix),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        internal=False,
    )


comments_raw = topic(COMMENTS_RAW)
posts_topic = topic(POSTS)
posts_review = topic(POSTS_REVIEW)
comments_tagged = topic(COMMENTS_TAGGED)
moderation_review = topic(MODERATION_REVIEW)
moderation_decisions = topic(MODERATION_DECISIONS)
moderation_actions = topic(MODERATION_ACTIONS)
council_forward = topic(COUNCIL_FORWARD)
analytics_aggregates = topic(ANALYTICS_AGGREGATES)
deadletter = topic(COMMENTS_DEADLETTER)
audit_log = topic(AUDIT_LOG)

seen_comments = app.Table(
    "seen-comments",
    key_type=str,
    value_type=str,
    default=None,
    help="comment key -> text digest, for dedupe",
    store="rocksdb:seen-comments",  # a bare "rocksdb://" is an empty (falsy) URL and faust would use the app's store
    options=dedupe_store_options(settings),
    extra_topic_configs=dedupe_changelog_config(settings),
)
post_texts = app.GlobalTable("post-texts", key_type=str, value_type=str, default=None, help="post key -> text")
# The analytics tables are declared by their agent (workers.agents.analytics): a process that does not
# count must not subscribe to their changelogs, or the group would place their partitions apart from
# the comments.tagged partitions they count.
