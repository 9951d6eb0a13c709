"""Bytes <-> events. Every decoding failure becomes one ``SchemaError`` with a reason safe to log.

Error tree::

    SchemaError(ValueError)
    ├── MalformedMessage   not JSON, not UTF-8, not an object, too deep or too big
    └── InvalidEvent       valid JSON that breaks the event's schema
"""

from __future__ import annotations

import base64
import uuid
from typing import Any, TypeVar

import orjson
from pydantic import ValidationError

from schemas.events import DeadLetter, Event

E = TypeVar("E", bound=Event)

MAX_MESSAGE_BYTES = 1_000_000
"""Matches the broker's default ``message.max.bytes``; anything larger cannot have come from us."""
MAX_DEPTH = 32
MAX_DEAD_LETTER_PAYLOAD = 600_000
"""Base64 grows a payload by a third; past this the dead letter would exceed the broker's limit."""


class SchemaError(ValueError):
    """A message is not a valid event; ``reason`` never quotes the payload."""

    kind = "schema_error"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MalformedMessage(SchemaError):
    kind = "malformed"


class InvalidEvent(SchemaError):
    kind = "invalid"


def encode(event: Event) -> bytes:
    """Serialise an event as compact JSON (UTF-8)."""
    return orjson.dumps(event.model_dump(mode="json"))


def _depth(value: Any, limit: int) -> int:
    stack: list[tuple[Any, int]] = [(value, 1)]
    deepest = 0
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > limit:
            return deepest
        if isinstance(node, dict):
            stack.extend((v, d + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, d + 1) for v in node)
    return deepest


def loads(payload: bytes | str | None) -> dict[str, Any]:
    """Parse a JSON object, rejecting what no producer of ours would send."""
    if payload is None:
        raise MalformedMessage("empty message (no value)")
    raw = payload.encode("utf-8", "surrogatepass") if isinstance(payload, str) else payload
    if len(raw) > MAX_MESSAGE_BYTES:
        raise MalformedMessage(f"message of {len(raw)} bytes exceeds {MAX_MESSAGE_BYTES}")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedMessage(f"not valid UTF-8 JSON: {exc.msg} at byte {exc.pos}") from None
    if not isinstance(data, dict):
        raise MalformedMessage(f"expected a JSON object, got {type(data).__name__}")
    if _depth(data, MAX_DEPTH) > MAX_DEPTH:
        raise MalformedMessage(f"JSON nested deeper than {MAX_DEPTH} levels")
    return data


def describe_validation(exc: ValidationError) -> str:
    """Summarise pydantic errors by field and problem, without echoing any input value."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False)[:10]:
        loc = err["loc"]
        if err["type"] == "extra_forbidden":  # the name of an unknown field is input: never echo it
            loc = (*loc[:-1], "(unknown field)")
        field = ".".join(str(x) for x in loc) or "(root)"
        parts.append(f"{field}: {err['msg']}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def decode(payload: bytes | str | None, model: type[E]) -> E:
    """Parse and validate one message as ``model``."""
    data = loads(payload)
    version = data.get("schema_version")
    if not isinstance(version, int) or version not in model.READS:  # a list or object is no version either
        raise InvalidEvent(
            f"{model.SCHEMA_NAME}: unsupported schema_version {version!r} "
            f"(this worker reads version {model.SCHEMA_VERSION})"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidEvent(f"{model.SCHEMA_NAME}: {describe_validation(exc)}") from None


def dead_letter(
    payload: bytes | None,
    *,
    stage: str,
    error: BaseException,
    reason: str | None = None,
    topic: str | None = None,
    partition: int | None = None,
    offset: int | None = None,
    key: bytes | str | None = None,
) -> DeadLetter:
    """Wrap a failed message whole, with a reason written by us (never the payload's content)."""
    raw = payload or b""
    truncated = len(raw) > MAX_DEAD_LETTER_PAYLOAD
    if reason is None:
        reason = error.reason if isinstance(error, SchemaError) else f"{type(error).__name__} in {stage}"
    key_text = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
    return DeadLetter(
        dead_letter_id=uuid.uuid4().hex,
        stage=stage,
        error=error.kind if isinstance(error, SchemaError) else type(error).__name__,
        reason=reason[:2000],
        source_topic=topic,
        source_partition=partition,
        source_offset=offset,
        key=key_text[:512] if key_text is not None else None,
        payload_b64=base64.b64encode(raw[:MAX_DEAD_LETTER_PAYLOAD]).decode("ascii"),
        payload_size=len(raw),
        payload_truncated=truncated,
    )
