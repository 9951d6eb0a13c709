"""What analytics reads of a ``comments.tagged`` record, decoded and validated without the rest.

The full ``TaggedComment`` validates every field of the comment and every span of every tag, most
of which analytics never reads. Here only the comment's time, platform, post, text and language
and each tag's clause and category are decoded, each validated with the full schema's types and
bounds; the other fields are skipped. A record that fails is a ``SchemaError`` whose reason quotes
no input, dead-lettered like any other.
"""

from __future__ import annotations

from datetime import datetime

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas import InvalidEvent, MalformedMessage, TaggedComment
from schemas.codec import MAX_MESSAGE_BYTES, describe_validation
from schemas.events import MAX_TEXT_CHARS, Platform


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, str_max_length=MAX_TEXT_CHARS)


class CommentPart(_Part):
    platform: Platform
    post_id: str = Field(min_length=1, max_length=128)
    text: str
    created_at: datetime
    edited: bool = False
    deleted: bool = False
    hidden: bool | None = None

    @property
    def counted_before(self) -> bool:
        """A later version (edit, deletion, hide or unhide) of a comment already counted once."""
        return self.edited or self.deleted or self.hidden is not None


class TagPart(_Part):
    clause: str
    category: str


class TaggedPart(_Part):
    """The fields of ``TaggedComment`` that analytics reads, under the same names."""

    schema_version: int
    comment: CommentPart
    language: str
    tags: list[TagPart]
    flags: list[str]


def decode_tagged(payload: bytes | None) -> TaggedPart:
    """Parse and validate what analytics needs of one ``comments.tagged`` message."""
    if payload is None:
        raise MalformedMessage("empty message (no value)")
    if len(payload) > MAX_MESSAGE_BYTES:
        raise MalformedMessage(f"message of {len(payload)} bytes exceeds {MAX_MESSAGE_BYTES}")
    try:
        tagged = TaggedPart.model_validate_json(payload)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        if errors and errors[0]["type"] == "json_invalid":
            detail = str(errors[0]["msg"]).removeprefix("Invalid JSON: ")
            raise MalformedMessage(f"not valid UTF-8 JSON: {detail}") from None
        if errors and errors[0]["type"] == "model_type" and not errors[0]["loc"]:
            raise MalformedMessage("expected a JSON object") from None
        _check_version(_version_of(payload))  # another version has other fields: say that first
        raise InvalidEvent(f"{TaggedComment.SCHEMA_NAME}: {describe_validation(exc)}") from None
    _check_version(tagged.schema_version)
    return tagged


def _version_of(payload: bytes) -> object:
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    return data.get("schema_version") if isinstance(data, dict) else None


def _check_version(version: object) -> None:
    if version != TaggedComment.SCHEMA_VERSION:
        raise InvalidEvent(
            f"{TaggedComment.SCHEMA_NAME}: unsupported schema_version {version!r} "
            f"(this worker reads version {TaggedComment.SCHEMA_VERSION})"
        )
