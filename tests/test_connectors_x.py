"""The X connector against recorded API v2 shapes (``responses``), and against the real broker."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator

import pytest
import responses

from connectors import metrics
from connectors.core import Backoff, CredentialError, FakeClock, NotPermitted, RateLimited
from connectors.runner import KafkaCheckpointStore, MemoryCheckpointStore, Runner
from connectors.secrets import Secrets
from connectors.x import XActions, XApi, XConnector, make_client, snowflake_time, tweet_to_comment
from runtime.settings import XSettings
from runtime.sink import KafkaSink, MemorySink
from schemas import Comment, DeadLetter, ModerationAction, decode
from schemas.codec import InvalidEvent
from schemas.topics import COMMENTS_DEADLETTER, COMMENTS_RAW, POSTS
from tests.conftest import consume_all
from tests.fake_platforms import FakeX
from tests.platform_payloads import (
    CITY,
    CITY_ID,
    NOW,
    X_DELETED_REFERENCE,
    X_FORBIDDEN_HIDE,
    X_SERVICE_UNAVAILABLE,
    X_TOO_MANY,
    X_UNAUTHORIZED,
    long_tweet,
    retweet,
    snowflake,
    tweet,
    x_rate_headers,
)

SETTINGS = XSettings(accounts=(CITY,), page_size=10, poll_interval=60.0, max_requests_per_window=100)
TOKENS = {
    "X_BEARER_TOKEN": "AAAAbearer-token-for-tests-000",
    "X_CONSUMER_KEY": "consumer-key-0001",
    "X_CONSUMER_SECRET": "consumer-secret-0001",
    "X_ACCESS_TOKEN": "access-token-0001",
    "X_ACCESS_TOKEN_SECRET": "access-secret-0001",
}
POST_ID = snowflake(NOW - 3600)


def overlap_floor(tweet_id: str) -> str:
    """The id a sweep starts from: ``overlap_seconds`` below ``tweet_id``."""
    return snowflake(snowflake_time(tweet_id) - SETTINGS.overlap_seconds)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def fake(rsps: responses.RequestsMock) -> FakeX:
    """The city's post, 25 replies (emoji, Arabic, Chinese, escaped entities), its own reply, two mentions.

    As in v2, a reply's ``text`` starts with the @handle it replies to."""
    x = FakeX(rsps, NOW)
    x.timeline.append(tweet(POST_ID, "Snow clearing starts tonight on arterial roads ❄️", CITY_ID))
    texts = ["Merci pour l'info 👍", "شكرا على التحديث", "谢谢市政府", "Plows &amp; salt &lt;finally&gt;"]
    for i in range(25):
        tid = snowflake(NOW - 3000 + i * 10)
        author = f"90000000000000{i % 3}"
        x.add_user(author, f"resident{i % 3}")
        text = f"@{CITY} {texts[i % 4]} #{i}"
        x.replies.append(tweet(tid, text, author, conversation=POST_ID, reply_to=POST_ID))
    x.replies.append(
        tweet(snowflake(NOW - 2500), "We'll look into it.", CITY_ID, conversation=POST_ID, reply_to=POST_ID)
    )
    in_conversation = x.replies[3]
    x.mentions.append(in_conversation)  # also a mention: must come out once, from the conversation
    other = snowflake(NOW - 1800)
    x.add_user("900000000000009", "someone")
    x.mentions.append(tweet(other, f"@{CITY} when is bulk pickup?", "900000000000009", conversation=other))
    return x


def connector(clock: FakeClock, settings: XSettings = SETTINGS) -> XConnector:
    return XConnector(XApi(make_client(Secrets(env=TOKENS)), clock), settings, clock)


def comments_in(sink: MemorySink) -> list[Comment]:
    return [decode(v, Comment) for _, v in sink.topics[COMMENTS_RAW.full_name()]]


def run(clock: FakeClock, sink: MemorySink, polls: int, settings: XSettings = SETTINGS) -> Runner:
    runner = Runner(
        connector(clock, settings), sink, MemoryCheckpointStore(sink), clock, backoff=Backoff(rng=random.Random(7))
    )
    runner.start()
    runner.run(max_polls=polls)
    return runner


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thanks 🙏🏽 for the update", "Thanks 🙏🏽 for the update"),
        ("Plows &amp; salt &lt;3", "Plows & salt <3"),
        ("Спасибо, мэрия", "Спасибо, мэрия"),
        ("市役所ありがとう", "市役所ありがとう"),
    ],
)
def test_tweet_text_keeps_emoji_and_scripts_and_unescapes_entities(text: str, expected: str) -> None:
    tid = snowflake(NOW)
    comment = tweet_to_comment(tweet(tid, text, "42", conversation=POST_ID, reply_to=POST_ID), {})
    assert comment.text == expected
    assert comment.post_id == POST_ID and comment.parent_id == POST_ID
    assert comment.url == f"https://x.com/i/web/status/{tid}"


def test_edited_tweet_keeps_the_original_id_so_versions_share_a_key() -> None:
    original, edit = snowflake(NOW - 60), snowflake(NOW)
    data = tweet(edit, "fixed typo", "42", conversation=POST_ID, history=[original, edit])
    comment = tweet_to_comment(data, {"42": {"id": "42", "username": "res"}})
    assert (comment.comment_id, comment.edited, comment.key) == (original, True, f"x:{original}")
    assert comment.author_handle == "res" and comment.url == f"https://x.com/res/status/{edit}"


@pytest.mark.parametrize(
    ("broken", "field"),
    [
        ({"author_id": None}, "author_id"),
        ({"created_at": "yesterday"}, "created_at"),
        ({"text": 12}, "text"),
        ({"id": "not-a-number"}, "id"),
        ({"edit_history_tweet_ids": "1"}, "edit_history_tweet_ids"),
    ],
)
def test_unmappable_tweet_names_the_field(broken: dict[str, object], field: str) -> None:
    data = {**tweet(snowflake(NOW), "hi", "42"), **broken}
    with pytest.raises(InvalidEvent, match=field):
        tweet_to_comment(data, {})


def test_und_language_is_not_passed_on() -> None:
    assert tweet_to_comment(tweet(snowflake(NOW), "👍", "42", lang="und"), {}).language is None
    assert tweet_to_comment(tweet(snowflake(NOW), "bonjour", "42", lang="fr"), {}).language == "fr"


def test_sweep_pages_down_with_until_id_and_produces_every_comment_once(fake: FakeX) -> None:
    clock, sink = FakeClock(NOW), MemorySink()
    runner = run(clock, sink, polls=12)
    comments = comments_in(sink)
    ids = Counter(c.comment_id for c in comments)
    assert len(comments) == 26 and max(ids.values()) == 1, "25 replies and one outside mention, once each"
    assert CITY_ID not in {c.author_id for c in comments}, "the city's own reply is not a comment"
    texts = {c.text for c in comments}
    assert {f"@{CITY} Plows & salt <finally> #3", f"@{CITY} 谢谢市政府 #2", f"@{CITY} Merci pour l'info 👍 #0"} <= texts
    assert len(sink.topics[POSTS.full_name()]) == 1
    searches = [q for endpoint, q in fake.calls if endpoint == "search"]
    first_page = sorted((t["id"] for t in fake.replies), key=int, reverse=True)[:10]
    assert "until_id" not in searches[0] and searches[1]["until_id"] == first_page[-1], (
        "the second page asks below the first page's oldest id"
    )
    assert searches[1]["since_id"] == overlap_floor(POST_ID)
    assert runner.stats.comments == 26
    # Caught up: the next polls ask only for what is newer, and find nothing.
    before = len(sink.topics[COMMENTS_RAW.full_name()])
    runner.run(max_polls=runner.stats.polls + 4)
    assert len(sink.topics[COMMENTS_RAW.full_name()]) == before
    later = [q for endpoint, q in fake.calls if endpoint == "search"][-1]
    newest = max((t["id"] for t in fake.replies), key=int)
    assert later["since_id"] == overlap_floor(newest), "the overlap is re-read"


def test_new_replies_after_a_sweep_are_picked_up_without_repeats(fake: FakeX) -> None:
    clock, sink = FakeClock(NOW), MemorySink()
    runner = run(clock, sink, polls=12)
    late = snowflake(NOW + 120)
    fake.add_user("900000000000007", "latecomer")
    fake.replies.append(
        tweet(late, "Still icy on Ouellette", "900000000000007", conversation=POST_ID, reply_to=POST_ID)
    )
    runner.run(max_polls=runner.stats.polls + 6)
    ids = Counter(c.comment_id for c in comments_in(sink))
    assert ids[late] == 1 and max(ids.values()) == 1


def test_stopped_mid_sweep_and_restarted_produces_each_comment_once(fake: FakeX) -> None:
    clock, sink = FakeClock(NOW), MemorySink()
    run(clock, sink, polls=3)  # timeline, first and second page of the conversation: mid-sweep
    assert 0 < len(comments_in(sink)) < 26
    run(clock, sink, polls=12)  # a new process: state comes from the committed checkpoints only
    ids = Counter(c.comment_id for c in comments_in(sink))
    assert len(ids) == 26 and max(ids.values()) == 1


def test_429_waits_until_the_reset_time(fake: FakeX) -> None:
    clock, sink = FakeClock(NOW), MemorySink()
    reset = NOW + 900
    fake.fail("search", 429, X_TOO_MANY, x_rate_headers(450, 0, reset))
    before = metrics.RETRIED.labels("x", "rate_limited")._value.get()
    runner = run(clock, sink, polls=14)
    assert any(abs(s - (reset + 1 - NOW)) < 1 for s in clock.sleeps), clock.sleeps
    searches = [e for e, _ in fake.calls if e == "search"]
    assert len(searches) >= 2 and len({c.comment_id for c in comments_in(sink)}) == 26
    assert metrics.RETRIED.labels("x", "rate_limited")._value.get() == before + 1
    assert runner.stats.retries >= 1


def test_exhausted_limit_parks_the_endpoint_without_spending_a_request(fake: FakeX) -> None:
    clock = FakeClock(NOW)
    fake.extra_headers["search"] = x_rate_headers(450, 0, NOW + 600)
    xc = connector(clock, XSettings(accounts=(CITY,), page_size=10))
    xc.start({})
    xc.poll()  # timeline
    xc.poll()  # first search page: remaining 0
    calls = len(fake.calls)
    with pytest.raises(RateLimited) as waited:
        xc.poll()
    assert len(fake.calls) == calls and 600 <= waited.value.after <= 601


def test_server_errors_back_off_exponentially_then_recover(fake: FakeX) -> None:
    clock, sink = FakeClock(NOW), MemorySink()
    for _ in range(3):
        fake.fail("timeline", 503, X_SERVICE_UNAVAILABLE)
    run(clock, sink, polls=16)
    backoffs = clock.sleeps[:3]
    assert backoffs[0] < backoffs[1] < backoffs[2], backoffs
    assert 0.5 <= backoffs[0] <= 1 and 2 <= backoffs[2] <= 4, "equal jitter: step/2 .. step, step 1, 2, 4 s"
    assert len(sink.topics[POSTS.full_name()]) == 1 and len(comments_in(sink)) == 26


def test_polling_budget_defers_requests_past_the_window(fake: FakeX) -> None:
    clock, sink = FakeClock(NOW), MemorySink()
    fake.clock = clock
    run(clock, sink, polls=12, settings=XSettings(accounts=(CITY,), page_size=10, max_requests_per_window=3))
    assert len(fake.times) >= 6
    assert all(later - earlier >= 900 for earlier, later in zip(fake.times, fake.times[3:], strict=False)), (
        "never a 4th request within 15 minutes"
    )
    assert len(comments_in(sink)) == 26, "slower, but complete"


def test_malformed_tweets_are_dead_lettered_and_the_run_goes_on(fake: FakeX) -> None:
    bad = [
        {**tweet(snowflake(NOW - 2990, 1), "x", "42", conversation=POST_ID), "author_id": None},
        {**tweet(snowflake(NOW - 2990, 2), "x", "42", conversation=POST_ID), "created_at": "soon"},
    ]
    fake.replies.extend(bad)
    clock, sink = FakeClock(NOW), MemorySink()
    before = metrics.DEAD_LETTERED.labels("x")._value.get()
    run(clock, sink, polls=12)
    letters = [decode(v, DeadLetter) for _, v in sink.topics[COMMENTS_DEADLETTER.full_name()]]
    assert sorted(d.reason.split(":")[0] for d in letters) == ["author_id", "created_at"]
    assert all(d.stage == "connector.x" and d.payload_size > 0 for d in letters)
    assert len(comments_in(sink)) == 26, "the good tweets around them still came through"
    assert metrics.DEAD_LETTERED.labels("x")._value.get() == before + 2


def test_partial_errors_for_deleted_references_do_not_stop_the_page(fake: FakeX) -> None:
    clock, sink = FakeClock(NOW), MemorySink()
    fake.extra_body["mentions"] = {"errors": [X_DELETED_REFERENCE]}
    fake.extra_body["search"] = {"errors": [X_DELETED_REFERENCE]}
    run(clock, sink, polls=12)
    assert len(comments_in(sink)) == 26


def test_missing_token_names_the_variable() -> None:
    with pytest.raises(CredentialError) as missing:
        make_client(Secrets(env={}))
    assert missing.value.variable == "X_BEARER_TOKEN" and "not set" in missing.value.reason
    with pytest.raises(CredentialError, match="X_ACCESS_TOKEN_SECRET"):
        make_client(Secrets(env={k: v for k, v in TOKENS.items() if k != "X_ACCESS_TOKEN_SECRET"}), user_auth=True)


def test_rejected_token_fails_at_start_naming_it(fake: FakeX) -> None:
    fake.fail("users_by", 401, X_UNAUTHORIZED)
    clock, sink = FakeClock(NOW), MemorySink()
    runner = Runner(connector(clock), sink, MemoryCheckpointStore(sink), clock)
    with pytest.raises(CredentialError) as rejected:
        runner.start()
    assert rejected.value.variable == "X_BEARER_TOKEN" and "401" in rejected.value.reason
    assert TOKENS["X_BEARER_TOKEN"] not in str(rejected.value)


def action(kind: str, comment_id: str, action_id: str = "a1") -> ModerationAction:
    return ModerationAction(
        action_id=action_id, decision_id="d1", platform="x", comment_id=comment_id, post_id=POST_ID, action=kind
    )


def test_hide_and_unhide_reply(fake: FakeX) -> None:
    clock = FakeClock(NOW)
    actions = XActions(XApi(make_client(Secrets(env=TOKENS), user_auth=True), clock), min_interval=18)
    actions.check()
    target = fake.replies[0]["id"]
    assert actions.execute(action("hide", target)) == "hidden" and fake.hidden[target] is True
    assert actions.execute(action("unhide", target)) == "unhidden" and fake.hidden[target] is False


def test_hide_outside_own_conversation_and_delete_are_not_permitted(fake: FakeX) -> None:
    clock = FakeClock(NOW)
    actions = XActions(XApi(make_client(Secrets(env=TOKENS), user_auth=True), clock), min_interval=18)
    fake.fail("hide_reply", 403, X_FORBIDDEN_HIDE)
    with pytest.raises(NotPermitted, match="403 Forbidden"):
        actions.execute(action("hide", fake.mentions[1]["id"]))
    with pytest.raises(NotPermitted, match="hide it instead"):
        actions.execute(action("delete", fake.replies[0]["id"]))


@pytest.mark.integration
def test_restart_against_kafka_produces_every_comment_exactly_once(
    fake: FakeX, kafka_bootstrap: str, kafka_topics: str
) -> None:
    """Stopped mid-sweep, then a broker-side failure aborting a transaction, then a restart."""
    prefix = kafka_topics
    clock = FakeClock(NOW)
    store = KafkaCheckpointStore(kafka_bootstrap, prefix)

    def sink() -> KafkaSink:
        return KafkaSink(kafka_bootstrap, prefix, transactional_id=f"{prefix}civicwatch-x")

    first = sink()
    runner = Runner(connector(clock), first, store, clock)
    runner.start()
    runner.run(max_polls=3)
    first.close()

    second = sink()
    original_send = second.send
    failures = {"left": 1}

    def send_failing_once(topic: object, event: object, key: str | None = None) -> None:
        if getattr(topic, "name", "") == "connector.state" and failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("broker went away mid-transaction")
        original_send(topic, event, key)  # type: ignore[arg-type]

    second.send = send_failing_once  # type: ignore[method-assign]
    runner = Runner(connector(clock), second, store, clock)
    runner.start()
    runner.run(max_polls=14)
    second.close()
    assert failures["left"] == 0, "the failure was injected"
    assert runner.stats.retries == 1, "one rewind for the aborted transaction, and the next commit is clean"

    messages = consume_all(
        kafka_bootstrap, prefix + COMMENTS_RAW.name, 26, timeout=60, isolation_level="read_committed"
    )
    keys = Counter(m.key.decode() for m in messages)
    assert len(keys) == 26 and max(keys.values()) == 1, keys.most_common(3)
    posts = consume_all(kafka_bootstrap, prefix + POSTS.name, 1, timeout=30, isolation_level="read_committed")
    assert [m.key.decode() for m in posts] == [f"x:{POST_ID}"]
    state = store.load("x")
    assert state[f"conversation:{POST_ID}"].cursor == max((t["id"] for t in fake.replies), key=int)


def test_filtered_stream_delivers_first_and_polling_skips_what_it_delivered(fake: FakeX) -> None:
    import time

    import orjson

    from connectors.x import XStream

    streamed = fake.replies[20:23]
    fake.stream_lines = [
        orjson.dumps(
            {
                "data": t,
                "includes": {"users": [fake.users[t["author_id"]]]},
                "matching_rules": [{"id": "1", "tag": "civicwatch"}],
            }
        )
        for t in streamed
    ] + [b"", b'{"data": {"id": "not-a-tweet"}}']
    clock, sink = FakeClock(NOW), MemorySink()
    stream = XStream(TOKENS["X_BEARER_TOKEN"], clock)
    xc = XConnector(XApi(make_client(Secrets(env=TOKENS)), clock), SETTINGS, clock, stream=stream)
    runner = Runner(xc, sink, MemoryCheckpointStore(sink), clock)
    try:
        runner.start()
        assert xc.streaming and [r["value"] for r in fake.rules.values()] == [f"@{CITY} -is:retweet"]
        deadline = time.monotonic() + 30
        while stream.lines.qsize() < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        runner.run(max_polls=12)
    finally:
        fake.stream_done.set()
        stream.close()
    comments = comments_in(sink)
    assert [c.comment_id for c in comments[:3]] == [t["id"] for t in streamed], "the stream came first"
    ids = Counter(c.comment_id for c in comments)
    assert len(ids) == 26 and max(ids.values()) == 1, "polling skipped what the stream delivered"
    assert f"conversation_id:{POST_ID} -is:retweet" in {r["value"] for r in fake.rules.values()}, (
        "rules follow new posts"
    )
    letters = [decode(v, DeadLetter) for _, v in sink.topics[COMMENTS_DEADLETTER.full_name()]]
    assert [d.key for d in letters] == ["x:stream"]
    assert clock.sleeps and all(s > 800 for s in clock.sleeps), "with a stream, polling only reconciles"


def test_without_stream_access_polling_carries_on(fake: FakeX) -> None:
    from connectors.x import XStream

    fake.stream_refused = True
    clock, sink = FakeClock(NOW), MemorySink()
    stream = XStream(TOKENS["X_BEARER_TOKEN"], clock)
    xc = XConnector(XApi(make_client(Secrets(env=TOKENS)), clock), SETTINGS, clock, stream=stream)
    runner = Runner(xc, sink, MemoryCheckpointStore(sink), clock)
    runner.start()
    assert not xc.streaming and fake.stream_connections == 0
    runner.run(max_polls=12)
    assert len({c.comment_id for c in comments_in(sink)}) == 26


def test_a_refused_scope_does_not_hold_up_the_others(fake: FakeX) -> None:
    fake.fail("search", 403, {"title": "Forbidden", "type": "about:blank", "status": 403, "detail": "Forbidden"})
    clock, sink = FakeClock(NOW), MemorySink()
    run(clock, sink, polls=4)  # timeline, refused search, mentions
    assert [c.comment_id for c in comments_in(sink)] == [fake.mentions[1]["id"]]
    run(clock, sink, polls=12)  # the conversation is asked again after the interval
    assert len({c.comment_id for c in comments_in(sink)}) == 26


LONG_TEXT = (
    "The plow came down our street at 6 a.m. and pushed a wall of snow across every driveway on the "
    "block, including the two where seniors live who cannot shovel. We called 311 twice last winter "
    "about the same thing. Could the city ask crews to leave driveway openings on streets where "
    "residents have asked, the way the pilot program on the east side did? Thank you for listening."
)


def test_long_post_is_read_whole_from_note_tweet(fake: FakeX) -> None:
    """Before: ``tweet.fields`` lacked ``note_tweet``, so the comment stopped at 280 characters."""
    assert len(LONG_TEXT) > 280
    tid = snowflake(NOW - 2000, 5)
    fake.replies.append(long_tweet(tid, LONG_TEXT, "900000000000001", conversation=POST_ID, reply_to=POST_ID))
    clock, sink = FakeClock(NOW), MemorySink()
    run(clock, sink, polls=12)
    [comment] = [c for c in comments_in(sink) if c.comment_id == tid]
    assert comment.text == LONG_TEXT
    assert all(c.text and not c.text.endswith("…") for c in comments_in(sink))


def test_reply_visible_late_below_since_id_is_still_produced_once(fake: FakeX) -> None:
    """Before: the next sweep asked ``since_id`` = the newest id seen, so a reply with a lower id that X
    returned a minute later was never asked for again."""
    clock, sink = FakeClock(NOW), MemorySink()
    fake.clock = clock
    runner = run(clock, sink, polls=12)
    fake.add_user("900000000000007", "latecomer")
    slow, quick = snowflake(NOW + 30), snowflake(NOW + 60)
    fake.replies.append(
        tweet(slow, "Bus 3 skipped our stop", "900000000000007", conversation=POST_ID, reply_to=POST_ID)
    )
    fake.replies.append(tweet(quick, "Sidewalks still icy", "900000000000007", conversation=POST_ID, reply_to=POST_ID))
    fake.visible_at[slow] = NOW + 200  # indexed after ``quick`` was read
    runner.run(max_polls=runner.stats.polls + 16)
    ids = Counter(c.comment_id for c in comments_in(sink))
    assert ids[slow] == 1 and ids[quick] == 1 and max(ids.values()) == 1


def test_reposts_of_mentions_are_not_comments(fake: FakeX) -> None:
    """Before: the mentions timeline's reposts (``RT @...``) were produced as residents' comments."""
    fake.add_user("900000000000008", "reposter")
    original = fake.mentions[1]
    fake.mentions.append(retweet(snowflake(NOW - 1700), original, "900000000000008", "someone"))
    clock, sink = FakeClock(NOW), MemorySink()
    run(clock, sink, polls=12)
    comments = comments_in(sink)
    assert len(comments) == 26 and not any(c.text.startswith("RT @") for c in comments)
    assert "900000000000008" not in {c.author_id for c in comments}


def test_a_dead_stream_thread_brings_polling_back_to_the_poll_interval(fake: FakeX) -> None:
    """Before: ``alive`` looked only at our refusal flag, so a stream thread that ended kept polling at
    the 15-minute reconcile interval."""
    import threading

    from connectors.x import XStream

    clock = FakeClock(NOW)
    stream = XStream(TOKENS["X_BEARER_TOKEN"], clock)
    ended = threading.Thread(target=lambda: None)
    ended.start()
    ended.join()
    stream.thread = ended
    xc = connector(clock)
    xc.stream, xc.streaming = stream, True
    xc.start({})
    assert not stream.alive
    xc.poll()
    assert not xc.streaming
    assert all(s.due <= NOW + SETTINGS.poll_interval for s in xc.scopes.values())


def test_deletions_on_x_come_back_from_a_compliance_job_as_deleted_comments(fake: FakeX) -> None:
    """Before: nothing asked X which stored posts were deleted, so a deleted reply stayed under review."""
    clock, sink = FakeClock(NOW), MemorySink()
    settings = SETTINGS.model_copy(update={"compliance_interval": 3600.0})
    runner = run(clock, sink, polls=12, settings=settings)
    assert len(comments_in(sink)) == 26
    gone = fake.replies[4]["id"]
    fake.deleted.add(gone)
    clock.now += 3600
    runner.run(max_polls=runner.stats.polls + 12)
    deleted = [c for c in comments_in(sink) if c.deleted]
    assert [(c.comment_id, c.post_id, c.text) for c in deleted] == [(gone, POST_ID, "")]
    [uploaded] = fake.uploads.values()
    assert len(uploaded) == 26 and gone in uploaded, "every produced id was checked"
    assert [e for e, _ in fake.calls if e.startswith("compliance")][:1] == ["compliance_create"]


def test_reads_are_metered_per_resource_and_stop_at_the_daily_budget(fake: FakeX) -> None:
    """Before: only requests were counted, though pay-per-use bills each post and user returned."""
    from schemas import Checkpoint
    from schemas.topics import CONNECTOR_STATE

    clock, sink = FakeClock(NOW), MemorySink()
    settings = SETTINGS.model_copy(update={"daily_budget_usd": 0.2})
    run(clock, sink, polls=30, settings=settings)
    states = [decode(v, Checkpoint) for _, v in sink.topics[CONNECTOR_STATE.full_name()]]
    today = [cp.details for cp in states if cp.scope == "spend" and cp.details["day"] == NOW // 86400]
    spend = today[-1]
    # users_by (1 user), timeline (1 post, 1 user), search pages of 10, 10 and 6 posts with 4, 3 and 3 users:
    # 0.195 USD after the second page, 0.255 after the third, and no fourth read that day.
    assert (spend["posts"], spend["users"]) == (27, 12)
    assert spend["usd"] == pytest.approx(27 * 0.005 + 12 * 0.010)
    tomorrow = (NOW // 86400 + 1) * 86400
    waits = [s for s in clock.sleeps if s > 3600]
    assert waits and clock.now >= tomorrow, "past the budget, reads waited for the next UTC day"
    assert any(cp.scope == "spend" and cp.details["day"] == tomorrow // 86400 for cp in states), "a new day's spend"
    assert metrics.SPEND.labels("x")._value.get() > 0 and metrics.BUDGET.labels("x")._value.get() == 0.2


def test_a_refused_scope_is_counted(fake: FakeX) -> None:
    fake.fail("search", 403, {"title": "Forbidden", "type": "about:blank", "status": 403, "detail": "Forbidden"})
    before = metrics.REFUSED.labels("x", "NotPermitted")._value.get()
    run(FakeClock(NOW), MemorySink(), polls=4)
    assert metrics.REFUSED.labels("x", "NotPermitted")._value.get() == before + 1


def test_the_overlap_re_reads_are_not_billed_twice_in_a_day(fake: FakeX) -> None:
    """X bills a post once per UTC day (https://docs.x.com/x-api/fundamentals/post-cap, deduplication)."""
    from schemas import Checkpoint
    from schemas.topics import CONNECTOR_STATE

    clock, sink = FakeClock(NOW), MemorySink()
    runner = run(clock, sink, polls=12)
    fake.replies.append(tweet(snowflake(NOW + 60), "Thanks", "900000000000001", conversation=POST_ID, reply_to=POST_ID))
    clock.now += 60
    runner.run(max_polls=runner.stats.polls + 8)
    states = [decode(v, Checkpoint) for _, v in sink.topics[CONNECTOR_STATE.full_name()]]
    spend = [cp.details for cp in states if cp.scope == "spend"][-1]
    assert spend["posts"] == 1 + 26 + 1 + 1, "the post, 26 replies, the outside mention and the new reply, once each"
