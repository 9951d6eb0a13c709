"""Sending a failed message to ``comments.deadletter``: whole payload, origin and a reason we wrote."""

from __future__ import annotations

from typing import Any

import structlog

from schemas import dead_letter, encode
from workers.app import deadletter

log = structlog.get_logger("civicwatch.deadletter")


async def send_dead_letter(event: Any, stage: str, error: BaseException) -> None:
    message = event.message
    record = dead_letter(
        message.value if isinstance(message.value, bytes) else None,
        stage=stage,
        error=error,
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
    )
    await deadletter.send(key=message.key, value=encode(record))
    log.warning(
        "message_dead_lettered",
        stage=stage,
        error=record.error,
        reason=record.reason,
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
    )
