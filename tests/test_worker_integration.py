"""The worker end to end on the real broker: every comment lands where it should, exactly once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from runtime.admin import topic_configs
from runtime.sink import KafkaSink
from schemas import Comment, DeadLetter, Decision, TaggedComment, decode, encode
from schemas.topics import COMMENTS_RAW, MODERATION_DECISIONS
from tests import factories
from tests.conftest import WorkerProcess, consume_all

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def make(i: int, text: str) -> Comment:
    return factories.comment(f"c{i}", text, author=f"a{i % 7}", at=NOW)


def corpus() -> tuple[list[Comment], set[str], set[str], set[str]]:
    """Clean, profane, private-information and council comments with the routes each must take."""
    comments, review, council, private = [], set(), set(), set()
    for i in range(300):
        kind = i % 4
        if kind == 0:
            c = make(i, f"Thanks to the crews for clearing Wyandotte this morning, comment {i}.")
        elif kind == 1:
            c = make(i, f"This fucking snow removal is a joke, day {i}")
            review.add(c.key)
        elif kind == 2:
            c = make(i, f"My neighbour's cell is 519-974-{i:04d}, call him about the fence")
            review.add(c.key)
            private.add(c.key)
        else:
            c = make(i, f"Will the mayor answer question {i} about the budget?")
            council.add(c.key)
        comments.append(c)
    return comments, review, council, private


@pytest.fixture(scope="module")
def worker(kafka_bootstrap: str, kafka_topics: str, tmp_path_factory: pytest.TempPathFactory) -> WorkerProcess:
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    proc = WorkerProcess(kafka_bootstrap, kafka_topics, f"it-{kafka_topics.strip('.')}", log).start()
    yield proc
    proc.stop()


def test_every_comment_routed_exactly_once_and_bad_input_dead_lettered(
    kafka_bootstrap: str, kafka_topics: str, worker: WorkerProcess
) -> None:
    prefix = kafka_topics
    comments, review, council, private = corpus()
    sink = KafkaSink(kafka_bootstrap, prefix)
    bad = [
        b"{not json",
        b"\xff\xfe\x00garbage",
        orjson.dumps({"schema_version": 1, "platform": "x"}),
        orjson.dumps({**orjson.loads(encode(comments[0])), "schema_version": 3}),
        encode(make(999, "x")).replace(b'"text":"x"', b'"text":"' + b"a" * 150_000 + b'"'),
        b"[1, 2, 3]",
    ]
    for c in comments[:150]:
        sink.send(COMMENTS_RAW, c)
    for i, payload in enumerate(bad):
        sink.send_raw(COMMENTS_RAW, f"bad{i}".encode(), payload)
    for c in comments[150:]:
        sink.send(COMMENTS_RAW, c)
    for c in comments[:40]:  # redelivered by a connector: must not be processed twice
        sink.send(COMMENTS_RAW, c)
    sink.flush()
    sink.close()

    tagged = consume_all(kafka_bootstrap, prefix + "comments.tagged", len(comments), timeout=120)
    assert worker.alive(), worker.log()[-3000:]
    keys = Counter(m.key.decode() for m in tagged)
    assert len(keys) == len(comments), "every comment is tagged"
    assert max(keys.values()) == 1, f"duplicates in comments.tagged: {[k for k, n in keys.items() if n > 1][:5]}"
    decoded = [decode(m.value, TaggedComment) for m in tagged]
    assert all(t.comment.key == m.key.decode() for t, m in zip(decoded, tagged, strict=True))

    reviewed = consume_all(kafka_bootstrap, prefix + "moderation.review", len(review), timeout=30)
    assert Counter(m.key.decode() for m in reviewed) == Counter(review)
    forwarded = consume_all(kafka_bootstrap, prefix + "council.forward", len(council), timeout=30)
    assert {m.key.decode() for m in forwarded} == council
    assert len(forwarded) == len(council)

    dead = consume_all(kafka_bootstrap, prefix + "comments.deadletter", len(bad), timeout=30)
    assert len(dead) == len(bad)
    letters = [decode(m.value, DeadLetter) for m in dead]
    assert all(d.stage == "ingest" and d.reason and d.source_topic == prefix + "comments.raw" for d in letters)
    assert sorted(d.payload_size for d in letters) == sorted(len(b) for b in bad), "payloads kept whole"
    reasons = " ".join(d.reason for d in letters)
    assert "schema_version" in reasons and "not valid UTF-8 JSON" in reasons and "expected a JSON object" in reasons

    # 5.7.9 is auto_hide in the policy: each private-information comment yields one hide action.
    actions = consume_all(kafka_bootstrap, prefix + "moderation.actions", len(private), timeout=30)
    assert {m.key.decode() for m in actions} == private
    assert len(actions) == len(private)


def test_decision_becomes_action_and_audit_record(
    kafka_bootstrap: str, kafka_topics: str, worker: WorkerProcess
) -> None:
    prefix = kafka_topics
    decision = Decision(
        decision_id="d-1",
        review_id="r-1",
        platform="facebook",
        comment_id="fb-77",
        post_id="p9",
        decision="delete",
        clauses=["5.7.2"],
        reason="profanity",
        moderator="mod-a",
    )
    sink = KafkaSink(kafka_bootstrap, prefix)
    sink.send(MODERATION_DECISIONS, decision, key="facebook:fb-77")
    sink.flush()
    sink.close()
    audit = consume_all(kafka_bootstrap, prefix + "audit.log", 1, timeout=60)
    records = [orjson.loads(m.value) for m in audit if m.key == b"facebook:fb-77"]
    assert len(records) == 1
    assert records[0]["actor"] == "mod-a" and records[0]["verb"] == "decision.delete"
    actions = consume_all(kafka_bootstrap, prefix + "moderation.actions", 1, timeout=30)
    mine = [orjson.loads(m.value) for m in actions if m.key == b"facebook:fb-77"]
    assert len(mine) == 1 and mine[0]["action"] == "delete" and mine[0]["decision_id"] == "d-1"


def test_worker_log_holds_no_comment_text(worker: WorkerProcess) -> None:
    log = worker.log()
    assert "batch_processed" in log
    assert "519-974-" not in log and "fucking" not in log and "Wyandotte" not in log


def test_a_deletion_reaches_the_tagged_topic_and_the_audit_log(
    kafka_bootstrap: str, kafka_topics: str, worker: WorkerProcess
) -> None:
    """A comment then its deletion (as a connector sends it): classified once, then recorded, not classified."""
    prefix = kafka_topics
    first = factories.comment("del-1", "This fucking plow skipped us again", platform="facebook", at=NOW)
    gone = first.model_copy(update={"text": "", "deleted": True, "author_id": "unknown"})
    sink = KafkaSink(kafka_bootstrap, prefix)
    with sink.transaction():
        sink.send(COMMENTS_RAW, first)
    with sink.transaction():
        sink.send(COMMENTS_RAW, gone)
    sink.close()
    key = b"facebook:del-1"
    deadline_tagged = consume_all(kafka_bootstrap, prefix + "comments.tagged", 302, timeout=90)
    versions = [decode(m.value, TaggedComment) for m in deadline_tagged if m.key == key]
    assert [t.flags == ["deleted"] for t in versions] == [False, True]
    assert versions[1].comment.text == "" and versions[1].routes == []
    audit = consume_all(kafka_bootstrap, prefix + "audit.log", 2, timeout=30)
    verbs = [orjson.loads(m.value)["verb"] for m in audit if m.key == key]
    assert "comment.deleted" in verbs


def test_the_dedupe_table_lives_on_disk_and_forgets_after_its_window(
    kafka_bootstrap: str, kafka_topics: str, worker: WorkerProcess
) -> None:
    """Memory stays flat whatever the volume: seen comments go to RocksDB with a time-to-live, and
    the changelog the table is rebuilt from keeps no more than that window (compact, then delete)."""
    sink = KafkaSink(kafka_bootstrap, kafka_topics)
    sink.send(COMMENTS_RAW, make(5000, "Thanks for the new bike lane on Tecumseh"))
    sink.flush()
    sink.close()
    consume_all(kafka_bootstrap, kafka_topics + "comments.tagged", 1, timeout=60, settle=0)
    app_id = worker.env["CIVICWATCH_APP_ID"]
    changelog = f"{app_id}-seen-comments-changelog"
    config = topic_configs(kafka_bootstrap, [changelog])[changelog]
    assert config["cleanup.policy"] == "compact,delete"
    assert config["retention.ms"] == str(192 * 3600 * 1000), "the default window, above the 7-day lookback"
    stores = list((Path(worker.env["CIVICWATCH_DATA_DIR"]) / app_id).rglob("seen-comments-*.db"))
    assert stores, "the dedupe table is a RocksDB store on disk"
    assert all((db / "CURRENT").is_file() for db in stores)
