"""The Facebook connector, its facebook-sdk workarounds and the webhook receiver, on recorded Graph shapes."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import facebook
import pytest
import requests
import responses

from connectors.core import ConnectorError, CredentialError, FakeClock, NotPermitted, RateLimited, TransientError
from connectors.facebook import FacebookActions, FacebookConnector, GraphClient, WebhookReceiver, make_graph
from connectors.facebook.graph import next_request, usage_percent
from connectors.facebook.mapping import feed_change, graph_comment
from connectors.facebook.webhook import signature_valid
from connectors.runner import KafkaCheckpointStore, MemoryCheckpointStore, Runner
from runtime.settings import FacebookSettings
from runtime.sink import KafkaSink, MemorySink
from schemas import Comment, DeadLetter, ModerationAction, Post, decode
from schemas.codec import InvalidEvent
from schemas.topics import COMMENTS_DEADLETTER, COMMENTS_RAW, POSTS
from tests.conftest import consume_all
from tests.fake_platforms import FakeGraph, graph_cursor
from tests.platform_payloads import (
    APP_SECRET,
    GRAPH,
    NOW,
    PAGE_ID,
    PAGE_TOKEN,
    VERIFY_TOKEN,
    dumps,
    fb_attachment_comment,
    fb_comment,
    fb_post,
    feed_comment,
    feed_delivery,
    graph_error,
    sign,
)

SETTINGS = FacebookSettings(page_id=PAGE_ID, api_version="25.0", page_size=10, poll_interval=120.0)
POST_NO = 9001


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def fake(rsps: responses.RequestsMock) -> FakeGraph:
    """One post an hour old with 23 comments and replies (emoji, Greek, Hindi, Korean), one old post."""
    graph = FakeGraph(rsps)
    graph.posts.append(fb_post(POST_NO, "Council meeting moved to Thursday 🗓️", NOW - 3600))
    graph.posts.append(fb_post(8000, "Summer pool hours", NOW - 30 * 86400))
    texts = ["Ευχαριστώ!", "धन्यवाद 🙏", "감사합니다", "Why Thursday? 🤔"]
    post_id = f"{PAGE_ID}_{POST_NO}"
    for i in range(23):
        parent = f"{POST_NO}_{100 + i - 1}" if i % 5 == 4 else None
        # Pairs share a second, so page and checkpoint boundaries fall inside one created_time.
        graph.comments[post_id].append(
            fb_comment(POST_NO, 100 + i, f"{texts[i % 4]} {i}", NOW - 3000 + (i // 2), parent=parent)
        )
    return graph


def client(clock: FakeClock, version: str = "25.0") -> GraphClient:
    graph, session = make_graph(PAGE_TOKEN, version)
    return GraphClient(graph, session, clock, throttle_wait=600.0, usage_ceiling=90.0)


def runner(clock: FakeClock, sink: MemorySink) -> Runner:
    r = Runner(FacebookConnector(client(clock), SETTINGS, clock), sink, MemoryCheckpointStore(sink), clock)
    r.start()
    return r


def comments_in(sink: MemorySink) -> list[Comment]:
    return [decode(v, Comment) for _, v in sink.topics[COMMENTS_RAW.full_name()]]


# -- facebook-sdk workarounds, each pinned: when one of these fails, the SDK changed and the wrapper can shrink.


def test_sdk_constructor_still_rejects_current_versions() -> None:
    with pytest.raises(facebook.GraphAPIError):
        facebook.GraphAPI(access_token=PAGE_TOKEN, version="25.0")


def test_version_is_set_after_construction_and_used(fake: FakeGraph) -> None:
    c = client(FakeClock(NOW), "25.0")
    assert c.version == "v25.0"
    c.request(f"{c.version}/{PAGE_ID}", {"fields": "id"})
    assert fake.calls[-1][1] == f"/v25.0/{PAGE_ID}"


def test_sdk_paging_helper_still_fails_on_next_urls_without_token(fake: FakeGraph) -> None:
    graph, _ = make_graph(PAGE_TOKEN, "25.0")
    with pytest.raises(KeyError):
        list(graph.get_all_connections(f"{PAGE_ID}_{POST_NO}", "comments", limit=10, filter="stream"))


def test_next_request_follows_the_url_with_or_without_a_token() -> None:
    path, args = next_request(f"{GRAPH}/v25.0/1_2/comments?limit=10&after=QVFI&access_token=secret")
    assert path == "v25.0/1_2/comments" and args == {"limit": "10", "after": "QVFI"}
    assert next_request(f"{GRAPH}/v25.0/1_2/comments?after=QVFI")[1] == {"after": "QVFI"}


def test_sdk_errors_are_translated_with_status_and_headers(fake: FakeGraph) -> None:
    c = client(FakeClock(NOW))
    fake.fail("page", 502, b"<html><body>Bad Gateway</body></html>")
    with pytest.raises(TransientError, match="502"):
        c.request(f"{c.version}/{PAGE_ID}")
    fake.fail("page", 400, graph_error(190, "Error validating access token: Session has expired", subcode=463))
    with pytest.raises(CredentialError) as rejected:
        c.request(f"{c.version}/{PAGE_ID}")
    assert rejected.value.variable == "FACEBOOK_PAGE_ACCESS_TOKEN" and PAGE_TOKEN not in str(rejected.value)
    fake.fail(
        "page",
        500,
        graph_error(2, "An unexpected error has occurred. Please retry your request later.", transient=True),
    )
    with pytest.raises(TransientError):
        c.request(f"{c.version}/{PAGE_ID}")
    fake.fail("page", 403, graph_error(200, "Permissions error"))
    with pytest.raises(NotPermitted):
        c.request(f"{c.version}/{PAGE_ID}")


@pytest.mark.parametrize("code", [4, 17, 32, 613])
def test_throttling_codes_wait_for_the_regain_time(fake: FakeGraph, code: int) -> None:
    clock = FakeClock(NOW)
    c = client(clock)
    buc = dumps(
        {
            PAGE_ID: [
                {
                    "type": "pages",
                    "call_count": 100,
                    "total_cputime": 12,
                    "total_time": 20,
                    "estimated_time_to_regain_access": 7,
                }
            ]
        }
    )
    fake.fail(
        "page",
        400,
        graph_error(code, f"(#{code}) Request limit reached"),
        {"X-Business-Use-Case-Usage": buc.decode()},
    )
    with pytest.raises(RateLimited) as limited:
        c.request(f"{c.version}/{PAGE_ID}")
    assert limited.value.after == 7 * 60
    calls = len(fake.calls)
    with pytest.raises(RateLimited):  # still throttled: no request is spent on a certain refusal
        c.request(f"{c.version}/{PAGE_ID}")
    assert len(fake.calls) == calls


def test_usage_headers_near_the_ceiling_slow_down_before_a_throttle(
    fake: FakeGraph, rsps: responses.RequestsMock
) -> None:
    assert usage_percent({"x-app-usage": '{"call_count":95,"total_time":20,"total_cputime":10}'}) == 95
    assert usage_percent({}) == 0
    clock = FakeClock(NOW)
    c = client(clock)
    rsps.replace(
        responses.GET,
        rsps.registered()[2].url,
        json={"id": PAGE_ID},
        headers={"X-App-Usage": '{"call_count":96,"total_time":40,"total_cputime":30}'},
    )
    c.request(f"{c.version}/{PAGE_ID}")
    with pytest.raises(RateLimited, match="usage_ceiling"):
        c.request(f"{c.version}/{PAGE_ID}")


# -- mapping


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            feed_comment("add", 9001, 501, "Ça glisse sur Wyandotte 🧊"),
            ("9001_501", "Ça glisse sur Wyandotte 🧊", False, False),
        ),
        (
            feed_comment("edited", 9001, 501, "Ça glisse encore 🧊🧊"),
            ("9001_501", "Ça glisse encore 🧊🧊", True, False),
        ),
        (feed_comment("remove", 9001, 501, None), ("9001_501", "", False, True)),
        (feed_comment("add", 9001, 502, "返信です", parent="9001_501"), ("9001_502", "返信です", False, False)),
    ],
)
def test_feed_changes_map_to_comments(change: dict[str, object], expected: tuple[str, str, bool, bool]) -> None:
    comment = feed_change(change["value"], PAGE_ID)
    assert isinstance(comment, Comment)
    assert (comment.comment_id, comment.text, comment.edited, comment.deleted) == expected
    assert comment.post_id == f"{PAGE_ID}_9001" and comment.author_id == "7001"
    assert comment.parent_id == ("9001_501" if expected[0] == "9001_502" else None)


def test_feed_changes_without_comments_are_ignored_and_page_posts_become_posts() -> None:
    reaction = {"item": "reaction", "verb": "add", "post_id": f"{PAGE_ID}_1", "reaction_type": "like"}
    assert feed_change(reaction, PAGE_ID) is None
    like = {**feed_comment("add", 1, 2, "x")["value"], "item": "like"}
    assert feed_change(like, PAGE_ID) is None
    status = {
        "item": "status",
        "verb": "add",
        "post_id": f"{PAGE_ID}_7",
        "message": "Road closure",
        "from": {"id": PAGE_ID},
        "created_time": int(NOW),
    }
    assert isinstance(feed_change(status, PAGE_ID), Post)
    visitor = {**status, "from": {"id": "7001"}}
    assert feed_change(visitor, PAGE_ID) is None


@pytest.mark.parametrize(
    ("broken", "field"),
    [
        ({"id": None}, "id"),
        ({"created_time": "last tuesday"}, "created_time"),
        ({"message": ["x"]}, "message"),
        ({"from": "7001"}, "from"),
    ],
)
def test_unmappable_graph_comment_names_the_field(broken: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidEvent, match=field):
        graph_comment({**fb_comment(1, 2, "hi", NOW), **broken}, f"{PAGE_ID}_1")


def test_comment_without_from_is_kept_with_an_unknown_author() -> None:
    obj = fb_comment(1, 2, "hi", NOW)
    del obj["from"]
    assert graph_comment(obj, f"{PAGE_ID}_1").author_id == "unknown"


# -- polling


def test_polls_posts_then_pages_comments_in_order_once_each(fake: FakeGraph) -> None:
    clock, sink = FakeClock(NOW), MemorySink()
    r = runner(clock, sink)
    r.run(max_polls=8)
    comments = comments_in(sink)
    ids = Counter(c.comment_id for c in comments)
    assert len(ids) == 23 and max(ids.values()) == 1
    assert [c.comment_id for c in comments] == [f"{POST_NO}_{100 + i}" for i in range(23)], "chronological"
    assert {c.text for c in comments} >= {"Ευχαριστώ! 0", "धन्यवाद 🙏 1", "감사합니다 2"}
    assert comments[4].parent_id == f"{POST_NO}_103"
    posts = [decode(v, Post) for _, v in sink.topics[POSTS.full_name()]]
    assert [p.post_id for p in posts] == [f"{PAGE_ID}_{POST_NO}"], "once, and not the post older than the lookback"
    assert all(f"/{PAGE_ID}_8000/" not in path for _, path, _ in fake.calls), (
        "posts older than the lookback are not polled"
    )
    pages = [q for e, _, q in fake.calls if e == "comments"]
    assert pages[0]["filter"] == "stream" and pages[0]["order"] == "chronological" and "after" not in pages[0]
    assert pages[1]["after"] == graph_cursor(f"{POST_NO}_109"), "the second page starts after the first's last"
    assert not any("since" in q for q in pages), "since is no parameter of the comments edge"


def test_new_comments_later_and_the_inclusive_since_bring_no_repeat(fake: FakeGraph) -> None:
    clock, sink = FakeClock(NOW), MemorySink()
    r = runner(clock, sink)
    r.run(max_polls=8)
    post_id = f"{PAGE_ID}_{POST_NO}"
    last = fake.comments[post_id][-1]["created_time"]
    same_second = fb_comment(POST_NO, 900, "Same second as the last one", NOW - 3000 + 11)
    assert same_second["created_time"] == last
    fake.comments[post_id].append(same_second)
    fake.comments[post_id].append(fb_comment(POST_NO, 901, "Later", NOW + 60))
    r.run(max_polls=r.stats.polls + 8)
    ids = Counter(c.comment_id for c in comments_in(sink))
    assert ids[f"{POST_NO}_900"] == 1 and ids[f"{POST_NO}_901"] == 1 and max(ids.values()) == 1


def test_stopped_mid_paging_and_restarted_produces_each_comment_once(fake: FakeGraph) -> None:
    clock, sink = FakeClock(NOW), MemorySink()
    runner(clock, sink).run(max_polls=2)  # posts, first page of comments
    assert 0 < len(comments_in(sink)) < 23
    runner(clock, sink).run(max_polls=8)
    ids = Counter(c.comment_id for c in comments_in(sink))
    assert len(ids) == 23 and max(ids.values()) == 1


def test_throttled_poll_waits_then_resumes(fake: FakeGraph) -> None:
    clock, sink = FakeClock(NOW), MemorySink()
    fake.fail("comments", 403, graph_error(32, "(#32) Page request limit reached"))
    runner(clock, sink).run(max_polls=10)
    assert 600.0 in clock.sleeps, "no regain estimate: the configured throttle wait"
    assert len({c.comment_id for c in comments_in(sink)}) == 23


def test_malformed_comment_is_dead_lettered_and_the_run_goes_on(fake: FakeGraph) -> None:
    post_id = f"{PAGE_ID}_{POST_NO}"
    fake.comments[post_id].insert(5, {**fb_comment(POST_NO, 555, "x", NOW - 2999), "from": {"name": "no id"}})
    clock, sink = FakeClock(NOW), MemorySink()
    runner(clock, sink).run(max_polls=8)
    letters = [decode(v, DeadLetter) for _, v in sink.topics[COMMENTS_DEADLETTER.full_name()]]
    assert [d.reason for d in letters] == ["from: not an object with an id"]
    assert letters[0].stage == "connector.facebook" and letters[0].key == f"facebook:comments:{post_id}"
    assert len(comments_in(sink)) == 23


def test_missing_page_id_and_rejected_token_fail_at_start(fake: FakeGraph) -> None:
    clock, sink = FakeClock(NOW), MemorySink()
    with pytest.raises(Exception, match="CIVICWATCH_FACEBOOK_PAGE_ID"):
        FacebookConnector(client(clock), FacebookSettings(), clock).start({})
    fake.fail("page", 400, graph_error(190, "Invalid OAuth access token."))
    with pytest.raises(CredentialError, match="FACEBOOK_PAGE_ACCESS_TOKEN"):
        runner(clock, sink)


# -- actions


def action(kind: str, comment: str) -> ModerationAction:
    return ModerationAction(
        action_id=f"a-{kind}", decision_id="d1", platform="facebook", comment_id=comment, post_id="p", action=kind
    )


def test_hide_unhide_delete(fake: FakeGraph) -> None:
    actions = FacebookActions(client(FakeClock(NOW)), PAGE_ID, min_interval=1)
    actions.check()
    assert actions.execute(action("hide", f"{POST_NO}_100")) == "hidden" and fake.hidden[f"{POST_NO}_100"] is True
    assert actions.execute(action("unhide", f"{POST_NO}_100")) == "unhidden" and fake.hidden[f"{POST_NO}_100"] is False
    assert actions.execute(action("delete", f"{POST_NO}_101")) == "deleted" and f"{POST_NO}_101" in fake.deleted
    fake.fail("delete", 400, graph_error(100, "Unsupported delete request.", subcode=33))
    assert actions.execute(action("delete", f"{POST_NO}_101")) == "already deleted"
    fake.fail("hide", 403, graph_error(10, "(#10) Permission denied"))
    with pytest.raises(NotPermitted):
        actions.execute(action("hide", f"{POST_NO}_102"))


# -- webhook


@pytest.fixture
def webhook() -> Iterator[tuple[str, MemorySink]]:
    sink = MemorySink()
    server = WebhookReceiver(sink, PAGE_ID, APP_SECRET, VERIFY_TOKEN).server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhook", sink
    server.shutdown()
    server.server_close()


def test_verify_token_handshake(webhook: tuple[str, MemorySink]) -> None:
    url, _ = webhook
    ok = requests.get(
        url, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    bad = requests.get(url, params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"})
    assert bad.status_code == 403 and bad.text == ""


def test_unsigned_or_wrongly_signed_deliveries_are_rejected(webhook: tuple[str, MemorySink]) -> None:
    url, sink = webhook
    body = dumps(feed_delivery([feed_comment("add", POST_NO, 700, "hello")]))
    assert requests.post(url, data=body, headers={"Content-Type": "application/json"}).status_code == 403
    wrong = {"X-Hub-Signature-256": sign(body, "not-the-app-secret")}
    assert requests.post(url, data=body, headers=wrong).status_code == 403
    tampered = {"X-Hub-Signature-256": sign(body)}
    assert requests.post(url, data=body.replace(b"hello", b"HELLO"), headers=tampered).status_code == 403
    sha1_only = {"X-Hub-Signature": "sha1=" + "0" * 40}
    assert requests.post(url, data=body, headers=sha1_only).status_code == 403
    assert not sink.topics.get(COMMENTS_RAW.full_name())


def test_signed_delivery_is_committed_and_bad_changes_dead_lettered(webhook: tuple[str, MemorySink]) -> None:
    url, sink = webhook
    broken = feed_comment("add", POST_NO, 702, "no id")
    del broken["value"]["comment_id"]  # type: ignore[attr-defined]
    body = dumps(
        feed_delivery(
            [
                feed_comment("add", POST_NO, 700, "Le déneigement 👏"),
                broken,
                feed_comment("edited", POST_NO, 700, "Le déneigement 👏👏"),
                feed_comment("remove", POST_NO, 701, None),
                {"field": "feed", "value": {"item": "reaction", "verb": "add", "post_id": f"{PAGE_ID}_{POST_NO}"}},
            ]
        )
    )
    reply = requests.post(
        url, data=body, headers={"X-Hub-Signature-256": sign(body), "Content-Type": "application/json"}
    )
    assert (reply.status_code, reply.text) == (200, "EVENT_RECEIVED")
    comments = comments_in(sink)
    assert [(c.comment_id, c.edited, c.deleted) for c in comments] == [
        (f"{POST_NO}_700", False, False),
        (f"{POST_NO}_700", True, False),
        (f"{POST_NO}_701", False, True),
    ]
    letters = [decode(v, DeadLetter) for _, v in sink.topics[COMMENTS_DEADLETTER.full_name()]]
    assert [d.reason for d in letters] == ["comment_id: missing or not a string"]
    garbage = b"{not json"
    assert requests.post(url, data=garbage, headers={"X-Hub-Signature-256": sign(garbage)}).status_code == 200
    assert len(sink.topics[COMMENTS_DEADLETTER.full_name()]) == 2


@pytest.mark.integration
def test_poller_restart_and_webhook_against_kafka(fake: FakeGraph, kafka_bootstrap: str, kafka_topics: str) -> None:
    prefix = kafka_topics
    clock = FakeClock(NOW)
    store = KafkaCheckpointStore(kafka_bootstrap, prefix)
    for polls in (2, 8):  # stopped mid-paging, then a new process
        sink = KafkaSink(kafka_bootstrap, prefix, transactional_id=f"{prefix}civicwatch-facebook")
        r = Runner(FacebookConnector(client(clock), SETTINGS, clock), sink, store, clock)
        r.start()
        r.run(max_polls=polls)
        sink.close()
    hook_sink = KafkaSink(kafka_bootstrap, prefix, transactional_id=f"{prefix}civicwatch-facebook-webhook")
    receiver = WebhookReceiver(hook_sink, PAGE_ID, APP_SECRET, VERIFY_TOKEN)
    assert receiver.handle(dumps(feed_delivery([feed_comment("add", POST_NO, 800, "via webhook")]))) == 200
    hook_sink.close()
    messages = consume_all(
        kafka_bootstrap, prefix + COMMENTS_RAW.name, 24, timeout=60, isolation_level="read_committed"
    )
    keys = Counter(m.key.decode() for m in messages)
    assert len(keys) == 24 and max(keys.values()) == 1
    assert f"facebook:{POST_NO}_800" in keys


@pytest.mark.integration
def test_webhook_command_runs_as_a_process(kafka_bootstrap: str, kafka_topics: str, tmp_path: object) -> None:
    """``civicwatch connect facebook-webhook`` as operators run it: signed delivery in, comment in Kafka."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "CIVICWATCH_TOPIC_PREFIX": kafka_topics,
        "CIVICWATCH_FACEBOOK_PAGE_ID": PAGE_ID,
        "FACEBOOK_APP_SECRET": APP_SECRET,
        "FACEBOOK_VERIFY_TOKEN": VERIFY_TOKEN,
        "CIVICWATCH_LOG_FORMAT": "json",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "connectors", "facebook-webhook", "--port", "0"],
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
        body = dumps(feed_delivery([feed_comment("add", POST_NO, 990, "Par le processus 🚀")]))
        assert requests.post(url, data=body, headers={"X-Hub-Signature-256": sign(body, "wrong")}).status_code == 403
        assert requests.post(url, data=body, headers={"X-Hub-Signature-256": sign(body)}).status_code == 200
        messages = consume_all(
            kafka_bootstrap, kafka_topics + COMMENTS_RAW.name, 1, timeout=30, isolation_level="read_committed"
        )
        mine = [decode(m.value, Comment).text for m in messages if m.key == f"facebook:{POST_NO}_990".encode()]
        assert mine == ["Par le processus 🚀"]
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
    logs = proc.stderr.read() if proc.stderr else ""
    assert VERIFY_TOKEN not in logs and APP_SECRET not in logs


def test_deleted_post_closes_its_scope_and_the_run_goes_on(fake: FakeGraph) -> None:
    fake.fail(f"comments:{PAGE_ID}_9002", 400, graph_error(100, "Unsupported get request.", subcode=33))
    fake.posts.append(fb_post(9002, "Second post", NOW - 1800))
    fake.comments[f"{PAGE_ID}_9002"].append(fb_comment(9002, 1, "On the second post", NOW - 1700))
    clock, sink = FakeClock(NOW), MemorySink()
    r = runner(clock, sink)
    r.run(max_polls=8)
    assert len(comments_in(sink)) == 23 and "9002_1" not in {c.comment_id for c in comments_in(sink)}
    assert r.committed[f"comments:{PAGE_ID}_9002"].details["closed"] is True
    assert r.committed[f"comments:{PAGE_ID}_{POST_NO}"].details["closed"] is False


# -- webhook robustness (issue 13)


def start_receiver(sink: MemorySink, **limits: float) -> tuple[ThreadingHTTPServer, str]:
    server = WebhookReceiver(sink, PAGE_ID, APP_SECRET, VERIFY_TOKEN, **limits).server("127.0.0.1", 0)  # type: ignore[arg-type]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/webhook"


def slow_request(url: str, declared: int = 100) -> socket.socket:
    """A POST that promises ``declared`` bytes of body and sends ten."""
    port = int(url.split(":")[2].split("/")[0])
    conn = socket.create_connection(("127.0.0.1", port), timeout=5)
    head = f"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: {declared}\r\nX-Hub-Signature-256: sha256=00\r\n\r\n"
    conn.sendall(head.encode() + b"0123456789")
    return conn


@pytest.mark.parametrize("header", ["sha256=é" + "0" * 63, "sha256=" + "\u00ff" * 64, "sha256=ü"])
def test_a_non_ascii_signature_is_refused_not_a_crash(webhook: tuple[str, MemorySink], header: str) -> None:
    url, sink = webhook
    body = dumps(feed_delivery([feed_comment("add", POST_NO, 710, "hello")]))
    assert not signature_valid(body, header, APP_SECRET)
    reply = requests.post(url, data=body, headers={"X-Hub-Signature-256": header.encode("latin-1")}, timeout=10)
    assert reply.status_code == 403
    assert not sink.topics.get(COMMENTS_RAW.full_name())


def test_a_slow_body_times_out() -> None:
    server, url = start_receiver(MemorySink(), timeout=0.5)
    try:
        conn = slow_request(url)
        started = time.monotonic()
        conn.recv(1024)  # the server gives up and closes; before, this waited for ever
        assert time.monotonic() - started < 4
        conn.close()
    finally:
        server.shutdown()
        server.server_close()


def test_slow_clients_hold_at_most_max_threads() -> None:
    server, url = start_receiver(MemorySink(), timeout=3.0, max_threads=2)
    before = threading.active_count()
    conns = [slow_request(url) for _ in range(8)]
    try:
        time.sleep(0.5)
        assert threading.active_count() - before <= 2
    finally:
        for conn in conns:
            conn.close()
        server.shutdown()
        server.server_close()


def test_a_replayed_delivery_cannot_bring_back_deleted_text() -> None:
    sink = MemorySink()
    server, url = start_receiver(sink, max_age=3600)
    try:
        added = dumps(feed_delivery([feed_comment("add", POST_NO, 720, "my address is 12 Elm St")]))
        removed = dumps(feed_delivery([feed_comment("remove", POST_NO, 720, None)]))
        stale = feed_delivery([feed_comment("edited", POST_NO, 720, "an edit from last night")])
        stale["entry"][0]["time"] = int(time.time()) - 7200
        stale_body = dumps(stale)
        for body in (added, removed, added, stale_body):
            reply = requests.post(url, data=body, headers={"X-Hub-Signature-256": sign(body)}, timeout=10)
            assert reply.status_code == 200, "acknowledged, so Meta does not retry"
        comments = comments_in(sink)
        assert [(c.deleted, c.text) for c in comments] == [(False, "my address is 12 Elm St"), (True, "")]
    finally:
        server.shutdown()
        server.server_close()


def test_caught_up_polls_ask_after_the_last_cursor_and_read_only_new_comments(fake: FakeGraph) -> None:
    """Before: the poller asked ``since`` (which the comments edge ignores), so every poll re-read the
    whole list; a malformed comment was dead-lettered once per poll."""
    post_id = f"{PAGE_ID}_{POST_NO}"
    fake.comments[post_id].insert(5, {**fb_comment(POST_NO, 555, "x", NOW - 2999), "from": {"name": "no id"}})
    clock, sink = FakeClock(NOW), MemorySink()
    r = runner(clock, sink)
    r.run(max_polls=8)
    fake.comments[post_id].append(fb_comment(POST_NO, 901, "Later", NOW + 60))
    before = len(fake.calls)
    r.run(max_polls=r.stats.polls + 3)
    asked = [q for e, _, q in fake.calls[before:] if e == "comments"]
    assert asked and asked[0]["after"] == graph_cursor(f"{POST_NO}_122")
    ids = Counter(c.comment_id for c in comments_in(sink))
    assert ids[f"{POST_NO}_901"] == 1 and len(ids) == 24 and max(ids.values()) == 1
    assert len(sink.topics[COMMENTS_DEADLETTER.full_name()]) == 1, "read once, dead-lettered once"


def test_a_deleted_cursor_comment_restarts_the_list_without_repeats(fake: FakeGraph) -> None:
    post_id = f"{PAGE_ID}_{POST_NO}"
    clock, sink = FakeClock(NOW), MemorySink()
    r = runner(clock, sink)
    r.run(max_polls=8)
    fake.comments[post_id] = [c for c in fake.comments[post_id] if c["id"] != f"{POST_NO}_122"]
    fake.comments[post_id].append(fb_comment(POST_NO, 902, "After the deletion", NOW + 60))
    r.run(max_polls=r.stats.polls + 6)
    ids = Counter(c.comment_id for c in comments_in(sink) if not c.deleted)
    assert ids[f"{POST_NO}_902"] == 1 and max(ids.values()) == 1


def test_sticker_and_photo_only_comments_carry_their_attachment(fake: FakeGraph) -> None:
    """Before: ``attachment`` was not requested, so these arrived as empty comments with nothing to review."""
    post_id = f"{PAGE_ID}_{POST_NO}"
    fake.comments[post_id].append(fb_attachment_comment(POST_NO, 700, "sticker", NOW - 100))
    fake.comments[post_id].append(fb_attachment_comment(POST_NO, 701, "photo", NOW - 90))
    clock, sink = FakeClock(NOW), MemorySink()
    runner(clock, sink).run(max_polls=8)
    got = {c.comment_id: c for c in comments_in(sink)}
    sticker, photo = got[f"{POST_NO}_700"], got[f"{POST_NO}_701"]
    assert sticker.text == "" and sticker.attachment is not None and sticker.attachment.type == "sticker"
    assert photo.attachment is not None and photo.attachment.url == (
        "https://scontent.xx.fbcdn.net/v/t39.1997-6/701_n.png"
    )
    assert got[f"{POST_NO}_100"].attachment is None


def test_the_pages_own_comments_are_not_produced(fake: FakeGraph) -> None:
    """Before: staff replies from the Page were classified like residents' comments (and could be hidden)."""
    post_id = f"{PAGE_ID}_{POST_NO}"
    staff = fb_comment(POST_NO, 710, "Crews are on their way.", NOW - 80, author=PAGE_ID, parent=f"{POST_NO}_100")
    fake.comments[post_id].append(staff)
    clock, sink = FakeClock(NOW), MemorySink()
    runner(clock, sink).run(max_polls=8)
    assert PAGE_ID not in {c.author_id for c in comments_in(sink)} and len(comments_in(sink)) == 23
    hook = feed_change(feed_comment("add", POST_NO, 711, "We hear you.", author=PAGE_ID)["value"], PAGE_ID)
    assert hook is None


def test_appsecret_proof_is_sent_when_the_app_requires_it(rsps: responses.RequestsMock) -> None:
    """Before: no ``appsecret_proof``, so an app with "Require App Secret" on refused every call."""
    graph = FakeGraph(rsps, app_secret=APP_SECRET)
    graph.posts.append(fb_post(POST_NO, "Council meeting moved", NOW - 3600))
    graph.comments[f"{PAGE_ID}_{POST_NO}"].append(fb_comment(POST_NO, 100, "Thanks", NOW - 3000))
    clock, sink = FakeClock(NOW), MemorySink()
    sdk, session = make_graph(PAGE_TOKEN, "25.0")
    proven = GraphClient(sdk, session, clock, app_secret=APP_SECRET)
    r = Runner(FacebookConnector(proven, SETTINGS, clock), sink, MemoryCheckpointStore(sink), clock)
    r.start()
    r.run(max_polls=4)
    assert [c.comment_id for c in comments_in(sink)] == [f"{POST_NO}_100"]
    assert all("appsecret_proof" in q for _, _, q in graph.calls)
    with pytest.raises(ConnectorError, match="Graph error 100"):
        client(clock).request(f"v25.0/{PAGE_ID}", {"fields": "id"})


def test_recheck_finds_edits_and_deletions_the_webhook_missed(fake: FakeGraph) -> None:
    """Before: nothing re-read comments, so an edit or a deletion without a webhook delivery was never seen."""
    post_id = f"{PAGE_ID}_{POST_NO}"
    clock, sink = FakeClock(NOW), MemorySink()
    r = runner(clock, sink)
    r.run(max_polls=8)
    assert len(comments_in(sink)) == 23
    fake.comments[post_id][3]["message"] = "감사합니다 3 (edited: wrong street)"
    fake.comments[post_id] = [c for c in fake.comments[post_id] if c["id"] != f"{POST_NO}_107"]
    clock.now += SETTINGS.recheck_interval + 1
    r.run(max_polls=r.stats.polls + 8)
    later = comments_in(sink)[23:]
    edited = [c for c in later if c.edited]
    deleted = [c for c in later if c.deleted]
    assert [(c.comment_id, c.text) for c in edited] == [(f"{POST_NO}_103", "감사합니다 3 (edited: wrong street)")]
    assert [(c.comment_id, c.text) for c in deleted] == [(f"{POST_NO}_107", "")]
    assert len(later) == 2, "nothing else is produced again"


@pytest.mark.parametrize(("verb", "hidden"), [("hide", True), ("unhide", False)])
def test_hide_and_unhide_deliveries_are_state_changes(verb: str, hidden: bool) -> None:
    """Before: ``hide``/``unhide`` verbs were dropped, so a comment hidden in Meta's tools stayed in the queue."""
    change = feed_comment(verb, POST_NO, 720, "Whatever text Meta repeats")
    comment = feed_change(change["value"], PAGE_ID)
    assert isinstance(comment, Comment)
    assert (comment.hidden, comment.text, comment.deleted, comment.edited) == (hidden, "", False, False)
