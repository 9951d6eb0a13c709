"""Classification and analytics as two processes on the real broker, as deployed: the analytics
worker is its own faust app (consumer group and changelogs), counts in batches exactly what one
comment at a time would count, writes each counter to its shard's changelog partition, and
dead-letters what it cannot read."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from kafka import KafkaAdminClient

from runtime.sink import KafkaSink
from schemas import Aggregate, Comment, DeadLetter, decode
from schemas.topics import COMMENTS_RAW, COMMENTS_TAGGED
from tests.conftest import WorkerProcess, consume_all
from tests.test_analytics_batch import TEXTS, aggregates, one_at_a_time

pytestmark = pytest.mark.integration

COMMENTS = 240
BAD = [(b"bad-1", b"\xff not json"), (b"bad-2", b'{"schema_version":7,"comment":{}}')]


@dataclass
class Run:
    app_id: str
    tagged: list[Any]
    aggregates_before_analytics: list[Any]
    aggregates: list[Any]
    dead: list[Any]
    classifier: WorkerProcess
    counter: WorkerProcess


def comments(now: datetime) -> list[Comment]:
    texts = [t for group in TEXTS.values() for t in group]
    return [
        Comment(
            platform="x" if i % 3 else "facebook",
            comment_id=f"apart{i}",
            post_id=f"p{i % 5}",
            author_id="author-apart",
            text=texts[i % len(texts)],
            language="fr" if "Merci" in texts[i % len(texts)] else None,
            created_at=now - timedelta(minutes=7 * i),  # 28 hours: many hour windows, two or three days
        )
        for i in range(COMMENTS)
    ]


def latest(messages: list[Any]) -> dict[bytes, Aggregate]:
    return {m.key: decode(m.value, Aggregate) for m in messages}


def counted(messages: list[Any]) -> int:
    return sum(a.comments for a in latest(messages).values() if a.window == "day" and a.dimension == "all")


@pytest.fixture(scope="module")
def run(kafka_bootstrap: str, kafka_topics: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    workdir = tmp_path_factory.mktemp("apart")
    app_id = f"apart-{kafka_topics.strip('.')}"
    classifier = WorkerProcess(kafka_bootstrap, kafka_topics, app_id, workdir / "classifier.log")
    classifier.env["CIVICWATCH_AGENTS"] = "comments,decisions,posts"
    counter = WorkerProcess(kafka_bootstrap, kafka_topics, app_id, workdir / "analytics.log")
    counter.env.update({"CIVICWATCH_AGENTS": "analytics", "CIVICWATCH_ANALYTICS_INTERVAL": "1"})
    counter.env["CIVICWATCH_DATA_DIR"] = str(workdir / "analytics-data")
    classifier.start()
    try:
        sink = KafkaSink(kafka_bootstrap, kafka_topics)
        for c in comments(datetime.now(UTC)):
            sink.send(COMMENTS_RAW, c)
        sink.flush()
        tagged = consume_all(kafka_bootstrap, kafka_topics + "comments.tagged", COMMENTS, timeout=180)
        assert len(tagged) == COMMENTS, classifier.log()[-3000:]
        before = consume_all(kafka_bootstrap, kafka_topics + "analytics.aggregates", 1, timeout=3)
        for key, value in BAD:
            sink.send_raw(COMMENTS_TAGGED, key, value)
        sink.flush()
        sink.close()
        # Everything is waiting when analytics starts, so it counts in large batches.
        counter.start()
        deadline = time.monotonic() + 180
        published: list[Any] = []
        while time.monotonic() < deadline and counted(published) < COMMENTS:
            published = consume_all(kafka_bootstrap, kafka_topics + "analytics.aggregates", 10**6, timeout=3)
        published = consume_all(kafka_bootstrap, kafka_topics + "analytics.aggregates", 10**6, timeout=4)
        dead = consume_all(kafka_bootstrap, kafka_topics + "comments.deadletter", len(BAD), timeout=30)
        assert counter.alive() and classifier.alive(), counter.log()[-3000:]
        yield Run(app_id, tagged, before, published, dead, classifier, counter)
    finally:
        counter.stop()
        classifier.stop()


def test_each_process_runs_its_agents_under_its_own_app_id(run: Run) -> None:
    starts = [orjson.loads(line) for line in run.classifier.log().splitlines() if '"worker_starting"' in line]
    assert starts and starts[0]["agents"] == ["comments", "decisions", "posts"] and starts[0]["app_id"] == run.app_id
    starts = [orjson.loads(line) for line in run.counter.log().splitlines() if '"worker_starting"' in line]
    assert starts and starts[0]["agents"] == ["analytics"] and starts[0]["app_id"] == run.app_id + "-analytics"
    assert run.aggregates_before_analytics == [], "the classification worker does not count"
    assert "analytics_batch_counted" in run.counter.log() and "batch_processed" not in run.counter.log()


def test_consumer_groups_and_changelogs_are_apart(run: Run, kafka_bootstrap: str, kafka_topics: str) -> None:
    tagged = kafka_topics + "comments.tagged"
    records = consume_all(kafka_bootstrap, tagged, COMMENTS + len(BAD), timeout=30, settle=1)
    past_last = {r.partition: r.offset + 1 for r in sorted(records, key=lambda r: r.offset)}
    group = run.app_id + "-analytics"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        deadline = time.monotonic() + 30  # faust commits acked offsets every second
        while True:
            committed = {tp.partition: o.offset for tp, o in admin.list_group_offsets(group)[group].items()}
            if committed == past_last or time.monotonic() > deadline:
                break
            time.sleep(1)
        classifier_topics = {tp.topic for tp in admin.list_group_offsets(run.app_id)[run.app_id]}
        topics = set(admin.list_topics())
    finally:
        admin.close()
    assert committed == past_last, "the analytics group committed past every record of comments.tagged"
    assert tagged not in classifier_topics
    assert {
        f"{run.app_id}-analytics-analytics-hour-changelog",
        f"{run.app_id}-analytics-analytics-day-changelog",
    } <= topics
    assert not {f"{run.app_id}-analytics-hour-changelog", f"{run.app_id}-analytics-day-changelog"} & topics, (
        "the classification app carries no analytics tables"
    )


def test_batched_aggregates_equal_counting_one_comment_at_a_time(run: Run) -> None:
    expected_store, late = one_at_a_time([(m.value, m.partition) for m in run.tagged], datetime.now(UTC))
    assert late == 0
    expected = {
        (a["window"], a["window_start"], a["dimension"], a["key"], a["shard"]): a for a in aggregates(expected_store)
    }
    got = {
        (a.window, a.window_start, a.dimension, a.key, a.shard): a.model_dump(exclude={"emitted_at"})
        for a in latest(run.aggregates).values()
    }
    assert got == expected
    assert len({k[1] for k in got if k[0] == "hour"}) > 20 and len({k[4] for k in got}) == 4
    batches = [orjson.loads(line) for line in run.counter.log().splitlines() if '"analytics_batch_counted"' in line]
    assert max(b["comments"] for b in batches) > 1, "the backlog was counted in batches"


def test_counters_are_written_to_their_shards_changelog_partition(run: Run, kafka_bootstrap: str) -> None:
    for table in ("hour", "day"):
        records = consume_all(
            kafka_bootstrap, f"{run.app_id}-analytics-analytics-{table}-changelog", 1, timeout=10, settle=1
        )
        assert records
        for record in records:
            key, _window = orjson.loads(record.key)
            assert int(key.split("|", 1)[0]) == record.partition, (table, key, record.partition)


def test_unreadable_records_are_dead_lettered_by_analytics(run: Run) -> None:
    letters = [decode(m.value, DeadLetter) for m in run.dead]
    assert sorted((d.key, d.stage, d.error) for d in letters) == [
        ("bad-1", "analytics", "malformed"),
        ("bad-2", "analytics", "invalid"),
    ]
    assert all(d.reason and d.source_topic and d.source_topic.endswith("comments.tagged") for d in letters)
    assert "unsupported schema_version 7" in next(d.reason for d in letters if d.key == "bad-2")
