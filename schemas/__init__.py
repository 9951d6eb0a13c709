"""Versioned event definitions shared by connectors (kafka-python) and workers (faust)."""

from schemas.codec import InvalidEvent, MalformedMessage, SchemaError, dead_letter, decode, encode
from schemas.events import (
    ALL_EVENTS,
    Aggregate,
    AuditRecord,
    Checkpoint,
    Comment,
    CouncilForward,
    DeadLetter,
    Decision,
    Event,
    ModerationAction,
    Post,
    ReviewItem,
    SpanModel,
    TaggedComment,
    TagModel,
)

__all__ = [
    "ALL_EVENTS",
    "Aggregate",
    "AuditRecord",
    "Checkpoint",
    "Comment",
    "CouncilForward",
    "DeadLetter",
    "Decision",
    "Event",
    "InvalidEvent",
    "MalformedMessage",
    "ModerationAction",
    "Post",
    "ReviewItem",
    "SchemaError",
    "SpanModel",
    "TagModel",
    "TaggedComment",
    "dead_letter",
    "decode",
    "encode",
]
