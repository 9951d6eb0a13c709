"""The comment agent's pure step without a broker or faust: what a batch produces and what it skips."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import TopicPartition

from pipelines.pipeline import Classification
from pipelines.types import CommentInput
from schemas import AuditRecord, DeadLetter, ModerationAction, ReviewItem, TaggedComment, decode, encode
from schemas.ids import text_digest
from tests.factories import classification, comment, tag
from workers.comment_step import CommentBatch, CommentStep, OutputTopics, classify_safely

TOPICS = OutputTopics.with_prefix("t.")
TP0 = TopicPartition("t.comments.raw", 0)


def event(value: bytes, offset: int = 0, key: bytes = b"x:c1") -> Any:
    message = SimpleNamespace(topic=TP0.topic, partition=0, offset=offset, key=key, value=value)
    return SimpleNamespace(value=value, message=message)


def admit_all(
    step: CommentStep, values: list[bytes], seen: dict[str, str] | None = None
) -> tuple[CommentBatch, list[Any]]:
    prepared = CommentBatch([], time.perf_counter())
    in_batch: set[tuple[str, str]] = set()
    admitted = []
    for offset, value in enumerate(values):
        pending = step.admit(prepared, event(value, offset), (seen or {}).get, {"x:p1": "Snow update"}.get, in_batch)
        if pending is not None:
            admitted.append(pending)
    return prepared, admitted


@pytest.fixture()
def step() -> CommentStep:
    return CommentStep(TOPICS, lambda: "windsor@test")


def test_a_payload_that_does_not_decode_is_dead_lettered_whole(step: CommentStep) -> None:
    prepared, admitted = admit_all(step, [b'{"schema_version": 1, "text": 5}', b"\xff not json"])
    assert admitted == [] and prepared.dead == 2
    letters = [decode(o.value, DeadLetter) for o in prepared.outputs[TP0]]
    assert {o.topic for o in prepared.outputs[TP0]} == {TOPICS.deadletter}
    assert [(d.stage, d.source_offset) for d in letters] == [("ingest", 0), ("ingest", 1)]


@pytest.mark.parametrize(
    ("seen", "values", "admitted_texts", "duplicates"),
    [
        ({}, ["Plow my street"], ["Plow my street"], 0),
        ({"x:c1": text_digest("Plow my street")}, ["Plow my street"], [], 1),  # committed earlier
        ({"x:c1": text_digest("Plow my street")}, ["Plow my street please"], ["Plow my street please"], 0),  # edited
        ({}, ["Plow my street", "Plow my street"], ["Plow my street"], 1),  # twice in one batch
        ({}, ["Plow my street", "Plow my street!"], ["Plow my street", "Plow my street!"], 0),  # edit in the batch
    ],
)
def test_dedupe_skips_the_same_text_only(
    step: CommentStep, seen: dict[str, str], values: list[str], admitted_texts: list[str], duplicates: int
) -> None:
    prepared, admitted = admit_all(step, [encode(comment(text=v)) for v in values], seen)
    assert [c.text for _, c, _ in admitted] == admitted_texts
    assert prepared.duplicates == duplicates
    assert all(ctx == "Snow update" for _, _, ctx in admitted), "the post's text comes along as context"


def test_a_batch_classified_but_not_committed_counts_as_seen_until_released(step: CommentStep) -> None:
    first, admitted = admit_all(step, [encode(comment(text="Plow my street"))])
    step.route(first, admitted, [classification()])
    second, again = admit_all(step, [encode(comment(text="Plow my street"))])
    assert again == [] and second.duplicates == 1
    step.release(first)
    third, after = admit_all(step, [encode(comment(text="Plow my street"))])
    assert len(after) == 1 and third.duplicates == 0, "after the commit the table decides, not the step"


def test_a_deletion_is_recorded_for_dedupe_but_not_classified(step: CommentStep) -> None:
    seen = {"x:c1": text_digest("Plow my street")}
    prepared, admitted = admit_all(step, [encode(comment(text="Plow my street", deleted=True))], seen)
    assert admitted == [] and prepared.duplicates == 0
    assert [(key, digest) for _, key, digest in prepared.marks[TP0]] == [
        ("x:c1", text_digest("Plow my street") + "|deleted")
    ]


def test_routing_a_batch_writes_each_route_and_dead_letters_a_failed_comment(step: CommentStep) -> None:
    values = [
        encode(comment("c1", "Clean words")),
        encode(comment("c2", "Call 519 555 0142")),
        encode(comment("c3", "Mayor, answer us")),
        encode(comment("c4", "Breaks a detector")),
    ]
    prepared, admitted = admit_all(step, values)
    results: list[Classification | BaseException] = [
        classification(tag("5.7.2", "profane", 0.1)),
        classification(tag("5.7.9", "private_info"), flags=("private_info",), action="auto_hide"),
        classification(tag("5.5", "council", person="Mayor"), flags=("council",), action="forward"),
        RuntimeError("detector bug"),
    ]
    step.route(prepared, admitted, results)
    by_key: dict[bytes | None, list[str]] = {}
    for output in prepared.outputs[TP0]:
        if output.topic != TOPICS.deadletter:
            by_key.setdefault(output.key, []).append(output.topic)
    assert by_key[b"x:c1"] == [TOPICS.tagged]
    assert by_key[b"x:c2"] == [TOPICS.tagged, TOPICS.review, TOPICS.actions, TOPICS.audit]
    assert by_key[b"x:c3"] == [TOPICS.tagged, TOPICS.council]
    assert b"x:c4" not in by_key
    (letter,) = [decode(o.value, DeadLetter) for o in prepared.outputs[TP0] if o.topic == TOPICS.deadletter]
    assert letter.stage == "classify" and letter.error == "RuntimeError" and letter.source_offset == 3
    assert (prepared.comments, prepared.flagged, prepared.dead) == (4, 1, 1)
    assert sorted(key for _, key, _ in prepared.marks[TP0]) == ["x:c1", "x:c2", "x:c3"], "a failed comment is not seen"
    outputs = {o.topic: o.value for o in prepared.outputs[TP0] if o.key == b"x:c2"}
    review = decode(outputs[TOPICS.review], ReviewItem)
    action = decode(outputs[TOPICS.actions], ModerationAction)
    assert action.decision_id == "auto-" + review.review_id and action.action == "hide"
    assert decode(outputs[TOPICS.audit], AuditRecord).verb == "auto_hide"
    assert decode(outputs[TOPICS.tagged], TaggedComment).policy == "windsor@test"


class FlakyPipeline:
    """A batch that fails as a whole, in which one comment also fails on its own."""

    def classify_batch(self, inputs: list[CommentInput]) -> list[Classification]:
        raise ValueError("batch failed")

    def classify(self, item: CommentInput) -> Classification:
        if "poison" in item.text:
            raise ValueError("poison")
        return classification()


def test_one_poison_comment_does_not_sink_its_batch() -> None:
    batch = [(None, comment(f"c{i}", text), None) for i, text in enumerate(["fine", "poison", "fine too"])]
    results = classify_safely(FlakyPipeline(), batch)  # type: ignore[arg-type]
    assert [type(r).__name__ for r in results] == ["Classification", "ValueError", "Classification"]


@pytest.mark.parametrize(
    ("change", "flag"),
    [({"deleted": True, "text": ""}, "deleted"), ({"hidden": True}, "hidden"), ({"hidden": False}, "unhidden")],
)
def test_deletions_and_hides_reach_the_tagged_topic_and_the_audit_log_unclassified(
    step: CommentStep, change: dict[str, Any], flag: str
) -> None:
    """Before: a deletion was only marked for dedupe, so the review view and the audit log never heard of it."""
    changed = comment(text="Plow my street").model_copy(update=change)
    prepared, admitted = admit_all(step, [encode(changed)], {"x:c1": text_digest("Plow my street")})
    assert admitted == [], "nothing to classify"
    by_topic = {o.topic: o.value for o in prepared.outputs[TP0]}
    assert set(by_topic) == {TOPICS.tagged, TOPICS.audit}
    tagged = decode(by_topic[TOPICS.tagged], TaggedComment)
    assert tagged.flags == [flag] and tagged.tags == [] and tagged.routes == []
    audit = decode(by_topic[TOPICS.audit], AuditRecord)
    assert (audit.verb, audit.subject, audit.actor) == (f"comment.{flag}", "x:c1", "x")


def test_a_comment_classified_again_after_a_replay_keeps_its_verdict() -> None:
    """A rebalance or resync hands the worker the same comment again; a text long enough for the 5.7.6
    repeat memory must not become a campaign by being read three times."""
    from pipelines.pipeline import PolicyPipeline

    pipeline = PolicyPipeline()
    text = "The new bike lane on Ouellette is great, my commute is ten minutes shorter now."
    batch = [(None, comment("c1", text), None)]
    verdicts = [classify_safely(pipeline, batch)[0] for _ in range(3)]
    assert [v.flagged for v in verdicts if isinstance(v, Classification)] == [False, False, False]
