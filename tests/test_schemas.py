"""The wire contract: versioned events, strict decoding, dead letters, and committed JSON Schema files."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from schemas import (
    ALL_EVENTS,
    Comment,
    DeadLetter,
    InvalidEvent,
    MalformedMessage,
    ModerationAction,
    Post,
    SchemaError,
    TaggedComment,
    dead_letter,
    decode,
    encode,
    export,
)
from schemas.codec import MAX_DEAD_LETTER_PAYLOAD, MAX_DEPTH, MAX_MESSAGE_BYTES

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def comment(**changes: Any) -> Comment:
    fields: dict[str, Any] = {
        "platform": "facebook",
        "comment_id": "123_456",
        "post_id": "123",
        "parent_id": None,
        "author_id": "u-9",
        "author_handle": "resident",
        "text": "When does the Ouellette bike lane open? 🚲",
        "language": "en",
        "created_at": NOW,
        "url": "https://www.facebook.com/123/posts/456",
    }
    fields.update(changes)
    return Comment(**fields)


def test_every_event_round_trips_through_json_with_its_version() -> None:
    c = comment()
    events = [
        c,
        Post(platform="x", post_id="p1", account="CityofWindsor", text="Snow clearing update", created_at=NOW),
        TaggedComment(comment=c, language="en", tags=[], flags=[], action=None, routes=["tagged"], policy="w@1"),
        ModerationAction(action_id="a1", decision_id="d1", platform="x", comment_id="c1", post_id="p1", action="hide"),
    ]
    for event in events:
        wire = encode(event)
        data = orjson.loads(wire)
        assert data["schema_version"] == type(event).SCHEMA_VERSION
        assert decode(wire, type(event)) == event


def test_comment_key_is_platform_and_comment_id() -> None:
    assert comment().key == "facebook:123_456"


@pytest.mark.parametrize(
    ("payload", "error", "fragment"),
    [
        (None, MalformedMessage, "empty message"),
        (b"{not json", MalformedMessage, "not valid UTF-8 JSON"),
        (b"\xff\xfe\x00", MalformedMessage, "not valid UTF-8 JSON"),
        (b"[1, 2]", MalformedMessage, "expected a JSON object, got list"),
        (b'"text"', MalformedMessage, "expected a JSON object, got str"),
        (b'{"a":' * (MAX_DEPTH + 2) + b"1" + b"}" * (MAX_DEPTH + 2), MalformedMessage, "nested deeper"),
        (b" " * (MAX_MESSAGE_BYTES + 1), MalformedMessage, "exceeds"),
    ],
)
def test_malformed_messages_are_rejected_with_a_reason(
    payload: bytes | None, error: type[SchemaError], fragment: str
) -> None:
    with pytest.raises(error) as info:
        decode(payload, Comment)
    assert fragment in info.value.reason


def test_schema_violations_name_known_fields_but_never_echo_input() -> None:
    secret = "519-555-0199 lives at 350 City Hall Square"
    data = orjson.loads(encode(comment(text=secret)))
    data["platform"] = "myspace"
    data["surprise"] = secret
    del data["post_id"]
    with pytest.raises(InvalidEvent) as info:
        decode(orjson.dumps(data), Comment)
    reason = info.value.reason
    assert "platform" in reason and "post_id" in reason and "(unknown field)" in reason
    assert "519-555" not in reason and "myspace" not in reason
    assert "surprise" not in reason, "a field name chosen by the sender may itself carry personal data"


def test_unknown_schema_version_is_refused_explicitly() -> None:
    data = orjson.loads(encode(comment()))
    data["schema_version"] = 3
    with pytest.raises(InvalidEvent, match="unsupported schema_version 3"):
        decode(orjson.dumps(data), Comment)


def test_hostile_text_sizes_are_bounded_by_the_schema() -> None:
    with pytest.raises(InvalidEvent, match="text"):
        decode(encode(comment()).replace(b"When does", b"x" * 150_000), Comment)


def test_dead_letter_keeps_the_payload_whole_and_writes_its_own_reason() -> None:
    payload = b'{"schema_version": 1, "text": "call me at 519-555-0142"}'
    error = InvalidEvent("comment: platform: Field required")
    letter = dead_letter(payload, stage="ingest", error=error, topic="comments.raw", partition=2, offset=41, key=b"k")
    assert base64.b64decode(letter.payload_b64) == payload
    assert letter.payload_size == len(payload) and not letter.payload_truncated
    assert letter.reason == "comment: platform: Field required" and letter.error == "invalid"
    assert (letter.source_topic, letter.source_partition, letter.source_offset, letter.key) == (
        "comments.raw",
        2,
        41,
        "k",
    )
    assert decode(encode(letter), DeadLetter) == letter


def test_dead_letter_of_an_oversized_payload_keeps_its_head_and_says_so() -> None:
    payload = b"x" * (MAX_DEAD_LETTER_PAYLOAD + 10)
    letter = dead_letter(payload, stage="ingest", error=ValueError("boom"))
    assert letter.payload_truncated and letter.payload_size == len(payload)
    assert len(base64.b64decode(letter.payload_b64)) == MAX_DEAD_LETTER_PAYLOAD
    assert letter.reason == "ValueError in ingest", "an exception's message may quote input: only its type is kept"


def test_committed_json_schemas_match_the_models() -> None:
    """Analysts read schemas/json/; this fails when an event changes without `civicwatch schemas export`."""
    rendered = export.render()
    committed = {p.name: p.read_text(encoding="utf-8") for p in export.JSON_DIR.glob("*.json")}
    assert set(committed) == set(rendered), "run `civicwatch schemas export`"
    for name, text in rendered.items():
        assert committed[name] == text, f"{name} drifted from schemas/events.py; run `civicwatch schemas export`"


def test_every_event_declares_a_name_and_a_version_literal() -> None:
    names = [e.SCHEMA_NAME for e in ALL_EVENTS]
    assert len(set(names)) == len(names)
    for event in ALL_EVENTS:
        schema = event.model_json_schema()
        version = schema["properties"]["schema_version"]
        assert version.get("const", max(version.get("enum", [0]))) == event.SCHEMA_VERSION
        assert set(version.get("enum", [event.SCHEMA_VERSION])) == set(event.READS)
        assert schema.get("additionalProperties") is False, f"{event.__name__} must reject unknown fields"
    assert json.loads(export.render()["comment.v2.json"])["$id"] == "civicwatch:comment:v2"


def test_version_1_comments_stay_readable_as_version_2() -> None:
    """Comment v2 added instagram, attachment and hidden: a v1 record already on a topic still decodes."""
    data = orjson.loads(encode(comment()))
    assert data["schema_version"] == 2
    for name in ("attachment", "hidden"):
        data.pop(name)
    data["schema_version"] = 1
    old = decode(orjson.dumps(data), Comment)
    assert (old.schema_version, old.attachment, old.hidden, old.deleted) == (1, None, None, False)
