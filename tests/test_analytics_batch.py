"""Analytics counted in batches equals analytics counted one comment at a time, and the fast readers
(the light decode, VADER in linear time, topics by word lookup, accent folding) give the answers of
the plain ones they replace. No broker: ``tests/test_analytics_integration.py`` runs the agents."""

from __future__ import annotations

import itertools
import random
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner
from vaderSentiment import vaderSentiment as vs

from pipelines.normalize import fold_accents
from runtime.settings import Settings, parse_agents
from schemas import Comment, SchemaError, TaggedComment, TagModel, decode, encode
from workers.analytics.counts import (
    WINDOWS,
    Counts,
    WindowName,
    add,
    add_all,
    dimension_keys,
    expired,
    observe,
    observe_batch,
    to_aggregate,
    window_start,
)
from workers.analytics.tagged import decode_tagged
from workers.analytics.text import MAX_READ_CHARS, head
from workers.analytics.topics import OTHER, topic_patterns, topics_of
from workers.analytics.vader import vader

AT = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
NOW = AT + timedelta(days=2)
EXPIRES: dict[WindowName, timedelta] = {"hour": timedelta(days=14), "day": timedelta(days=60)}
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TEXTS = {
    "en": [
        "Great job on the snow plowing this morning, thank you crews!",
        "The plows never came, this street is still a disgrace",
        "Not bad at all, but the recycling pickup was late again",
        "When is the budget vote? Council should fix the potholes first",
        "The splash pad at the park is closed, kind of disappointing",
        "I LOVE the new bike lane on the bridge :)",
        "Bus route 3 skipped my stop, no driver in sight",
    ],
    "fr": [
        "Merci pour la collecte des ordures, excellent travail!",
        "Le déneigement est vraiment nul, quelle honte",
        "Ce n'est pas mauvais, mais la piscine est fermée",
    ],
    "es": ["Muy buen trabajo con la nieve"],
}
CLAUSES = [("5.7.2", "profane"), ("5.7.9", "private_info"), ("5.5", "council"), ("5.7.1", "offtopic")]


def tagged_records(n: int, seed: int) -> list[tuple[bytes, int]]:
    """``n`` encoded ``comments.tagged`` values and the partition each was read from: several hours
    and days, four shards, some too old for the hour tables and some too old for any."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        language = rng.choice(["en", "en", "en", "fr", "es"])
        created = AT - timedelta(minutes=rng.randint(0, 3 * 24 * 60))
        if i % 37 == 0:
            created = AT - timedelta(days=20)  # the hour window has expired, the day has not
        if i % 53 == 0:
            created = AT - timedelta(days=90)  # both have expired
        tags = [
            TagModel(clause=clause, category=category, score=rng.random(), spans=[], detector=f"{category}@1")
            for clause, category in rng.sample(CLAUSES, rng.randint(0, 2))
        ]
        tagged = TaggedComment(
            comment=Comment(
                platform=rng.choice(["x", "facebook"]),
                comment_id=f"b{i}",
                post_id=f"p{rng.randint(1, 5)}",
                author_id="author-b",
                text=rng.choice(TEXTS[language]),
                created_at=created,
            ),
            language=language,
            tags=tags,
            flags=[t.category for t in tags if rng.random() < 0.7],
            action=None,
            routes=["tagged"],
            policy="windsor@test",
        )
        out.append((encode(tagged), rng.randrange(4)))
    return out


CounterStore = dict[tuple[WindowName, float, str], Counts]


def one_at_a_time(records: list[tuple[bytes, int]], now: datetime = NOW) -> tuple[CounterStore, int]:
    """How the worker counted before batches: the full decode, then every counter of a comment."""
    store: CounterStore = {}
    late = 0
    for value, shard in records:
        obs = observe(decode(value, TaggedComment))
        was_late = False
        for window in WINDOWS:
            start = window_start(obs.at, window)
            if expired(start, window, now, EXPIRES):
                was_late = True
                continue
            for dimension, key in dimension_keys(obs):
                counter = (window, start.timestamp(), f"{shard}|{dimension}|{key}")
                store[counter] = add(store.get(counter), obs)
        late += was_late
    return store, late


def in_batches(records: list[tuple[bytes, int]], sizes: list[int]) -> tuple[CounterStore, int, int]:
    """The agent's way: decode and group a batch, then write each counter once. Returns the
    counters, the late comments and how many counter writes it took."""
    store: CounterStore = {}
    late = writes = 0
    position = 0
    for size in itertools.cycle(sizes):
        if position >= len(records):
            break
        pending, failed = observe_batch(records[position : position + size], NOW, EXPIRES)
        assert not failed
        for counter, observations in pending.by_counter.items():
            store[counter] = add_all(store.get(counter), observations)
            writes += 1
        late += pending.late
        position += size
    return store, late, writes


def aggregates(store: CounterStore) -> list[dict[str, Any]]:
    """The ``Aggregate`` of every counter, as the agent would publish it (bar its emission time)."""
    out = []
    for (window, start_ts, table_key), counts in sorted(store.items()):
        shard, dimension, key = table_key.split("|", 2)
        aggregate = to_aggregate(window, datetime.fromtimestamp(start_ts, UTC), dimension, key, int(shard), counts)
        out.append(aggregate.model_dump(exclude={"emitted_at"}))
    return out


@pytest.mark.parametrize("sizes", [[1000], [1, 7, 64], [256], [3]])
def test_batches_count_exactly_what_one_at_a_time_counts(sizes: list[int]) -> None:
    records = tagged_records(600, seed=11)
    expected, expected_late = one_at_a_time(records)
    got, late, writes = in_batches(records, sizes)

    assert got == expected, "same counters, same values, bit for bit (sentiment sums included)"
    assert late == expected_late > 0
    assert aggregates(got) == aggregates(expected)
    # The data exercise what batching must keep apart: windows, shards, unscored languages.
    assert len({(w, ts) for w, ts, _ in got if w == "hour"}) > 24
    assert len({ts for w, ts, _ in got if w == "day"}) >= 3
    assert {int(k.split("|")[0]) for _, _, k in got} == {0, 1, 2, 3}
    assert any(c["s_n"] < c["comments"] for c in got.values()), "Spanish is counted but not scored"
    assert any(c["clauses"] for c in got.values())
    one_by_one_writes = sum(c["comments"] for c in expected.values())
    if sizes == [1000]:
        assert writes == len(got) < one_by_one_writes / 2, "one write per counter and batch"


def test_a_batch_reports_bad_records_by_position_and_counts_the_rest() -> None:
    good = tagged_records(5, seed=3)
    wrong_version = encode(decode(good[0][0], TaggedComment)).replace(b'"schema_version":1', b'"schema_version":9', 1)
    planted = "secret-zq81"
    text_too_long = encode(decode(good[1][0], TaggedComment)).replace(
        b'"text":"', f'"text":"{planted}'.encode() + b"x" * 100_001, 1
    )
    no_comment = b'{"schema_version":1,"language":"en","tags":[],"flags":[]}'
    batch = [
        good[0],
        (b"\xff not json", 1),
        good[1],
        (wrong_version, 2),
        (None, 3),
        (text_too_long, 0),
        (no_comment, 1),
    ]
    batch.append(good[2])
    pending, failed = observe_batch(batch, NOW, EXPIRES)  # type: ignore[arg-type]

    assert sorted(failed) == [1, 3, 4, 5, 6]
    assert pending.comments == 3
    for exc in failed.values():
        assert isinstance(exc, SchemaError) and exc.reason and planted not in exc.reason
    assert "unsupported schema_version 9" in failed[3].reason  # type: ignore[attr-defined]
    assert "comment.text" in failed[5].reason and "comment: Field required" in failed[6].reason  # type: ignore[attr-defined]


def test_light_decode_observes_what_the_full_decode_observes() -> None:
    for value, _ in tagged_records(200, seed=5):
        assert observe(decode_tagged(value)) == observe(decode(value, TaggedComment))


# ---- fast readers against the plain ones ----

VADER_WORDS = [
    *sorted(vs.SentimentIntensityAnalyzer().lexicon)[::40],
    *vs.BOOSTER_DICT,
    *vs.NEGATE[:12],
    *"but BUT no not never so this without doubt least at very kind of the shit bomb yeah right".split(),
    *"street plow bus council :) :( !! ?? ! ? 😁 💘 🙂 GREAT Good lol".split(),
]
vader_text = st.lists(
    st.tuples(st.sampled_from(VADER_WORDS), st.sampled_from(["", ",", ".", "!", "?"]), st.booleans()), max_size=60
).map(lambda words: " ".join((w.upper() if caps else w) + p for w, p, caps in words))


@PROPERTY
@given(st.one_of(vader_text, st.text(max_size=200)))
def test_vader_scores_as_the_package_does(text: str) -> None:
    assert vader().compound(text) == vs.SentimentIntensityAnalyzer().polarity_scores(text)["compound"]


def test_vader_on_its_own_examples() -> None:
    package = vs.SentimentIntensityAnalyzer()
    for text in [
        "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
        "VADER is not smart, handsome, nor funny.",
        "At least it isn't a horrible book.",
        "The book was only kind of good.",
        "The plot was good, but the characters are uncompelling and the dialog is not great.",
        "Today only kinda sux! But I'll get by, lol",
        "Catch utf-8 emoji such as 💘 and 💋 and 😁",
        "Not bad at all",
        *TEXTS["en"],
    ]:
        assert vader().compound(text) == package.polarity_scores(text)["compound"], text


terms = st.sampled_from(
    [
        "snow",
        "plowed",
        "Déneigement",
        "chasse-neige",
        "nids-de-poule",
        "blue box",
        "blue boxes",
        "main break",
        "splash pad",
        "snowboarding",
        "x-snow",
        "snow_",
        "ROUTE",
        "détour",
        "trottoirs",
        "l'eau",
        "the",
    ]
)
topic_text = st.lists(
    st.tuples(terms, st.sampled_from(["", "s", "ing", "-x", "é"]), st.sampled_from([" ", "  ", ",", "-", "'", "\n"])),
    max_size=40,
).map(lambda parts: "".join(t + s + sep for t, s, sep in parts))


@PROPERTY
@given(st.one_of(topic_text, st.text(max_size=200)))
def test_topics_by_word_lookup_are_the_patterns_topics(text: str) -> None:
    folded = fold_accents(text.lower())
    expected = tuple(topic for topic, pattern in topic_patterns() if pattern.search(folded)) or (OTHER,)
    assert topics_of(text) == expected


def test_head_keeps_ordinary_comments_whole_and_cuts_long_ones_between_words() -> None:
    ordinary = TEXTS["en"][0]
    assert head(ordinary) == ordinary
    long = "fine " * 300  # a word ends where the limit falls
    assert head(long) == long[:MAX_READ_CHARS] and len(head(long)) == MAX_READ_CHARS
    cut = head("ab " + "wonderful " * 200)
    assert len(cut) <= MAX_READ_CHARS and cut.endswith("wonderful ") and cut.strip().split()[-1] == "wonderful"
    assert head("x" * 5000) == "x" * MAX_READ_CHARS, "one enormous word is cut where the limit falls"
    assert topics_of("snow " + "x" * 100_000) == ("snow_clearing",)
    assert topics_of("x " * 600 + "snow") == (OTHER,), "beyond the head is not read"


# ---- which agents a process runs ----


def test_agents_and_the_app_id_they_run_under() -> None:
    assert parse_agents("comments,decisions,posts,analytics") == ("comments", "decisions", "posts", "analytics")
    assert parse_agents(" posts, comments ,decisions") == ("comments", "decisions", "posts")
    assert parse_agents("analytics") == ("analytics",)
    assert Settings(app_id="cw", agents=("analytics",)).faust_app_id == "cw-analytics"
    assert Settings(app_id="cw", agents=("comments", "decisions", "posts")).faust_app_id == "cw"
    assert Settings(app_id="cw").faust_app_id == "cw"
    for bad, reason in [
        ("", "no agent"),
        ("comments,bogus", "unknown agent(s) bogus"),
        ("decisions,posts", "run with comments"),
    ]:
        with pytest.raises(ValueError, match=re.escape(reason)):
            parse_agents(bad)


def test_settings_read_the_agents_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICWATCH_APP_ID", "cw")
    monkeypatch.setenv("CIVICWATCH_AGENTS", "analytics")
    assert Settings.from_env().faust_app_id == "cw-analytics"
    monkeypatch.delenv("CIVICWATCH_AGENTS")
    assert Settings.from_env().agents == ("comments", "decisions", "posts", "analytics")


def test_worker_refuses_agents_it_cannot_run_safely(monkeypatch: pytest.MonkeyPatch) -> None:
    from civicwatch.cli import app

    monkeypatch.setenv("CIVICWATCH_AGENTS", "")  # restored after the command sets it
    result = CliRunner().invoke(app, ["worker", "--agents", "decisions"])
    assert result.exit_code == 2
    assert "run with comments" in result.output


def test_performance_report_shows_the_analytics_worker_beside_the_classification_workers() -> None:
    from benchmarks.endtoend import AnalyticsRun, WorkerRun
    from benchmarks.machine import machine
    from benchmarks.pipelines import PipelineReport, Rate
    from benchmarks.report import BenchResult, render

    runs = [
        WorkerRun(1, 20_000, 815.0, [68], [332], 402.0, 8_040, 247.0, 540.0, 682.0, [6.1, 6.3]),
        WorkerRun(2, 20_000, 1_400.0, [60, 61], [330, 331], analytics=AnalyticsRun(28_215, 2_698.0, 77, 107, 6.4)),
    ]
    runs[0].analytics = AnalyticsRun(28_000, 2_500.0, 80, 105, 6.0)
    pipelines = PipelineReport(Rate(1000, 0.5, 0.5), Rate(1000, 0.1, 0.1), {"profanity": Rate(100, 0.1, 0.1)})
    text = render(BenchResult("civicwatch bench all", machine(), pipelines, None, runs, 1.0))
    assert "Workers run `civicwatch worker --agents comments,decisions,posts`" in text
    assert "## Analytics worker" in text
    assert "| 1 worker(s) | 28,000 | 2,500/s | 80% | 105 MiB | 6.0 |" in text
    assert "| 2 worker(s) | 28,215 | 2,698/s | 77% | 107 MiB | 6.4 |" in text


def test_later_versions_of_a_comment_are_not_counted_again() -> None:
    """An edit, a deletion or a hide is the same comment again: analytics counts each comment once."""
    first = decode(tagged_records(1, seed=5)[0][0], TaggedComment)
    versions = [
        first,
        first.model_copy(update={"comment": first.comment.model_copy(update={"edited": True, "text": "changed"})}),
        first.model_copy(update={"comment": first.comment.model_copy(update={"deleted": True, "text": ""})}),
        first.model_copy(update={"comment": first.comment.model_copy(update={"hidden": True})}),
    ]
    pending, failed = observe_batch([(encode(v), 0) for v in versions], NOW, EXPIRES)
    assert failed == {} and pending.comments == 1
