"""Sending a failed message to ``comments.deadletter``: whole payload, origin and a reason we wrote."""

from __future__ import annotations

from typing import Any

import structlog

from schemas import DeadLetter, dead_letter, encode
from workers.app import deadletter

log = structlog.get_logger("civicwatch.deadletter")


def dead_letter_for(event: Any, stage: str, error: BaseException) -> DeadLetter:
    """The dead letter of a faust event; never raises for a bad message."""
    message = event.message
    value = message.value if isinstance(message.value, bytes) else None
    key = message.key if isinstance(message.key, bytes | str) else None
    try:
        return dead_letter(
            value,
            stage=stage,
            error=error,
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
    log.warning(
        "message_dead_lettered",
        stage=record.stage,
        error=record.error,
        reason=record.reason,
        topic=record.source_topic,
        partition=record.source_partition,
        offset=record.source_offset,
    )


async def send_dead_letter(event: Any, stage: str, error: BaseException) -> None:
    """Never raises for a bad message: the dead-letter path is the last line and must hold."""
    record = dead_letter_for(event, stage, error)
    await deadletter.send(key=event.message.key, value=encode(record))
    log_dead_letter(record)
