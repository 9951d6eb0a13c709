"""Records and the 5.6 post check on the real broker: retention applied to topics, an access-request
export read from the topics (committed records only), and the worker flagging a city post."""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from civicwatch.cli import app
from runtime.admin import ensure_topics, topic_configs
from runtime.sink import KafkaSink
from schemas import AuditRecord, Decision, ModerationAction, Post, PostReviewItem, ReviewItem, decode
from schemas.topics import (
    AUDIT_LOG,
    COMMENTS_RAW,
    DAY_MS,
    MODERATION_ACTIONS,
    MODERATION_DECISIONS,
    MODERATION_REVIEW,
    POSTS,
    POSTS_REVIEW,
)
from tests import factories
from tests.conftest import WorkerProcess, consume_all

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def env(bootstrap: str, prefix: str) -> dict[str, str]:
    return {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CIVICWATCH_TOPIC_PREFIX": prefix}


def retention_becomes(bootstrap: str, topic: str, value: int, timeout: float = 60.0) -> bool:
    """A config change reaches every broker's view a moment after the alter succeeds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if topic_configs(bootstrap, [topic]).get(topic, {}).get("retention.ms") == str(value):
            return True
        time.sleep(0.5)
    return False


def test_retention_apply_resets_a_drifted_topic(kafka_bootstrap: str, kafka_topics: str) -> None:
    raw = COMMENTS_RAW.full_name(kafka_topics)
    assert retention_becomes(kafka_bootstrap, raw, 30 * DAY_MS), "a new topic is listed a moment after it is made"
    ensure_topics(kafka_bootstrap, kafka_topics, [COMMENTS_RAW], retention={"comments": 5 * DAY_MS})
    assert retention_becomes(kafka_bootstrap, raw, 5 * DAY_MS)
    result = CliRunner().invoke(
        app, ["records", "retention", "--apply", "--db", "/nonexistent.sqlite3"], env=env(kafka_bootstrap, kafka_topics)
    )
    assert result.exit_code == 0, result.output
    assert f"updated   {raw}" in result.output
    assert retention_becomes(kafka_bootstrap, raw, 30 * DAY_MS)
    line = next(x for x in result.output.splitlines() if x.strip().startswith(raw))
    assert line.rstrip().endswith(str(5 * DAY_MS)), "the report shows what the cluster had before --apply"


def test_export_from_the_topics_holds_one_authors_committed_records(
    kafka_bootstrap: str, kafka_topics: str, tmp_path: Path
) -> None:
    mine, theirs = factories.comment("c1", "mine", author="a1", at=NOW), factories.comment("c2", "theirs", author="a2")
    sink = KafkaSink(kafka_bootstrap, kafka_topics)
    for c in (mine, theirs):
        sink.send(COMMENTS_RAW, c)
        review = ReviewItem(
            review_id=f"r-{c.comment_id}", comment=c, tags=[], flags=[], clauses=["5.7.2"], action="review"
        )
        sink.send(MODERATION_REVIEW, review)
        sink.send(
            MODERATION_DECISIONS,
            Decision(
                decision_id=f"d-{c.comment_id}",
                review_id=review.review_id,
                platform="x",
                comment_id=c.comment_id,
                post_id=c.post_id,
                decision="hide",
                reason="5.7.2",
                moderator="mod",
            ),
            key=c.key,
        )
        sink.send(
            MODERATION_ACTIONS,
            ModerationAction(
                action_id=f"act-{c.comment_id}",
                decision_id=f"d-{c.comment_id}",
                platform="x",
                comment_id=c.comment_id,
                post_id=c.post_id,
                action="hide",
            ),
            key=c.key,
        )
        sink.send(AUDIT_LOG, AuditRecord(audit_id=f"a-{c.comment_id}", actor="mod", verb="x", subject=c.key))
    sink.flush()
    sink.close()
    aborted = KafkaSink(kafka_bootstrap, kafka_topics, transactional_id=f"{kafka_topics}aborted")
    with contextlib.suppress(RuntimeError), aborted.transaction():
        aborted.send(COMMENTS_RAW, factories.comment("c9", "never committed", author="a1"))
        aborted.flush()
        raise RuntimeError("abort")
    aborted.close()

    out = tmp_path / "request"
    result = CliRunner().invoke(
        app,
        ["records", "export", "--author-id", "x:a1", "--out", str(out), "--broker", "--db", str(tmp_path / "none.db")],
        env=env(kafka_bootstrap, kafka_topics),
    )
    assert result.exit_code == 0, result.output
    (jsonl,) = out.glob("*.jsonl")
    rows = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["source"] for r in rows) == [
        "kafka:audit.log",
        "kafka:comments.raw",
        "kafka:moderation.actions",
        "kafka:moderation.decisions",
        "kafka:moderation.review",
    ]
    text = jsonl.read_text(encoding="utf-8")
    assert "c2" not in text and "a2" not in text and "never committed" not in text
    audits = [decode(m.value, AuditRecord) for m in consume_all(kafka_bootstrap, AUDIT_LOG.full_name(kafka_topics), 3)]
    (export,) = [a for a in audits if a.verb == "records.export"]
    assert export.subject == "author:x:a1" and export.details["counts"]["kafka:comments.raw"] == 1
    assert "mine" not in json.dumps(export.model_dump(mode="json"))


def test_the_worker_flags_a_city_post_with_a_staff_extension(
    kafka_bootstrap: str, kafka_topics: str, tmp_path: Path
) -> None:
    worker = WorkerProcess(kafka_bootstrap, kafka_topics, f"it-{kafka_topics.strip('.')}", tmp_path / "w.log").start()
    try:
        sink = KafkaSink(kafka_bootstrap, kafka_topics)
        flagged = Post(
            platform="x", post_id="p1", account="city", text="Pool hours: ask Dana at ext. 4321.", created_at=NOW
        )
        clean = Post(platform="x", post_id="p2", account="city", text="Pool hours: call 311.", created_at=NOW)
        sink.send(POSTS, flagged)
        sink.send(POSTS, clean)
        sink.flush()
        sink.close()
        messages = consume_all(kafka_bootstrap, POSTS_REVIEW.full_name(kafka_topics), 1, timeout=120)
    finally:
        worker.stop()
    (item,) = [decode(m.value, PostReviewItem) for m in messages]
    assert item.post.post_id == "p1" and item.clauses == ["5.6"]
    (span,) = item.findings[0].spans
    assert item.post.text[span.start : span.end] == "ext. 4321"
    assert "Dana" not in (tmp_path / "w.log").read_text(encoding="utf-8"), "no post text in the worker's log"


def test_applying_retention_keeps_an_operators_other_topic_configs(kafka_bootstrap: str, kafka_topics: str) -> None:
    """Only the declared keys change (kafka-python sends IncrementalAlterConfigs when the broker has it;
    the legacy request would reset every key it omits, min.insync.replicas included)."""
    from kafka import KafkaAdminClient
    from kafka.admin import ConfigResource, ConfigResourceType

    decisions = MODERATION_DECISIONS.full_name(kafka_topics)
    assert retention_becomes(kafka_bootstrap, decisions, 365 * DAY_MS)
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        tuned = {**MODERATION_DECISIONS.kafka_config(), "segment.ms": str(DAY_MS)}
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, decisions, configs=tuned)])
    finally:
        admin.close()
    assert retention_becomes(kafka_bootstrap, decisions, 365 * DAY_MS)
    ensure_topics(kafka_bootstrap, kafka_topics, [MODERATION_DECISIONS], retention={"decisions": 2 * 365 * DAY_MS})
    assert retention_becomes(kafka_bootstrap, decisions, 2 * 365 * DAY_MS)
    assert topic_configs(kafka_bootstrap, [decisions])[decisions]["segment.ms"] == str(DAY_MS)


def test_the_demo_answers_an_access_request_and_flags_the_draft_post(kafka_bootstrap: str) -> None:
    """The issue's 'done when': in the demo, an export for the busiest sample author holds all of
    that author's comments and none of anyone else's, and the sample's draft post is flagged (5.6)."""
    from rich.console import Console

    from civicwatch.commands.demo import SAMPLE, run_demo

    console = Console(record=True, width=200)
    assert run_demo(console, kafka_bootstrap, f"demo{uuid.uuid4().hex[:6]}.", SAMPLE, 240, 2)
    text = console.export_text()
    assert "complete: " in text and "INCOMPLETE" not in text
    assert " 0 of the " in text, "none of the other authors' comments"
    assert re.search(r"posts\.review\s+│\s+1\s", text), text
