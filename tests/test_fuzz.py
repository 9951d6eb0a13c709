"""Hostile input: the decode path and the detectors take anything without crashing, hanging or growing.

Unit-level properties run under hypothesis; the same kinds of input then go through the real worker
on the real broker, where each bad message must land in ``comments.deadletter`` with a reason and
the worker must keep going. A hang fails the test through pytest's timeout.
"""

from __future__ import annotations

import json
import random
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.pipeline import PolicyPipeline
from runtime.sink import KafkaSink
from schemas import Comment, DeadLetter, SchemaError, decode, encode
from schemas.codec import MAX_MESSAGE_BYTES
from schemas.events import MAX_TEXT_CHARS
from schemas.topics import COMMENTS_RAW
from tests.conftest import WorkerProcess, consume_all

VALID = orjson.loads(
    encode(
        Comment(
            platform="x",
            comment_id="1",
            post_id="p",
            author_id="a",
            text="Thanks for the update on the leaf pickup.",
            created_at=datetime(2026, 11, 20, tzinfo=UTC),
        )
    )
)

ZALGO = "".join(chr(c) for c in range(0x0300, 0x036F))
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
EMOJI = "😀👍🏽🏳️‍🌈👨‍👩‍👧‍👦🔥💩🇨🇦"
HOSTILE_ALPHABET = st.characters(codec="utf-8") | st.sampled_from(list(ZALGO + BIDI + EMOJI + "\x00\ufeff\u200b"))
hostile_text = st.text(HOSTILE_ALPHABET, max_size=2000)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(hostile_text, inner, max_size=5),
    max_leaves=30,
)

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def dumps(value: Any) -> bytes:
    """Stdlib JSON: unlike orjson it writes integers past 64 bits and lone surrogates, as others may."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def decodes_or_rejects(payload: bytes) -> None:
    """The whole contract of ``decode``: a Comment, or a SchemaError with a reason. Nothing else."""
    try:
        comment = decode(payload, Comment)
    except SchemaError as exc:
        assert exc.reason and len(exc.reason) < 5000
    else:
        assert isinstance(comment, Comment)


@FUZZ
@given(st.binary(max_size=4096))
def test_decode_takes_any_bytes(payload: bytes) -> None:
    decodes_or_rejects(payload)


@FUZZ
@given(json_values)
def test_decode_takes_any_json(value: Any) -> None:
    decodes_or_rejects(dumps(value))


@FUZZ
@given(st.sampled_from(sorted(VALID)), json_values)
def test_decode_takes_any_field_value(field: str, value: Any) -> None:
    decodes_or_rejects(dumps({**VALID, field: value}))


@FUZZ
@given(hostile_text)
def test_any_text_is_a_valid_comment(text: str) -> None:
    comment = decode(orjson.dumps({**VALID, "text": text}), Comment)
    assert comment.text == text


def nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"[" * 200_000 + b"]" * 200_000, "not valid UTF-8 JSON"),
        (nested(100_000), "not valid UTF-8 JSON"),
        (orjson.dumps({**VALID, "x": orjson.loads(nested(40))}), "nested deeper"),
        (b"{" + b'"a":1,' * 200_000 + b'"b":1}', "exceeds"),
        (b" " * (MAX_MESSAGE_BYTES + 1), "exceeds"),
        (orjson.dumps({**VALID, "text": "a" * 150_000}), "text"),
        (b'{"text": "\xff\xfe"}', "not valid UTF-8 JSON"),
        (b'{"text": "\\ud800"}', "not valid UTF-8 JSON"),
        (b"\xef\xbb\xbf" + orjson.dumps(VALID), "not valid UTF-8 JSON"),
        (b'{"a": 1e99999}', "not valid UTF-8 JSON"),
        (b"", "not valid UTF-8 JSON"),
        (b"\x00" * 100, "not valid UTF-8 JSON"),
    ],
)
def test_hostile_shapes_are_rejected_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(SchemaError) as info:
        decode(payload, Comment)
    assert reason in info.value.reason


@pytest.fixture(scope="module")
def pipeline() -> PolicyPipeline:
    return PolicyPipeline()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(hostile_text | st.text(st.characters(categories=["Cs", "Mn", "Cf", "So"]), max_size=500), max_size=8))
def test_detectors_take_any_text(pipeline: PolicyPipeline, texts: list[str]) -> None:
    results = pipeline.classify_batch(texts)
    assert len(results) == len(texts)
    for text, result in zip(texts, results, strict=True):
        for tag in result.tags:
            assert 0.0 <= tag.score <= 1.0
            for span in tag.spans:
                assert 0 <= span.start <= span.end <= len(text), (tag.category, span)


def floods() -> Iterator[tuple[str, str]]:
    rng = random.Random(5)
    yield "zalgo", "".join("a" + "".join(rng.choices(ZALGO, k=8)) for _ in range(11_000))
    yield "emoji flood", "".join(rng.choices(["😀", "👍🏽", "🏳️‍🌈", "🔥", "🇨🇦"], k=30_000))
    yield "bidi", "".join(rng.choice(BIDI) + "council " for _ in range(11_000))
    yield "one token", "x" * 100_000
    yield "repeated findings", "call 519-974-1234 or f***ing jane@example.com " * 2_000
    yield "no spaces mixed", "".join(rng.choices("ab1@.-_:/", k=100_000))


@pytest.mark.parametrize(("kind", "text"), list(floods()), ids=[k for k, _ in floods()])
def test_very_long_hostile_texts_are_classified_in_bounded_memory(
    pipeline: PolicyPipeline, kind: str, text: str
) -> None:
    tracemalloc.start()
    try:
        result = pipeline.classify(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.truncated == (len(text) > 20_000)
    assert peak < 200 * 2**20, f"{kind}: {peak / 2**20:.0f} MiB for one comment"


# Through the real worker -------------------------------------------------------------------------


def hostile_messages() -> tuple[list[tuple[bytes, bytes]], list[tuple[bytes, bytes]]]:
    """(bad, good): bad ones must be dead-lettered, good ones (valid but hostile text) tagged."""
    rng = random.Random(9)
    bad = [
        (b"bad-bytes", bytes(rng.randrange(256) for _ in range(2000))),
        (b"bad-utf8", b'{"schema_version":1,"text":"\xc3\x28\xa0\xa1"}'),
        (b"bad-deep", nested(50_000)),
        (b"bad-wide-deep", orjson.dumps({**VALID, "text": orjson.loads(nested(33))})),
        (b"bad-oversized", b'{"text":"' + b"a" * (MAX_MESSAGE_BYTES + 10) + b'"}'),
        (b"bad-text-too-long", orjson.dumps({**VALID, "comment_id": "long", "text": "a" * 100_001})),
        (b"bad-surrogate", b'{"schema_version":1,"text":"\\udfff"}'),
        (b"bad-array", b"[" * 10_000),
        (b"bad-empty", b""),
        (b"bad-types", orjson.dumps({**VALID, "created_at": [1, 2], "platform": {"a": None}})),
    ]
    good = []
    for kind, text in floods():
        assert len(text) <= MAX_TEXT_CHARS, f"{kind} must be a valid comment, hostile only in its text"
        comment_id = "hostile-" + kind.replace(" ", "-")
        good.append((f"x:{comment_id}".encode(), orjson.dumps({**VALID, "comment_id": comment_id, "text": text})))
    return bad, good


@pytest.fixture(scope="module")
def worker(
    kafka_bootstrap: str, kafka_topics: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    log = tmp_path_factory.mktemp("fuzz-worker") / "worker.log"
    proc = WorkerProcess(kafka_bootstrap, kafka_topics, f"fuzz-{kafka_topics.strip('.')}", log).start()
    yield proc
    proc.stop()


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


@pytest.mark.integration
def test_worker_dead_letters_hostile_messages_and_keeps_going(
    kafka_bootstrap: str, kafka_topics: str, worker: WorkerProcess
) -> None:
    bad, good = hostile_messages()
    after = [
        Comment.model_validate({**VALID, "comment_id": f"after-{i}", "text": f"Leaf pickup {i}?"}) for i in range(50)
    ]
    sink = KafkaSink(kafka_bootstrap, kafka_topics, max_request_size=4 * MAX_MESSAGE_BYTES)
    for key, value in bad + good:
        sink.send_raw(COMMENTS_RAW, key, value)
    for c in after:
        sink.send(COMMENTS_RAW, c)
    sink.flush()
    sink.close()

    expected_tagged = {k.decode() for k, _ in good} | {c.key for c in after}
    tagged = consume_all(kafka_bootstrap, kafka_topics + "comments.tagged", len(expected_tagged), timeout=300)
    assert {m.key.decode() for m in tagged} == expected_tagged
    assert len(tagged) == len(expected_tagged)

    dead = consume_all(kafka_bootstrap, kafka_topics + "comments.deadletter", len(bad), timeout=60)
    letters = {m.key.decode(): decode(m.value, DeadLetter) for m in dead}
    assert set(letters) == {k.decode() for k, _ in bad}, "each bad message is dead-lettered, once"
    assert len(dead) == len(bad)
    sizes = {k.decode(): len(v) for k, v in bad}
    for key, letter in letters.items():
        assert letter.stage == "ingest" and letter.reason and letter.error in ("malformed", "invalid"), key
        assert letter.payload_size == sizes[key], f"{key}: the dead letter keeps the payload's size"
    assert letters["bad-text-too-long"].error == "invalid" and "text" in letters["bad-text-too-long"].reason

    assert worker.alive(), worker.log()[-3000:]
    assert worker.proc is not None
    assert peak_rss_mib(worker.proc.pid) < 2048, "the worker's memory stays bounded"
