"""Sending a failed faust event to ``comments.deadletter`` (the record is built by ``runtime.deadletters``)."""

from __future__ import annotations

from typing import Any

from runtime.deadletters import dead_letter_of, log_dead_letter
from schemas import DeadLetter, encode
from workers.app import deadletter

__all__ = ["dead_letter_for", "log_dead_letter", "send_dead_letter"]


def dead_letter_for(event: Any, stage: str, error: BaseException) -> DeadLetter:
    """The dead letter of a faust event; never raises for a bad message."""
    return dead_letter_of(event.message, stage, error)


async def send_dead_letter(event: Any, stage: str, error: BaseException) -> None:
    """Never raises for a bad message: the dead-letter path is the last line and must hold."""
    record = dead_letter_for(event, stage, error)
    await deadletter.send(key=event.message.key, value=encode(record))
    log_dead_letter(record)
