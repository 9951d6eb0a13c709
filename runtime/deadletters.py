"""The one dead-letter builder: a consumed message that cannot be processed, whole, with its origin
and a reason we wrote (getsentry/arroyo's shape). The worker's agents, the action connector and the
review service all dead-letter what they consume through here, so the record and its log line agree.
"""

from __future__ import annotations

from typing import Any, Protocol

import structlog

from schemas import DeadLetter, dead_letter

log = structlog.get_logger("civicwatch.deadletter")


class Consumed(Protocol):
    """What kafka-python, aiokafka and faust all say about a consumed message."""

    @property
    def topic(self) -> str: ...

    @property
    def partition(self) -> int: ...

    @property
    def offset(self) -> int: ...

    @property
    def key(self) -> Any: ...

    @property
    def value(self) -> Any: ...


def dead_letter_of(message: Consumed, stage: str, error: BaseException, reason: str | None = None) -> DeadLetter:
    """The dead letter of one consumed message; never raises for a bad message. ``reason`` is ours to
    write (a schema error brings its own)."""
    value = message.value if isinstance(message.value, bytes) else None
    key = message.key if isinstance(message.key, bytes | str) else None
    try:
        return dead_letter(
            value,
            stage=stage,
            error=error,
            reason=reason,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            key=key,
        )
    except Exception as exc:  # e.g. a key that is not text: keep the reference, say why
        return dead_letter(
            value,
            stage=stage,
            error=error,
            reason=f"{type(error).__name__}; dead letter degraded: {type(exc).__name__}",
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
        )


def log_dead_letter(record: DeadLetter) -> None:
    """The one log line of a dead letter: where it came from and why, never its content."""
    log.warning(
        "message_dead_lettered",
        stage=record.stage,
        error=record.error,
        reason=record.reason,
        topic=record.source_topic,
        partition=record.source_partition,
        offset=record.source_offset,
    )
