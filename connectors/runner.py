"""Runs a connector: poll, commit each batch with its checkpoint in one transaction, wait when told.

Resumption is the point of this module. Checkpoints live in the compacted ``connector.state``
topic, keyed ``connector:scope``; a batch's comments and the checkpoint that covers them commit in
one Kafka transaction, so after a crash the last committed checkpoint matches exactly what
read_committed consumers have seen: the restarted connector neither skips nor repeats a comment.

The runner never dies of one bad poll: ``Retry`` waits as long as asked, ``TransientError`` backs
off exponentially with jitter, a failed commit rewinds the connector to the last committed state.
Only a ``CredentialError`` (a token missing or rejected) stops it, naming the variable.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import structlog
from kafka import KafkaConsumer, TopicPartition

from connectors import metrics
from connectors.core import (
    Backoff,
    Batch,
    Clock,
    Connector,
    ConnectorError,
    CredentialError,
    NotFound,
    Retry,
    TransientError,
    utc,
)
from runtime.settings import kafka_auth
from runtime.sink import MemorySink, Sink
from schemas import Checkpoint, SchemaError, decode
from schemas.topics import COMMENTS_DEADLETTER, COMMENTS_RAW, CONNECTOR_STATE, POSTS

log = structlog.get_logger("civicwatch.connector")


def latest_checkpoints(values: Iterable[bytes | None], connector: str) -> dict[str, Checkpoint]:
    """Latest checkpoint per scope of one connector, from ``connector.state`` values in log order."""
    state: dict[str, Checkpoint] = {}
    for value in values:
        if value is None:
            continue
        try:
            cp = decode(value, Checkpoint)
        except SchemaError:
            log.warning("checkpoint_unreadable", connector=connector)
            continue
        if cp.connector == connector:
            state[cp.scope] = cp
    return state


class KafkaCheckpointStore:
    """Reads ``connector.state`` from the beginning to its end, committed records only."""

    def __init__(self, bootstrap: str, prefix: str = "", timeout: float = 60.0) -> None:
        self.bootstrap = bootstrap
        self.topic = CONNECTOR_STATE.full_name(prefix)
        self.timeout = timeout

    def load(self, connector: str) -> dict[str, Checkpoint]:
        consumer = KafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
            client_id=f"civicwatch-state-{connector}",
            **kafka_auth(),
        )
        try:
            partitions = consumer.partitions_for_topic(self.topic)
            if not partitions:
                raise ConnectorError(f"topic {self.topic} does not exist; run `civicwatch topics create` first")
            tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            end = consumer.end_offsets(tps)
            values: list[bytes | None] = []
            deadline = time.monotonic() + self.timeout
            while any(consumer.position(tp) < end[tp] for tp in tps):
                if time.monotonic() > deadline:
                    # Starting from a stale checkpoint would re-produce comments: refuse instead.
                    raise TransientError(f"could not read {self.topic} to its end in {self.timeout:.0f}s")
                for records in consumer.poll(timeout_ms=500).values():
                    values.extend(r.value for r in records)
            return latest_checkpoints(values, connector)
        finally:
            consumer.close()


@dataclass
class MemoryCheckpointStore:
    """Reads the committed checkpoints a ``MemorySink`` holds: the test double of the Kafka store."""

    sink: MemorySink

    def load(self, connector: str) -> dict[str, Checkpoint]:
        values = [v for _, v in self.sink.topics.get(CONNECTOR_STATE.full_name(self.sink.prefix), [])]
        return latest_checkpoints(values, connector)


def commit_batch(sink: Sink, batch: Batch, connector: str) -> None:
    """Everything of one batch in one transaction: events, dead letters, then the checkpoints."""
    with sink.transaction():
        for post in batch.posts:
            sink.send(POSTS, post)
        for comment in batch.comments:
            sink.send(COMMENTS_RAW, comment)
        for letter in batch.dead_letters:
            sink.send(COMMENTS_DEADLETTER, letter)
        for cp in batch.checkpoints:
            sink.send(CONNECTOR_STATE, cp)
    if batch.posts:
        metrics.PRODUCED.labels(connector, POSTS.name).inc(len(batch.posts))
    if batch.comments:
        metrics.PRODUCED.labels(connector, COMMENTS_RAW.name).inc(len(batch.comments))
    if batch.dead_letters:
        metrics.DEAD_LETTERED.labels(connector).inc(len(batch.dead_letters))


@dataclass
class RunStats:
    polls: int = 0
    comments: int = 0
    posts: int = 0
    dead_lettered: int = 0
    retries: int = 0


class Runner:
    """Drives one connector until ``stop`` is set (or ``max_polls`` polls, for tests)."""

    def __init__(
        self,
        connector: Connector,
        sink: Sink,
        store: Any,
        clock: Clock,
        *,
        backoff: Backoff | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.connector = connector
        self.sink = sink
        self.store = store
        self.clock = clock
        self.backoff = backoff or Backoff()
        self.stop = stop or threading.Event()
        self.stats = RunStats()
        self.committed: dict[str, Checkpoint] = {}

    def start(self) -> None:
        """Load the committed state and hand it to the connector (which checks its tokens)."""
        self.committed = self.store.load(self.connector.name)
        self.connector.start(self.committed)
        log.info("connector_started", connector=self.connector.name, scopes=len(self.committed))

    def run(self, max_polls: int | None = None) -> RunStats:
        name = self.connector.name
        while not self.stop.is_set() and (max_polls is None or self.stats.polls < max_polls):
            self.stats.polls += 1
            try:
                batch = self.connector.poll()
            except Retry as exc:
                self._wait(exc.after, exc.reason)
                continue
            except TransientError as exc:
                self._backoff(exc.reason)
                continue
            except CredentialError:
                raise  # a revoked token: stop and say which
            except Exception as exc:  # a bug or an unforeseen answer: keep the process, back off, retry
                self._backoff(f"unexpected {type(exc).__name__}")
                continue
            self.backoff.reset()
            metrics.FETCHED.labels(name).inc(batch.fetched)
            batch.checkpoints = [cp for cp in batch.checkpoints if self._changed(cp)]
            if not batch:
                continue
            try:
                commit_batch(self.sink, batch, name)
            except Exception as exc:  # broker trouble: forget uncommitted progress, try again later
                log.warning("batch_commit_failed", connector=name, error=type(exc).__name__)
                self.connector.start(self.committed)
                self._backoff("commit_failed")
                continue
            self.committed.update({cp.scope: cp for cp in batch.checkpoints})
            self.stats.comments += len(batch.comments)
            self.stats.posts += len(batch.posts)
            self.stats.dead_lettered += len(batch.dead_letters)
            log.info(
                "batch_committed",
                connector=name,
                comments=len(batch.comments),
                posts=len(batch.posts),
                dead_lettered=len(batch.dead_letters),
                scopes=[cp.scope for cp in batch.checkpoints],
            )
        return self.stats

    def _changed(self, cp: Checkpoint) -> bool:
        """An idle poll re-states the same position: no need to write it again."""
        old = self.committed.get(cp.scope)
        return old is None or (old.cursor, old.details) != (cp.cursor, cp.details)

    def _wait(self, seconds: float, reason: str) -> None:
        if reason != "idle":
            self.stats.retries += 1
            metrics.RETRIED.labels(self.connector.name, reason).inc()
            log.info("poll_deferred", connector=self.connector.name, reason=reason, seconds=round(seconds, 1))
        self.clock.sleep(seconds)

    def _backoff(self, reason: str) -> None:
        delay = self.backoff.next_delay()
        self.stats.retries += 1
        metrics.RETRIED.labels(self.connector.name, "transient").inc()
        log.warning(
            "poll_failed_retrying",
            connector=self.connector.name,
            reason=reason,
            attempt=self.backoff.attempt,
            seconds=round(delay, 1),
        )
        self.clock.sleep(delay)


class PolledScope(Protocol):
    """One thing a connector polls with its own resume point (a conversation, a post's comments)."""

    due: float
    closed: bool

    @property
    def kind(self) -> str: ...

    @property
    def key(self) -> str: ...

    def to_checkpoint(self, now: float) -> Checkpoint: ...


S = TypeVar("S", bound=PolledScope)


def close_scopes(scopes: dict[str, S], expired: list[S], now: float) -> Batch:
    """Stop following scopes that aged out; their closing checkpoints keep a restart from reopening them."""
    for scope in expired:
        scope.closed = True
        del scopes[scope.key]
    return Batch(checkpoints=[s.to_checkpoint(now) for s in expired])


def consume_each(
    consumer: Any,
    stop: threading.Event,
    handle: Callable[[TopicPartition, Any], None],
    max_messages: int | None = None,
    idle_timeout: float | None = None,
) -> None:
    """Hand records to ``handle`` one poll of one record at a time, so each is settled (committed in its
    own transaction) before the next is read; until ``stop``, or, for tests, ``max_messages`` handled
    or ``idle_timeout`` seconds of silence."""
    handled = 0
    idle = 0.0
    while not stop.is_set() and (max_messages is None or handled < max_messages):
        records = consumer.poll(timeout_ms=1000, max_records=1)
        if not records:
            idle += 1.0
            if idle_timeout is not None and idle >= idle_timeout:
                break
            continue
        idle = 0.0
        for tp, messages in records.items():
            for message in messages:
                handle(tp, message)
                handled += 1


def restore_scopes(
    state: Mapping[str, Checkpoint], load: Callable[[Checkpoint], S], root: S, now: float
) -> dict[str, S]:
    """The scopes a (re)start follows: every checkpointed one still open, and ``root`` (the account's
    posts or media, which finds new ones), all due at once."""
    scopes: dict[str, S] = {}
    for cp in state.values():
        scope = load(cp)
        if not scope.closed:
            scopes[scope.key] = scope
    scopes.setdefault(root.key, root)
    for scope in scopes.values():
        scope.due = now
    return scopes


def poll_scope(
    connector: str,
    scopes: dict[str, S],
    scope: S,
    now: float,
    poll: Callable[[], Batch],
    refused: Callable[[], None],
) -> Batch:
    """Run one scope's ``poll``. Retries and credential errors go to the runner; a deleted post or
    media closes its comment scope; any other refusal must not hold up the other scopes (``refused``
    drops the scope's paging and sets when it is due again)."""
    try:
        return poll()
    except (Retry, TransientError, CredentialError):
        raise
    except NotFound as exc:
        log.info("scope_gone", connector=connector, scope=scope.key, reason=exc.reason)
        return close_scopes(scopes, [scope], now) if scope.kind == "comments" else Batch()
    except ConnectorError as exc:
        log.warning("scope_refused", connector=connector, scope=scope.key, reason=exc.reason)
        refused()
        return Batch()


def next_due(scopes: Iterable[S], now: float, order: Mapping[str, int]) -> S:
    """The scope to poll now (by kind ``order``, then longest waiting), or ``Retry`` until one is due."""
    every = list(scopes)
    due = [s for s in every if s.due <= now]
    if not due:
        raise Retry(min(s.due for s in every) - now, "idle")
    return min(due, key=lambda s: (order.get(s.kind, len(order)), s.due))


def checkpoint(connector: str, scope: str, cursor: str | None, now: float, **details: Any) -> Checkpoint:
    return Checkpoint(connector=connector, scope=scope, cursor=cursor, updated_at=utc(now), details=details)


def state_details(state: Mapping[str, Checkpoint], scope: str) -> dict[str, Any]:
    cp = state.get(scope)
    return dict(cp.details) if cp is not None else {}
