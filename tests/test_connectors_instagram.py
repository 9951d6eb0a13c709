"""The Instagram connector, its webhook and its actions, on recorded Graph shapes, and against the real broker."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator

import orjson
import pytest
import requests
import responses

from connectors.core import Backoff, CredentialError, FakeClock
from connectors.facebook import GraphClient, WebhookReceiver, make_graph
from connectors.instagram import TOKEN_VARIABLE, InstagramActions, InstagramConnector, comments_delivery
from connectors.runner import KafkaCheckpointStore, MemoryCheckpointStore, Runner
from runtime.settings import InstagramSettings
from runtime.sink import KafkaSink, MemorySink
from schemas import Comment, DeadLetter, ModerationAction, Post, decode
from schemas.topics import COMMENTS_DEADLETTER, COMMENTS_RAW, POSTS
from tests.conftest import consume_all
from tests.fake_platforms import FakeInstagram
from tests.platform_payloads import (
    APP_SECRET,
    IG_USER_ID,
    NOW,
    PAGE_TOKEN,
    VERIFY_TOKEN,
    dumps,
    graph_error,
    ig_comment,
    ig_comment_change,
    ig_delivery,
    ig_media,
    sign,
)

SETTINGS = InstagramSettings(ig_user_id=IG_USER_ID, page_size=10, poll_interval=300.0)
MEDIA = "17895695668004550"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def fake(rsps: responses.RequestsMock) -> FakeInstagram:
    """One post from an hour ago with 14 comments (replies on two), one from last month."""
    ig = FakeInstagram(rsps)
    ig.media.append(ig_media(MEDIA, "Splash pads open Saturday ☀️", NOW - 3600))
    ig.media.append(ig_media("17895695668000001", "Winter parking ban", NOW - 40 * 86400))
    texts = ["Finally! 🙌", "¿Y el de Riverside?", "Open till when?", "Merci la ville"]
    for i in range(12):
        ig.comments[MEDIA].append(ig_comment(f"1787344045914{i:04d}", f"{texts[i % 4]} {i}", NOW - 3000 + i * 30))
    ig.replies["17873440459140000"].append(ig_comment("17873440459149001", "Same question", NOW - 2000))
    staff = ig_comment("17873440459149002", "From 10 to 8!", NOW - 1900, user_id=IG_USER_ID, username="cityoftestville")
    ig.replies["17873440459140002"].append(staff)
    ig.replies["17873440459140002"].append(ig_comment("17873440459149003", "Thanks", NOW - 1800))
    return ig


def client(clock: FakeClock) -> GraphClient:
    graph, session = make_graph(PAGE_TOKEN, "25.0")
    return GraphClient(graph, session, clock, token_variable=TOKEN_VARIABLE)


def runner(clock: FakeClock, sink: MemorySink, store: object | None = None) -> Runner:
    connector = InstagramConnector(client(clock), SETTINGS, clock)
    r = Runner(connector, sink, store or MemoryCheckpointStore(sink), clock, backoff=Backoff(rng=random.Random(3)))
    r.start()
    return r


def comments_in(sink: MemorySink) -> list[Comment]:
    return [decode(v, Comment) for _, v in sink.topics[COMMENTS_RAW.full_name()]]


def test_media_comments_and_replies_once_each_without_the_citys_own(fake: FakeInstagram) -> None:
    clock, sink = FakeClock(NOW), MemorySink()
    r = runner(clock, sink)
    r.run(max_polls=6)
    comments = comments_in(sink)
    ids = Counter(c.comment_id for c in comments)
    assert len(ids) == 14 and max(ids.values()) == 1, "12 comments and 2 residents' replies"
    assert IG_USER_ID not in {c.author_id for c in comments}, "the city's own reply is not a comment"
    reply = next(c for c in comments if c.comment_id == "17873440459149001")
    assert (reply.parent_id, reply.post_id, reply.platform) == ("17873440459140000", MEDIA, "instagram")
    assert "¿Y el de Riverside? 1" in {c.text for c in comments}
    posts = [decode(v, Post) for _, v in sink.topics[POSTS.full_name()]]
    assert [(p.post_id, p.account) for p in posts] == [(MEDIA, "cityoftestville")], "not last month's"
    pages = [q for e, _, q in fake.calls if e == "comments"]
    assert "replies{" in pages[0]["fields"] and pages[1]["after"], "replies nested, pages by after cursors"
    # Caught up: the next read finds nothing new and produces nothing.
    clock.now += SETTINGS.poll_interval
    r.run(max_polls=r.stats.polls + 4)
    assert len(comments_in(sink)) == 14


def test_new_edited_and_deleted_comments_on_the_next_read(fake: FakeInstagram) -> None:
    clock, sink = FakeClock(NOW), MemorySink()
    r = runner(clock, sink)
    r.run(max_polls=6)
    fake.comments[MEDIA].append(ig_comment("17873440459148000", "New one", NOW + 30))
    fake.deleted.add("17873440459140005")
    fake.deleted.add("17873440459149003")  # a reply
    clock.now += SETTINGS.poll_interval
    r.run(max_polls=r.stats.polls + 6)
    later = comments_in(sink)[14:]
    assert [c.comment_id for c in later if not c.deleted] == ["17873440459148000"]
    assert sorted(c.comment_id for c in later if c.deleted) == ["17873440459140005", "17873440459149003"]
    assert all(c.text == "" for c in later if c.deleted)


def test_stopped_mid_read_and_restarted_repeats_nothing(fake: FakeInstagram) -> None:
    clock, sink = FakeClock(NOW), MemorySink()
    runner(clock, sink).run(max_polls=2)  # media, first page of comments
    assert 0 < len(comments_in(sink)) < 14
    runner(clock, sink).run(max_polls=6)
    ids = Counter(c.comment_id for c in comments_in(sink))
    assert len(ids) == 14 and max(ids.values()) == 1 and not any(c.deleted for c in comments_in(sink))


def test_malformed_comment_is_dead_lettered_and_a_rejected_token_names_its_variable(fake: FakeInstagram) -> None:
    fake.comments[MEDIA].insert(3, {**ig_comment("17873440459147777", "x", NOW - 2900), "timestamp": "soon"})
    clock, sink = FakeClock(NOW), MemorySink()
    runner(clock, sink).run(max_polls=6)
    letters = [decode(v, DeadLetter) for _, v in sink.topics[COMMENTS_DEADLETTER.full_name()]]
    assert [(d.stage, d.reason) for d in letters] == [("connector.instagram", "timestamp: missing or not a Graph time")]
    assert len(comments_in(sink)) == 14
    rejected = client(clock)._translate(graph_error(190, "Invalid OAuth access token."))
    assert isinstance(rejected, CredentialError) and rejected.variable == TOKEN_VARIABLE


def test_comments_webhook_is_mapped_signed_and_acknowledged() -> None:
    sink = MemorySink()
    receiver = WebhookReceiver(
        sink, IG_USER_ID, APP_SECRET, VERIFY_TOKEN, deliveries=comments_delivery, name="instagram-webhook"
    )
    server = receiver.server("127.0.0.1", 0)
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        host, port = server.server_address[:2]
        url = f"http://{host!s}:{port}/webhook"
        body = dumps(
            ig_delivery(
                [
                    ig_comment_change("17873440459146001", MEDIA, "Love this park 🌳"),
                    ig_comment_change("17873440459146002", MEDIA, "Me too", parent="17873440459146001"),
                    {"field": "comments", "value": {"id": "17873440459146003", "text": "no media"}},
                    {"field": "mentions", "value": {"media_id": MEDIA}},
                ]
            )
        )
        assert requests.post(url, data=body, headers={"X-Hub-Signature-256": sign(body, "wrong")}).status_code == 403
        assert requests.post(url, data=body, headers={"X-Hub-Signature-256": sign(body)}).status_code == 200
    finally:
        server.shutdown()
        server.server_close()
    comments = comments_in(sink)
    assert [(c.comment_id, c.parent_id, c.post_id) for c in comments] == [
        ("17873440459146001", None, MEDIA),
        ("17873440459146002", "17873440459146001", MEDIA),
    ]
    letters = [decode(v, DeadLetter) for _, v in sink.topics[COMMENTS_DEADLETTER.full_name()]]
    assert [d.reason for d in letters] == ["media.id: missing or not a string"]


def test_hide_unhide_and_delete(fake: FakeInstagram) -> None:
    clock = FakeClock(NOW)
    actions = InstagramActions(client(clock), IG_USER_ID, 0.0)
    actions.check()

    def act(kind: str) -> str:
        action = ModerationAction(
            action_id=f"a-{kind}",
            decision_id="d1",
            platform="instagram",
            comment_id="17873440459140003",
            post_id=MEDIA,
            action=kind,  # type: ignore[arg-type]
        )
        return actions.execute(action)

    assert act("hide") == "hidden" and fake.hidden["17873440459140003"] is True
    assert act("unhide") == "unhidden" and fake.hidden["17873440459140003"] is False
    assert act("delete") == "deleted" and "17873440459140003" in fake.deleted
    assert next(c for c in fake.calls if c[0] == "hide")[2]["hide"] == "true", "POST /{comment-id}?hide=true"


@pytest.mark.integration
def test_restart_and_webhook_against_kafka(fake: FakeInstagram, kafka_bootstrap: str, kafka_topics: str) -> None:
    prefix = kafka_topics
    clock = FakeClock(NOW)
    store = KafkaCheckpointStore(kafka_bootstrap, prefix)
    for polls in (2, 6):  # stopped mid-read, then a new process
        sink = KafkaSink(kafka_bootstrap, prefix, transactional_id=f"{prefix}civicwatch-instagram")
        r = Runner(InstagramConnector(client(clock), SETTINGS, clock), sink, store, clock)
        r.start()
        r.run(max_polls=polls)
        sink.close()
    hook_sink = KafkaSink(kafka_bootstrap, prefix, transactional_id=f"{prefix}civicwatch-instagram-webhook")
    receiver = WebhookReceiver(
        hook_sink, IG_USER_ID, APP_SECRET, VERIFY_TOKEN, deliveries=comments_delivery, name="instagram-webhook"
    )
    body = dumps(ig_delivery([ig_comment_change("17873440459146009", MEDIA, "via webhook")]))
    assert receiver.handle(body) == 200
    hook_sink.close()
    messages = consume_all(
        kafka_bootstrap, prefix + COMMENTS_RAW.name, 15, timeout=60, isolation_level="read_committed"
    )
    keys = Counter(m.key.decode() for m in messages)
    assert len(keys) == 15 and max(keys.values()) == 1
    assert "instagram:17873440459146009" in keys


@pytest.mark.integration
def test_instagram_webhook_command_runs_as_a_process(kafka_bootstrap: str, kafka_topics: str) -> None:
    """``civicwatch connect instagram-webhook`` as operators run it: signed delivery in, comment in Kafka."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "CIVICWATCH_TOPIC_PREFIX": kafka_topics,
        "CIVICWATCH_INSTAGRAM_IG_USER_ID": IG_USER_ID,
        "FACEBOOK_APP_SECRET": APP_SECRET,
        "FACEBOOK_VERIFY_TOKEN": VERIFY_TOKEN,
        "CIVICWATCH_LOG_FORMAT": "json",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "connectors", "instagram-webhook", "--port", "0"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        address = ""
        for line in proc.stderr:
            if line.startswith("listening on "):
                address = line.removeprefix("listening on ").strip()
                break
        assert address, "the receiver did not start"
        url = f"http://{address}/webhook"
        challenge = requests.get(
            url, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
        )
        assert challenge.text == "1158201444"
        body = dumps(ig_delivery([ig_comment_change("17873440459146990", MEDIA, "Par le processus 🚀")]))
        assert requests.post(url, data=body, headers={"X-Hub-Signature-256": sign(body)}).status_code == 200
        messages = consume_all(
            kafka_bootstrap, kafka_topics + COMMENTS_RAW.name, 1, timeout=30, isolation_level="read_committed"
        )
        mine = [decode(m.value, Comment) for m in messages if m.key == b"instagram:17873440459146990"]
        assert [(c.text, c.platform) for c in mine] == [("Par le processus 🚀", "instagram")]
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
    logs = proc.stderr.read() if proc.stderr else ""
    assert VERIFY_TOKEN not in logs and APP_SECRET not in logs


def test_a_stale_instagram_delivery_is_dropped_as_a_replay() -> None:
    """The receiver's replay window holds for Instagram as for Facebook: an entry sent before it is not mapped."""
    body = dumps(ig_delivery([ig_comment_change("17873440459146011", MEDIA, "an old edit")]))
    sent = orjson.loads(body)["entry"][0]["time"]
    assert [c.comment_id for c in comments_delivery(body, IG_USER_ID, sent - 60, sent + 60).comments] == [
        "17873440459146011"
    ]
    assert comments_delivery(body, IG_USER_ID, sent + 1, sent + 120).comments == []


@pytest.mark.parametrize("platform", ["facebook", "instagram"])
def test_each_webhook_receiver_takes_its_limits_from_its_own_settings(
    platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The socket time-out, thread cap and replay window bound what anyone on the internet can make the
    receiver hold; the Instagram receiver had Facebook's defaults and no variable to change them."""
    from connectors.main import webhook_receiver
    from runtime.settings import FacebookSettings

    prefix = f"CIVICWATCH_{platform.upper()}_"
    monkeypatch.setenv(f"{prefix}WEBHOOK_TIMEOUT", "4")
    monkeypatch.setenv(f"{prefix}WEBHOOK_MAX_THREADS", "3")
    monkeypatch.setenv(f"{prefix}WEBHOOK_MAX_AGE", "60")
    monkeypatch.setenv("CIVICWATCH_FACEBOOK_PAGE_ID", "9001")
    monkeypatch.setenv("CIVICWATCH_INSTAGRAM_IG_USER_ID", IG_USER_ID)
    settings = InstagramSettings.from_env() if platform == "instagram" else FacebookSettings.from_env()
    receiver = webhook_receiver(settings, MemorySink(), APP_SECRET, VERIFY_TOKEN)
    assert (receiver.timeout, receiver.max_threads, receiver.max_age) == (4.0, 3, 60.0)
    assert receiver.name == f"{platform}-webhook"
    assert receiver.page_id == (IG_USER_ID if platform == "instagram" else "9001")
    if platform == "instagram":
        assert receiver.mapper is comments_delivery
