"""Where connectors put events: a Kafka sink for production and an in-memory one for tests.

Both satisfy ``Sink``, and one contract test suite runs over both, so a connector tested against
``MemorySink`` behaves the same against Kafka. Producing is acks=all with idempotence, keyed by the
event's key (``platform:comment_id``) so every update of a comment lands on one partition, in order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Protocol

from kafka import KafkaProducer

from schemas import Event, encode
from workers.topics import TopicSpec


class Sink(Protocol):
    def send(self, topic: TopicSpec, event: Event, key: str | None = None) -> None: ...

    def send_raw(self, topic: TopicSpec, key: bytes | None, value: bytes | None) -> None: ...

    def flush(self, timeout: float | None = None) -> None: ...

    def close(self) -> None: ...


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
        config.update(overrides)
        self._producer = KafkaProducer(**config)

    def _on_error(self, exc: BaseException) -> None:
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


@dataclass
class MemorySink:
    """Records what would have been produced, per topic, in order."""

    prefix: str = ""
    topics: dict[str, list[tuple[bytes | None, bytes | None]]] = field(default_factory=lambda: defaultdict(list))
    counters: SinkCounters = field(default_factory=SinkCounters)

    def send(self, topic: TopicSpec, event: Event, key: str | None = None) -> None:
        k = key if key is not None else event_key(event)
        self.send_raw(topic, k.encode() if k is not None else None, encode(event))

    def send_raw(self, topic: TopicSpec, key: bytes | None, value: bytes | None) -> None:
        self.topics[topic.full_name(self.prefix)].append((key, value))
        self.counters.produced += 1

    def flush(self, timeout: float | None = None) -> None:
        return None

    def close(self) -> None:
        return None
