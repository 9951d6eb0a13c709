"""Where connectors put events: a Kafka sink for production and an in-memory one for tests.

Both satisfy ``Sink``, and one contract test suite runs over both, so a connector tested against
``MemorySink`` behaves the same against Kafka. Producing is acks=all with idempotence, keyed by the
event's key (``platform:comment_id``) so every update of a comment lands on one partition, in order.

``transaction()`` groups what one poll produced with the checkpoint that covers it: with a
``transactional_id`` the comments and the checkpoint commit atomically (read_committed consumers see
both or neither), which is what lets a restarted connector resume with no gap and no duplicate.
Without one it degrades to "flush at the end" (at least once).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from kafka import KafkaProducer
from kafka.errors import TransactionAbortedError

from runtime.settings import kafka_auth
from schemas import Event, encode
from schemas.topics import TopicSpec


class Sink(Protocol):
    def send(self, topic: TopicSpec, event: Event, key: str | None = None) -> None: ...

    def send_raw(self, topic: TopicSpec, key: bytes | None, value: bytes | None) -> None: ...

    def flush(self, timeout: float | None = None) -> None: ...

    def close(self) -> None: ...

    def transaction(self) -> Any:
        """A context manager: everything sent inside commits together or not at all."""
        ...


def event_key(event: Event) -> str | None:
    key = getattr(event, "key", None)
    return key if isinstance(key, str) else None


@dataclass
class SinkCounters:
    produced: int = 0
    failed: int = 0


class KafkaSink:
    """kafka-python producer with the delivery settings every connector needs."""

    def __init__(self, bootstrap: str, prefix: str = "", **overrides: Any) -> None:
        self.prefix = prefix
        self.counters = SinkCounters()
        self.errors: list[BaseException] = []
        config: dict[str, Any] = {
            "bootstrap_servers": bootstrap,
            "acks": "all",
            "enable_idempotence": True,
            "compression_type": "gzip",
            "linger_ms": 5,
            "retries": 2147483647,
            "max_in_flight_requests_per_connection": 5,
            "client_id": "civicwatch-connector",
        }
        config.update(kafka_auth())
        config.update(overrides)
        self.transactional = bool(config.get("transactional_id"))
        self._producer = KafkaProducer(**config)
        if self.transactional:
            # Fences any earlier instance with the same id and aborts its unfinished transaction.
            self._producer.init_transactions()

    def _on_error(self, exc: BaseException) -> None:
        if isinstance(exc, TransactionAbortedError):
            return  # the expected fate of what an aborted transaction held, reported after the abort
        self.counters.failed += 1
        self.errors.append(exc)

    def _on_ok(self, _: Any) -> None:
        self.counters.produced += 1

    def send(self, topic: TopicSpec, event: Event, key: str | None = None) -> None:
        k = key if key is not None else event_key(event)
        self.send_raw(topic, k.encode() if k is not None else None, encode(event))

    def send_raw(self, topic: TopicSpec, key: bytes | None, value: bytes | None) -> None:
        future = self._producer.send(topic.full_name(self.prefix), key=key, value=value)
        future.add_callback(self._on_ok)
        future.add_errback(self._on_error)

    def flush(self, timeout: float | None = None) -> None:
        """Block until every message is acknowledged; raise if any delivery failed."""
        self._producer.flush(timeout=timeout)
        if self.errors:
            first = self.errors[0]
            raise RuntimeError(f"{len(self.errors)} message(s) were not delivered: {first!r}") from first

    def close(self) -> None:
        self._producer.close(timeout=30)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if not self.transactional:
            yield
            self.flush()
            return
        self._producer.begin_transaction()
        try:
            yield
            self.flush()
            self._producer.commit_transaction()
        except BaseException:
            self._producer.abort_transaction()
            self.errors.clear()
            raise

    def send_offsets(self, offsets: dict[Any, Any], group_metadata: Any) -> None:
        """Commit a consumer's offsets inside the open transaction (consume-process-produce)."""
        self._producer.send_offsets_to_transaction(offsets, group_metadata)


@dataclass
class MemorySink:
    """Records what would have been produced, per topic, in order."""

    prefix: str = ""
    topics: dict[str, list[tuple[bytes | None, bytes | None]]] = field(default_factory=lambda: defaultdict(list))
    counters: SinkCounters = field(default_factory=SinkCounters)

    def send(self, topic: TopicSpec, event: Event, key: str | None = None) -> None:
        k = key if key is not None else event_key(event)
        self.send_raw(topic, k.encode() if k is not None else None, encode(event))

    pending: list[tuple[str, bytes | None, bytes | None]] | None = None
    """Messages of the open transaction; ``None`` outside one."""

    def send_raw(self, topic: TopicSpec, key: bytes | None, value: bytes | None) -> None:
        if self.pending is not None:
            self.pending.append((topic.full_name(self.prefix), key, value))
            return
        self.topics[topic.full_name(self.prefix)].append((key, value))
        self.counters.produced += 1

    def flush(self, timeout: float | None = None) -> None:
        return None

    def close(self) -> None:
        return None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self.pending is not None:
            raise RuntimeError("transactions do not nest")
        self.pending = []
        try:
            yield
        except BaseException:
            self.pending = None
            raise
        committed, self.pending = self.pending, None
        for name, key, value in committed:
            self.topics[name].append((key, value))
            self.counters.produced += 1
