"""The action executor on the real broker: once per action id across duplicates and restarts, every
outcome audited, transient failures retried, rate limits waited out, X paced."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
import responses

from connectors.actions import STATE_NAME, ActionExecutor, actions_consumer
from connectors.core import FakeClock
from connectors.facebook import FacebookActions, GraphClient, make_graph
from connectors.runner import KafkaCheckpointStore
from connectors.secrets import Secrets
from connectors.x import XActions, XApi, make_client
from runtime.sink import KafkaSink
from schemas import AuditRecord, DeadLetter, ModerationAction, decode
from schemas.ids import stable_id
from schemas.topics import AUDIT_LOG, COMMENTS_DEADLETTER, MODERATION_ACTIONS
from tests.conftest import consume_all
from tests.fake_platforms import FakeGraph, FakeX
from tests.platform_payloads import NOW, PAGE_ID, PAGE_TOKEN, X_TOO_MANY, graph_error, snowflake, x_rate_headers
from tests.test_connectors_x import TOKENS

pytestmark = pytest.mark.integration

X_INTERVAL = 18.0


def act(action_id: str, platform: str, kind: str, comment: str) -> ModerationAction:
    return ModerationAction(
        action_id=action_id,
        decision_id=f"d-{action_id}",
        platform=platform,  # type: ignore[arg-type]
        comment_id=comment,
        post_id="p-1",
        action=kind,  # type: ignore[arg-type]
        clauses=["5.7.2"],
    )


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def executor(
    bootstrap: str, prefix: str, clock: FakeClock, fake_x: FakeX, fake_fb: FakeGraph
) -> tuple[ActionExecutor, KafkaSink]:
    x_api = XApi(make_client(Secrets(env=TOKENS), user_auth=True), clock, token_variable="X_ACCESS_TOKEN")
    graph, session = make_graph(PAGE_TOKEN, "25.0")
    platforms = {
        "x": XActions(x_api, X_INTERVAL),
        "facebook": FacebookActions(GraphClient(graph, session, clock), PAGE_ID, 1.0),
    }
    sink = KafkaSink(bootstrap, prefix, transactional_id=f"{prefix}civicwatch-actions")
    consumer = actions_consumer(bootstrap, prefix, sorted(platforms))
    ex = ActionExecutor(platforms, sink, consumer, clock, max_attempts=3, backoff_base=2.0, backoff_cap=60.0)
    ex.start(KafkaCheckpointStore(bootstrap, prefix).load(STATE_NAME))
    return ex, sink


def test_each_action_once_with_audited_outcomes_across_duplicates_and_restart(
    rsps: responses.RequestsMock, kafka_bootstrap: str, kafka_topics: str
) -> None:
    prefix = kafka_topics
    clock = FakeClock(NOW)
    fake_x, fake_fb = FakeX(rsps, NOW), FakeGraph(rsps)
    a, b, f = snowflake(NOW - 100, 1), snowflake(NOW - 100, 2), snowflake(NOW - 100, 3)
    actions = [
        act("x-hide", "x", "hide", a),
        act("x-hide", "x", "hide", a),  # the same action sent twice
        act("x-delete", "x", "delete", b),
        act("fb-delete", "facebook", "delete", "9001_100"),
        act("fb-hide-flaky", "facebook", "hide", "9001_101"),
        act("fb-hide-denied", "facebook", "hide", "9001_102"),
        act("x-hide-limited", "x", "hide", f),
        act("fb-hide-gone", "facebook", "hide", "9001_103"),
        act("fb-hide-down", "facebook", "hide", "9001_104"),
        act("replay-hide", "replay", "hide", "r-1"),
    ]
    # Failures per target: actions on different partitions may be consumed in any order.
    fake_fb.fail("hide:9001_101", 503, b"<html>Service Unavailable</html>")
    fake_fb.fail("hide:9001_101", 503, b"<html>Service Unavailable</html>")
    fake_fb.fail("hide:9001_102", 403, graph_error(10, "(#10) Permission denied"))
    fake_x.fail(f"hide_reply:{f}", 429, X_TOO_MANY, x_rate_headers(50, 0, NOW + 900))
    fake_fb.fail("hide:9001_103", 400, graph_error(100, "Object does not exist", subcode=33))
    for _ in range(3):
        fake_fb.fail("hide:9001_104", 500, graph_error(1, "An unknown error occurred", transient=True))
    fake_x.clock = clock

    producer = KafkaSink(kafka_bootstrap, prefix)
    for i, action in enumerate(actions):
        producer.send(MODERATION_ACTIONS, action, key=f"{action.platform}:{action.comment_id}")
        if i == 6:
            producer.send_raw(MODERATION_ACTIONS, b"x:bad", b'{"schema_version": 1, "action": "obliterate"}')
    producer.flush()

    ex, sink = executor(kafka_bootstrap, prefix, clock, fake_x, fake_fb)
    stats = ex.run(max_messages=len(actions) + 1, idle_timeout=30)
    ex.consumer.close()
    sink.close()
    assert stats.duplicates == 1 and stats.dead_lettered == 1 and stats.ignored == 1
    assert stats.outcomes == Counter(ok=4, not_permitted=2, skipped=1, failed=1)

    audit = [
        decode(m.value, AuditRecord)
        for m in consume_all(kafka_bootstrap, prefix + AUDIT_LOG.name, 8, isolation_level="read_committed")
    ]
    by_action = {r.details["action_id"]: r for r in audit}
    assert len(audit) == 8 and len(by_action) == 8, "one audit record per action id"
    assert {k: r.outcome for k, r in by_action.items()} == {
        "x-hide": "ok",
        "x-delete": "not_permitted",
        "fb-delete": "ok",
        "fb-hide-flaky": "ok",
        "fb-hide-denied": "not_permitted",
        "x-hide-limited": "ok",
        "fb-hide-gone": "skipped",
        "fb-hide-down": "failed",
    }
    assert by_action["fb-hide-flaky"].details["attempts"] == 3
    assert "after 3 attempts" in by_action["fb-hide-down"].reason
    assert by_action["x-hide"].audit_id == stable_id("audit", "action", "x-hide")
    assert by_action["x-hide"].subject == f"x:{a}" and by_action["x-hide"].verb == "action.hide"
    assert fake_x.hidden == {a: True, f: True} and fake_fb.deleted == {"9001_100"}
    assert [c for c in fake_x.calls if c[0] == "hide_reply"].count(("hide_reply", {"id": a})) == 1
    assert fake_x.times[-1] >= NOW + 900, "the 429 was waited out until its reset"
    assert len(fake_x.times) == 3, "hide, then 429 and its retry"
    assert all(later - earlier >= X_INTERVAL for earlier, later in zip(fake_x.times, fake_x.times[1:], strict=False))
    letters = consume_all(kafka_bootstrap, prefix + COMMENTS_DEADLETTER.name, 1, isolation_level="read_committed")
    assert decode(letters[0].value, DeadLetter).stage == "actions"

    # A restart: the first action arrives a third time, and a new one after it.
    producer.send(MODERATION_ACTIONS, actions[0], key=f"x:{a}")
    producer.send(MODERATION_ACTIONS, act("fb-unhide", "facebook", "unhide", "9001_101"), key="facebook:9001_101")
    producer.flush()
    producer.close()
    calls_before = len(fake_x.calls)
    ex, sink = executor(kafka_bootstrap, prefix, clock, fake_x, fake_fb)
    stats = ex.run(max_messages=2, idle_timeout=30)
    ex.consumer.close()
    sink.close()
    assert stats.duplicates == 1 and stats.outcomes == Counter(ok=1)
    assert len([c for c in fake_x.calls[calls_before:] if c[0] == "hide_reply"]) == 0
    audit = consume_all(kafka_bootstrap, prefix + AUDIT_LOG.name, 9, isolation_level="read_committed")
    assert Counter(decode(m.value, AuditRecord).details["action_id"] for m in audit) == Counter(
        {k: 1 for k in [*by_action, "fb-unhide"]}
    )
    assert fake_fb.hidden["9001_101"] is False
