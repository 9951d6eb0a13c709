"""The review service's HTTP API against the real broker and a real worker: log-in, roles, CSRF,
decisions all the way to ``moderation.actions`` and ``audit.log``, redaction, filters, alerts,
metrics, health, CSV export."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import requests

from runtime.sink import KafkaSink
from schemas import Aggregate, AuditRecord, Comment, CouncilForward, Decision, ModerationAction, Post, decode
from schemas.ids import stable_id, text_digest
from schemas.topics import COMMENTS_RAW, MODERATION_REVIEW, POSTS
from tests import factories
from tests.conftest import ReviewProcess, WorkerProcess, consume_all, review_login

pytestmark = pytest.mark.integration

USERS = {
    "mod": ("moderator", "moderator-password-1"),
    "ana": ("analyst", "analyst-password-12"),
    "adm": ("admin", "admin-password-1234"),
}
NOW = datetime.now(UTC) - timedelta(minutes=20)
PHONE = "519-974-2211"


def comment(i: int, text: str, platform: str = "x", post: str = "p-snow") -> Comment:
    """The i-th comment of the scenario, one second after the previous one."""
    return factories.comment(
        f"svc{i}", text, platform=platform, post=post, handle="resident_a1", at=NOW + timedelta(seconds=i)
    )


COMMENTS = [
    comment(1, "This fucking snow removal is a joke"),
    comment(2, f"My neighbour's cell is {PHONE}, call him about the fence", platform="facebook", post="p-park"),
    comment(3, "Thanks to the crews for clearing Wyandotte this morning"),
    comment(4, "The plows are shit, fix the roads you idiots"),
]


def review_id(c: Comment) -> str:
    return stable_id("review", c.key, text_digest(c.text))


@pytest.fixture(scope="module")
def stack(kafka_bootstrap: str, kafka_topics: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReviewProcess]:
    workdir = tmp_path_factory.mktemp("review-service")
    worker = WorkerProcess(kafka_bootstrap, kafka_topics, f"rs-{kafka_topics.strip('.')}", workdir / "worker.log")
    worker.env["CIVICWATCH_ANALYTICS_INTERVAL"] = "1"
    worker.start()
    review = ReviewProcess(
        kafka_bootstrap,
        kafka_topics,
        workdir / "review",
        USERS,
        CIVICWATCH_REVIEW_ALERT_AFTER_MINUTES="0.05",
        CIVICWATCH_REVIEW_ALERT_INTERVAL="1",
    )
    try:
        review.start()
        sink = KafkaSink(kafka_bootstrap, kafka_topics)
        sink.send(
            POSTS,
            Post(platform="x", post_id="p-snow", account="CityofWindsor", text="Snow clearing update", created_at=NOW),
        )
        for c in COMMENTS:
            sink.send(COMMENTS_RAW, c)
        sink.flush()
        sink.close()
        yield review
    finally:
        review.stop()
        worker.stop()
    assert "Traceback" not in review.log(), review.log()[-3000:]


def wait_for(check: Callable[[], Any], timeout: float = 90, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def moderator(stack: ReviewProcess) -> tuple[requests.Session, str]:
    session, csrf = review_login(stack.url, "mod", USERS["mod"][1])
    flagged = {review_id(COMMENTS[0]), review_id(COMMENTS[1]), review_id(COMMENTS[3])}

    def queued() -> bool:
        items = session.get(stack.url + "/api/queue?status=all", timeout=10).json()["items"]
        return flagged <= {i["review_id"] for i in items}

    wait_for(queued, what="the flagged comments in the queue")
    return session, csrf  # type: ignore[return-value]


def test_health_and_metrics_need_no_login(stack: ReviewProcess) -> None:
    health = requests.get(stack.url + "/health", timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    metrics = requests.get(stack.url + "/metrics", timeout=10).text
    for name in (
        "civicwatch_review_records_total",
        "civicwatch_review_consumer_lag",
        "civicwatch_review_queue_depth",
        "civicwatch_review_decisions_total",
        "civicwatch_review_overdue_items",
    ):
        assert name in metrics


def test_pages_need_a_session(stack: ReviewProcess) -> None:
    r = requests.get(stack.url + "/queue", allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"].startswith("/login")
    assert requests.get(stack.url + "/api/queue", timeout=10).status_code == 401
    assert requests.get(stack.url + "/export/aggregates.csv", timeout=10).status_code == 401
    assert "script-src" not in r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]


def test_wrong_password_and_missing_csrf_are_refused(stack: ReviewProcess) -> None:
    s = requests.Session()
    page = s.get(stack.url + "/login", timeout=10).text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    wrong = s.post(
        stack.url + "/login", data={"csrf": token.group(1), "username": "mod", "password": "nope"}, timeout=30
    )
    assert wrong.status_code == 401 and "cw_session" not in s.cookies
    no_csrf = requests.post(stack.url + "/login", data={"username": "mod", "password": USERS["mod"][1]}, timeout=30)
    assert no_csrf.status_code == 403 and "cw_session" not in no_csrf.cookies
    assert "moderator-password" not in stack.log()


def test_filters(stack: ReviewProcess, moderator: tuple[requests.Session, str]) -> None:
    session, _ = moderator

    def ids(query: str) -> set[str]:
        return {
            i["review_id"]
            for i in session.get(stack.url + "/api/queue?status=all&" + query, timeout=10).json()["items"]
        }

    assert ids("platform=facebook") == {review_id(COMMENTS[1])}
    assert review_id(COMMENTS[0]) in ids("post=x:p-snow") and review_id(COMMENTS[1]) not in ids("post=x:p-snow")
    assert ids("clause=5.7.9") == {review_id(COMMENTS[1])}
    assert review_id(COMMENTS[0]) in ids("clause=5.7.2")
    assert ids("age=gt24h") == set()
    assert review_id(COMMENTS[0]) in ids("age=lt1h")


def test_api_queue_is_redacted_for_everyone(stack: ReviewProcess, moderator: tuple[requests.Session, str]) -> None:
    session, _ = moderator
    body = session.get(stack.url + "/api/queue?platform=facebook", timeout=10).text
    assert PHONE not in body and "<PHONE>" in orjson.loads(body)["items"][0]["text"]


def test_private_information_by_role(
    kafka_bootstrap: str, kafka_topics: str, stack: ReviewProcess, moderator: tuple[requests.Session, str]
) -> None:
    target = review_id(COMMENTS[1])
    analyst, _ = review_login(stack.url, "ana", USERS["ana"][1])
    page = analyst.get(f"{stack.url}/items/{target}", timeout=10)
    assert page.status_code == 200 and PHONE not in page.text and "&lt;PHONE&gt;" in page.text
    assert "decision-form" not in page.text
    session, _ = moderator
    page = session.get(f"{stack.url}/items/{target}", timeout=10)
    assert PHONE in page.text and page.headers["Cache-Control"] == "no-store"
    audit = consume_all(kafka_bootstrap, kafka_topics + "audit.log", 10_000, timeout=10)
    views = [decode(m.value, AuditRecord) for m in audit]
    assert any(a.verb == "review.private_viewed" and a.actor == "mod" and a.subject == COMMENTS[1].key for a in views)
    assert not any(a.verb == "review.private_viewed" and a.actor == "ana" for a in views)


def test_analyst_cannot_decide(stack: ReviewProcess) -> None:
    analyst, csrf = review_login(stack.url, "ana", USERS["ana"][1])
    r = analyst.post(
        f"{stack.url}/items/{review_id(COMMENTS[0])}/decision",
        data={"csrf": csrf, "decision": "delete", "reason": "x"},
        timeout=10,
    )
    assert r.status_code == 403


def test_decision_needs_csrf_and_same_origin(stack: ReviewProcess, moderator: tuple[requests.Session, str]) -> None:
    session, csrf = moderator
    target = f"{stack.url}/items/{review_id(COMMENTS[3])}/decision"
    assert session.post(target, data={"decision": "hide", "reason": "abuse"}, timeout=10).status_code == 403
    assert (
        session.post(target, data={"csrf": "forged", "decision": "hide", "reason": "abuse"}, timeout=10).status_code
        == 403
    )
    cross = session.post(
        target,
        data={"csrf": csrf, "decision": "hide", "reason": "abuse"},
        headers={"Origin": "http://evil.example"},
        timeout=10,
    )
    assert cross.status_code == 403
    missing_reason = session.post(target, data={"csrf": csrf, "decision": "hide", "reason": "  "}, timeout=10)
    assert missing_reason.status_code == 400 and "Give a reason" in missing_reason.text
    item = session.get(stack.url + "/api/queue?status=all", timeout=10).json()["items"]
    assert all(i["status"] == "pending" for i in item if i["review_id"] == review_id(COMMENTS[3]))


def test_decision_reaches_actions_and_audit(
    kafka_bootstrap: str, kafka_topics: str, stack: ReviewProcess, moderator: tuple[requests.Session, str]
) -> None:
    session, csrf = moderator
    target = review_id(COMMENTS[0])
    r = session.post(
        f"{stack.url}/items/{target}/decision",
        data={"csrf": csrf, "decision": "hide", "reason": "profanity, clause 5.7.2"},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 303
    decisions = [
        decode(m.value, Decision) for m in consume_all(kafka_bootstrap, kafka_topics + "moderation.decisions", 1)
    ]
    mine = [d for d in decisions if d.review_id == target]
    assert len(mine) == 1 and mine[0].moderator == "mod" and mine[0].decision == "hide" and "5.7.2" in mine[0].clauses
    actions = [
        decode(m.value, ModerationAction) for m in consume_all(kafka_bootstrap, kafka_topics + "moderation.actions", 1)
    ]
    assert [a.action for a in actions if a.decision_id == mine[0].decision_id] == ["hide"]

    def audited() -> list[AuditRecord]:
        records = [
            decode(m.value, AuditRecord) for m in consume_all(kafka_bootstrap, kafka_topics + "audit.log", 1, timeout=5)
        ]
        return [a for a in records if a.verb == "decision.hide" and a.details.get("decision_id") == mine[0].decision_id]

    record = wait_for(audited, what="the decision's audit record")[0]
    assert record.actor == "mod" and record.reason == "profanity, clause 5.7.2"
    page = wait_for(
        lambda: (
            (p := session.get(f"{stack.url}/items/{target}", timeout=10).text) and 'data-testid="action"' in p and p
        ),
        what="the action on the item page",
    )
    assert "decided: hide" in page
    pending = {i["review_id"] for i in session.get(stack.url + "/api/queue", timeout=10).json()["items"]}
    assert target not in pending, "a decided item leaves the pending queue"


def test_agreement_reaches_analytics_aggregates(
    kafka_bootstrap: str, kafka_topics: str, stack: ReviewProcess, moderator: tuple[requests.Session, str]
) -> None:
    """The moderator's hide above confirms the 5.7.2 flag: analysts read it per clause and week on
    ``analytics.aggregates`` (dimension ``agreement``), with no text, author or comment id."""
    week = datetime.now(UTC).isocalendar()

    def published() -> list[Aggregate]:
        records = [
            decode(m.value, Aggregate)
            for m in consume_all(kafka_bootstrap, kafka_topics + "analytics.aggregates", 1, timeout=5, settle=1)
        ]
        return [a for a in records if a.dimension == "agreement" and a.key == "5.7.2" and a.confirmed >= 1]

    latest = wait_for(published, what="an agreement record for 5.7.2")[-1]
    assert latest.window == "week" and latest.window_start.isocalendar()[:2] == week[:2]
    assert latest.window_end - latest.window_start == timedelta(weeks=1)
    assert latest.flagged == latest.confirmed + latest.false_alarms
    raw = consume_all(kafka_bootstrap, kafka_topics + "analytics.aggregates", 1, timeout=5, settle=1)
    agreement_payloads = b" ".join(m.value for m in raw if b'"agreement"' in m.value)
    assert b"resident_a1" not in agreement_payloads and COMMENTS[0].comment_id.encode() not in agreement_payloads

    analyst, _ = review_login(stack.url, "ana", USERS["ana"][1])  # the view reads the record back: CSV per week

    def exported() -> list[dict[str, str]]:
        lines = analyst.get(stack.url + "/export/aggregates.csv?window=week", timeout=10).text.splitlines()
        rows = [dict(zip(lines[0].split(","), line.split(","), strict=True)) for line in lines[1:]]
        return [r for r in rows if r["dimension"] == "agreement" and r["key"] == "5.7.2" and int(r["confirmed"]) >= 1]

    row = wait_for(exported, what="the week's agreement in the CSV export")[0]
    assert row["window"] == "week" and int(row["flagged"]) == int(row["confirmed"]) + int(row["false_alarms"])


def test_forward_to_council(
    kafka_bootstrap: str, kafka_topics: str, stack: ReviewProcess, moderator: tuple[requests.Session, str]
) -> None:
    session, csrf = moderator
    target = review_id(COMMENTS[3])
    r = session.post(
        f"{stack.url}/items/{target}/decision",
        data={"csrf": csrf, "decision": "forward", "reason": "question for the councillor"},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 303
    forwards = [
        decode(m.value, CouncilForward)
        for m in consume_all(kafka_bootstrap, kafka_topics + "council.forward", 1, timeout=10)
    ]
    assert any(f.comment.key == COMMENTS[3].key for f in forwards)


def test_author_history_on_item_page(stack: ReviewProcess, moderator: tuple[requests.Session, str]) -> None:
    session, _ = moderator
    page = session.get(f"{stack.url}/items/{review_id(COMMENTS[3])}", timeout=10).text
    assert "clearing Wyandotte" in page, "another comment by the same author"
    assert "Profane language or content" in page or "5.7.2" in page


def test_overdue_items_raise_an_alert(stack: ReviewProcess) -> None:
    def alerted() -> bool:
        metrics = requests.get(stack.url + "/metrics", timeout=10).text
        found = re.search(r'^civicwatch_review_overdue_alerts_total\{clause="5\.7\.2"\} (\S+)$', metrics, re.M)
        return bool(found and float(found.group(1)) >= 1)

    wait_for(alerted, what="an overdue alert")
    assert "review_item_overdue" in stack.log()
    assert PHONE not in stack.log() and "fucking" not in stack.log()


def test_dashboard_and_csv_export(stack: ReviewProcess) -> None:
    analyst, _ = review_login(stack.url, "ana", USERS["ana"][1])

    def exported() -> str:
        text = analyst.get(stack.url + "/export/aggregates.csv?window=day&dimension=all", timeout=10).text
        return text if ",all,all,4," in text else ""

    csv = wait_for(exported, what="aggregates in the CSV export")
    assert csv.splitlines()[0].startswith("window,window_start,window_end,dimension,key,comments,flagged")
    everything = analyst.get(stack.url + "/export/aggregates.csv?window=hour", timeout=10).text
    for secret in (PHONE, "resident_a1", "fucking", "Wyandotte", "svc1"):
        assert secret not in everything
    dashboard = analyst.get(stack.url + "/dashboard", timeout=10).text
    assert "<svg" in dashboard and "Top posts by volume" in dashboard and "x:p-snow" in dashboard
    moderator, _ = review_login(stack.url, "mod", USERS["mod"][1])
    assert moderator.get(stack.url + "/export/aggregates.csv", timeout=10).status_code == 403


def test_admin_sees_the_audit_trail(stack: ReviewProcess) -> None:
    admin, _ = review_login(stack.url, "adm", USERS["adm"][1])
    page = wait_for(
        lambda: (p := admin.get(stack.url + "/audit", timeout=10).text) and "review.login" in p and p,
        what="audit records on the audit page",
    )
    assert "decision.hide" in page or "review.login" in page
    analyst, _ = review_login(stack.url, "ana", USERS["ana"][1])
    assert analyst.get(stack.url + "/audit", timeout=10).status_code == 403


def test_bad_message_is_dead_lettered_and_service_keeps_running(
    kafka_bootstrap: str, kafka_topics: str, stack: ReviewProcess
) -> None:
    sink = KafkaSink(kafka_bootstrap, kafka_topics)
    sink.send_raw(MODERATION_REVIEW, b"bad-review", b"{not json")
    sink.flush()
    sink.close()
    dead = wait_for(
        lambda: [
            m
            for m in consume_all(kafka_bootstrap, kafka_topics + "comments.deadletter", 1, timeout=5)
            if orjson.loads(m.value)["stage"] == "review"
        ],
        what="a dead letter from the review service",
    )
    assert orjson.loads(dead[0].value)["source_topic"] == kafka_topics + "moderation.review"
    assert stack.alive() and requests.get(stack.url + "/health", timeout=10).json()["status"] == "ok"
