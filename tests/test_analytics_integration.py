"""Analytics end to end on the real broker: counts are right once shards are summed, and
``analytics.aggregates`` carries no text, handle or author id (clause 6.1)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from review.report import combine, top
from runtime.sink import KafkaSink
from schemas import Aggregate, Comment, TaggedComment, decode
from schemas.topics import COMMENTS_RAW
from tests.conftest import WorkerProcess, consume_all
from workers.analytics.perception import classify, score

pytestmark = pytest.mark.integration

AT = datetime.now(UTC).replace(minute=10, second=0, microsecond=0) - timedelta(hours=2)
SECRET_HANDLE = "handle_zq81"
SECRET_AUTHOR = "author_zq81"


def comments() -> list[Comment]:
    texts = [
        ("x", "x-p1", "en", "Great job on the snow plowing this morning, thank you crews!"),
        ("x", "x-p1", "en", "The plows never came, this fucking street is still covered in snow"),
        ("x", "x-p1", "en", "Call Dave at 519-555-0142 about the snow on his driveway"),
        ("facebook", "fb-p2", "fr", "Merci pour la collecte des ordures, excellent travail!"),
        ("facebook", "fb-p2", "fr", "La collecte est encore en retard, c'est vraiment nul"),
        ("facebook", "fb-p2", "en", "Recycling pickup was on time today"),
    ]
    return [
        Comment(
            platform=platform,  # type: ignore[arg-type]
            comment_id=f"an{i}",
            post_id=post,
            author_id=SECRET_AUTHOR,
            author_handle=SECRET_HANDLE,
            text=text,
            language=lang,
            created_at=AT,
        )
        for i, (platform, post, lang, text) in enumerate(texts)
    ]


@pytest.fixture(scope="module")
def outputs(
    kafka_bootstrap: str, kafka_topics: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[list[TaggedComment], list[Any]]]:
    log = tmp_path_factory.mktemp("analytics") / "worker.log"
    worker = WorkerProcess(kafka_bootstrap, kafka_topics, f"an-{kafka_topics.strip('.')}", log)
    worker.env["CIVICWATCH_ANALYTICS_INTERVAL"] = "1"
    worker.start()
    try:
        sink = KafkaSink(kafka_bootstrap, kafka_topics)
        for c in comments():
            sink.send(COMMENTS_RAW, c)
        sink.flush()
        sink.close()
        tagged = consume_all(kafka_bootstrap, kafka_topics + "comments.tagged", len(comments()), timeout=120)
        messages = consume_all(kafka_bootstrap, kafka_topics + "analytics.aggregates", 10_000, timeout=20)
        assert worker.alive(), worker.log()[-3000:]
        yield [decode(m.value, TaggedComment) for m in tagged], messages
    finally:
        worker.stop()


def latest(messages: list) -> list[Aggregate]:
    by_key = {m.key: decode(m.value, Aggregate) for m in messages}
    return list(by_key.values())


def test_totals_per_dimension_after_summing_shards(outputs: tuple[list[TaggedComment], list[Any]]) -> None:
    tagged, aggregates = outputs
    flagged_clauses = [{t.clause for t in c.tags if t.category in c.flags} for c in tagged]
    day = [t for t in combine(latest(aggregates)) if t.window == "day"]
    everything = [t for t in day if t.dimension == "all"]
    assert len(everything) == 1
    assert everything[0].comments == 6
    assert everything[0].flagged == sum(any(c.startswith("5.7") for c in cs) for cs in flagged_clauses) > 0
    assert everything[0].by_clause == dict(Counter(c for cs in flagged_clauses for c in cs))
    clause_rows = {t.key: t.comments for t in day if t.dimension == "clause"}
    assert clause_rows == everything[0].by_clause
    platforms = {t.key: t.comments for t in day if t.dimension == "platform"}
    assert platforms == {"x": 3, "facebook": 3}
    assert [(t.key, t.comments) for t in top(day, "post")] == [("facebook:fb-p2", 3), ("x:x-p1", 3)]
    flags_by_post = Counter(f"{c.comment.platform}:{c.comment.post_id}" for c in tagged if c.flags)
    assert [(t.key, t.flagged) for t in top(day, "post", by="flagged")][:1] == flags_by_post.most_common(1)
    topics = {t.key: t.comments for t in day if t.dimension == "topic"}
    assert topics["snow_clearing"] == 3 and topics["waste_collection"] == 3
    languages = {t.key: t.comments for t in day if t.dimension == "language"}
    assert languages == dict(Counter(c.language for c in tagged))
    hour = [t for t in combine(latest(aggregates)) if t.window == "hour" and t.dimension == "all"]
    assert len(hour) == 1 and hour[0].window_start == AT.replace(minute=0)


def test_perception_by_post(outputs: tuple[list[TaggedComment], list[Any]]) -> None:
    tagged, aggregates = outputs
    expected: dict[str, Counter[str]] = {}
    for c in tagged:
        value = score(c.comment.text, c.language)
        if value is not None:
            expected.setdefault(f"{c.comment.platform}:{c.comment.post_id}", Counter())[classify(value)] += 1
    day = [t for t in combine(latest(aggregates)) if t.window == "day"]
    posts = {t.key: t for t in top(day, "post")}
    for post, perceptions in expected.items():
        got = posts[post]
        assert (got.positive, got.negative, got.neutral) == (
            perceptions["positive"],
            perceptions["negative"],
            perceptions["neutral"],
        )
        assert got.sentiment_count == sum(perceptions.values())
    assert posts["facebook:fb-p2"].positive >= 1 and posts["facebook:fb-p2"].negative >= 1, "French is scored"


def test_no_personal_information_in_aggregates(outputs: tuple[list[TaggedComment], list[Any]]) -> None:
    _, aggregates = outputs
    raw = b"".join((m.key or b"") + m.value for m in aggregates)
    for secret in (SECRET_AUTHOR, SECRET_HANDLE, "519-555-0142", "Dave", "fucking", "ordures", "an0", "an3"):
        assert secret.encode() not in raw
