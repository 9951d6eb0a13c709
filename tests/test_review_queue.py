"""The queue by urgency, waiting-time targets and their alerts, bulk decisions on identical
comments, brigading and the moderators' agreement, without a broker (issue 16)."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import stat
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from pipelines.policy import BrigadingRule, PolicyError, load_policy
from review.agreement import Decided, agreement, verdicts
from review.auth import add_user
from review.brigading import PostWindow, assess
from review.service import ReviewService
from review.store import QueueFilter, Store, text_key
from review.web import build_app
from runtime.settings import Settings
from schemas import Aggregate, AuditRecord, Decision, PostAlert, ReviewItem, SpanModel, TaggedComment, TagModel
from schemas.events import Event
from schemas.topics import TopicSpec
from tests import factories
from workers.agents.decisions import plan

AT = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
CATEGORY = {
    "5.7.1": "offtopic",
    "5.7.2": "profane",
    "5.7.6": "commercial",
    "5.7.7": "attack",
    "5.7.8": "safety",
    "5.7.9": "private_info",
}


def item(cid: str, text: str, clauses: list[str], at: datetime, score: float = 0.9, post: str = "p1") -> ReviewItem:
    tags = [
        TagModel(
            clause=c,
            category=CATEGORY[c],
            score=score,
            detector=f"{CATEGORY[c]}@1",
            spans=[SpanModel(start=0, end=min(4, len(text)), label=CATEGORY[c])],
        )
        for c in clauses
    ]
    return ReviewItem(
        review_id=f"r-{cid}",
        comment=factories.comment(cid, text, post=post, at=at),
        tags=tags,
        flags=[t.category for t in tags],
        clauses=clauses,
        action="review",
        created_at=at,
    )


def service_in(tmp_path: Path, **settings: Any) -> ReviewService:
    add_user(tmp_path / "users.yaml", "mod", "moderator", "moderator-password")
    config = Settings(
        bootstrap_servers="127.0.0.1:1",
        review_db=tmp_path / "view.sqlite3",
        review_users=tmp_path / "users.yaml",
        **settings,
    )
    return ReviewService(config)


def logged(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> str:
    """What was logged, whether structlog prints (the services' set-up) or hands records to the standard
    library (the set-up a CLI command run earlier in the same process may have left)."""
    return capsys.readouterr().out + caplog.text


def order(service: ReviewService, now: datetime, **f: Any) -> list[str]:
    return [r.item.review_id for r in service.store.queue(QueueFilter(**f), now.timestamp())[0]]


# ---- the queue by urgency ----


def test_a_threat_comes_before_older_off_topic_comments(tmp_path: Path) -> None:
    service = service_in(tmp_path)
    with service.store.transaction():
        for i in range(12):  # a dozen off-topic comments, all older than the threat
            service.store.put_review_item(
                item(f"off{i}", f"Parking downtown {i}", ["5.7.1"], AT + timedelta(minutes=i))
            )
        service.store.put_review_item(item("threat", "I will burn the arena down", ["5.7.8"], AT + timedelta(hours=1)))
        service.store.put_review_item(item("phone", "her cell is 519 555 0101", ["5.7.9"], AT + timedelta(hours=2)))
        service.store.put_review_item(item("swear", "what a shit plan", ["5.7.2"], AT + timedelta(minutes=30)))
    got = order(service, AT + timedelta(hours=3))
    assert got[:4] == ["r-threat", "r-phone", "r-swear", "r-off0"], "severity first, then age among equals"
    assert got[4:] == [f"r-off{i}" for i in range(1, 12)], "the off-topic ones keep their age order"
    service.store.close()


def test_within_one_severity_the_surer_flag_then_the_longer_wait_comes_first(tmp_path: Path) -> None:
    service = service_in(tmp_path)
    with service.store.transaction():
        service.store.put_review_item(item("old-low", "a b", ["5.7.2"], AT, score=0.55))
        service.store.put_review_item(item("new-high", "c d", ["5.7.2"], AT + timedelta(hours=1), score=0.97))
        service.store.put_review_item(item("old-high", "e f", ["5.7.2"], AT - timedelta(hours=1), score=0.97))
        # An item under two clauses ranks by its most urgent one.
        service.store.put_review_item(item("both", "g h", ["5.7.1", "5.7.8"], AT + timedelta(hours=2), score=0.5))
    assert order(service, AT + timedelta(hours=3)) == ["r-both", "r-old-high", "r-new-high", "r-old-low"]
    decided = order(service, AT, status="decided")
    assert decided == [], "other statuses keep their own order and are not mixed in"
    service.store.close()


def test_each_clause_waits_for_its_own_target_and_alerts_once(tmp_path: Path) -> None:
    service = service_in(tmp_path, review_alert_after_minutes=240)
    with service.store.transaction():
        service.store.put_review_item(item("threat", "I will burn the arena down", ["5.7.8"], AT))
        service.store.put_review_item(item("phone", "her cell is 519 555 0101", ["5.7.9"], AT))
        service.store.put_review_item(item("off", "Parking downtown is hard", ["5.7.1"], AT - timedelta(hours=3)))
    # 45 minutes on: the threat (target 30 min) is late; 5.7.9 (60 min) is not; 5.7.1 (the general
    # 240 min) has waited 3 h 45 and is not either.
    now = AT + timedelta(minutes=45)
    assert service.check_queue(now.timestamp()) == 1
    assert service.metrics.overdue_alerts.labels("5.7.8")._value.get() == 1
    assert service.metrics.overdue_by_severity.labels("1")._value.get() == 1
    assert order(service, now, overdue=True) == ["r-threat"]
    service.check_queue(now.timestamp())
    assert service.metrics.overdue_alerts.labels("5.7.8")._value.get() == 1, "once per item"
    later = AT + timedelta(hours=1, minutes=5)
    assert service.check_queue(later.timestamp()) == 3
    assert service.metrics.overdue_alerts.labels("5.7.9")._value.get() == 1
    assert service.metrics.overdue_alerts.labels("5.7.1")._value.get() == 1
    service.store.close()


def test_the_overdue_alert_names_ids_and_clauses_never_text_or_author(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    service = service_in(tmp_path)
    with service.store.transaction():
        service.store.put_review_item(item("threat", "I will burn the arena down", ["5.7.8"], AT))
    service.check_queue((AT + timedelta(hours=1)).timestamp())
    out = logged(capsys, caplog)
    assert "review_item_overdue" in out and "r-threat" in out and "5.7.8" in out
    assert "arena" not in out and "a1" not in out, "no comment text, no author"
    service.store.close()


def test_policy_review_section_is_typed_and_checked(tmp_path: Path) -> None:
    rules = load_policy().review
    assert rules.urgency("5.7.8").severity == 1 and rules.urgency("5.7.9").severity == 1
    assert rules.urgency("5.7.1").severity > rules.urgency("5.7.2").severity
    assert rules.urgency("5.7.12") == rules.default
    text = (Path(load_policy.__module__.replace(".", "/")).parent / "policies" / "windsor.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace('"5.7.8": {severity: 1', '"5.7.88": {severity: 1'))
    with pytest.raises(PolicyError, match=r"5\.7\.88"):
        load_policy(bad)
    bad.write_text(text.replace('"5.7.8": {severity: 1', '"5.7.8": {severity: 0'))
    with pytest.raises(PolicyError, match="severity"):
        load_policy(bad)


# ---- identical comments ----


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Buy cheap followers at spam-shop dot com", "Buy cheap followers at spam-shop dot com", True),
        ("Buy cheap followers at spam-shop dot com", "BUY cheap  followers at spam-shop dot com!!!", True),
        ("Buy cheap followers at spam-shop dot com", "Buy cheap f0llowers at spam-shop dot com", True),
        ("Buy cheap followers at spam-shop dot com", "Buy cheap followers at spam-shop dot net", False),
        ("Buy cheap followers at spam-shop dot com", "Buy cheap followers", False),
        ("Thanks", "thanks!", False),  # a single word matches too much to decide in bulk
    ],
)
def test_identical_means_the_same_words_once_normalised(a: str, b: str, same: bool) -> None:
    ka, kb = text_key(a), text_key(b)
    assert (ka is not None and ka == kb) is same


class Published:
    """What the service would have sent to Kafka, and the audit records the worker would write."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.sent: list[tuple[str, str, Event]] = []
        """(topic, key, event), in the order sent."""

    async def publish(self, spec: TopicSpec, key: str, event: Event) -> None:
        self.events.append(event)
        self.sent.append((spec.name, key, event))

    @property
    def decisions(self) -> list[Decision]:
        return [e for e in self.events if isinstance(e, Decision)]

    def audits(self) -> list[AuditRecord]:
        return [plan(d)[1] for d in self.decisions]


def run_web(service: ReviewService, scenario: Callable[[TestClient[Any, Any], str], Awaitable[None]]) -> None:
    async def go() -> None:
        client = TestClient(TestServer(build_app(service)))
        await client.start_server()
        try:
            page = await (await client.get("/login")).text()
            token = re.search(r'name="csrf" value="([^"]+)"', page)
            assert token
            await client.post(
                "/login",
                data={"csrf": token.group(1), "username": "mod", "password": "moderator-password"},
                cookies={"cw_login": token.group(1)},
            )
            queue = await (await client.get("/queue")).text()
            csrf = re.search(r'name="csrf" value="([^"]+)"', queue)
            assert csrf
            await scenario(client, csrf.group(1))
        finally:
            await client.close()

    asyncio.run(go())


SPAM = "Win a free cruise, click the link in my profile now"


def test_a_bulk_decision_on_identical_spam_writes_one_audit_record_per_comment(tmp_path: Path) -> None:
    service = service_in(tmp_path)
    sent = Published()
    service.publish = sent.publish  # type: ignore[method-assign]
    with service.store.transaction():
        for i in range(5):
            variant = SPAM if i % 2 else SPAM.upper() + " !!"
            service.store.put_review_item(item(f"spam{i}", variant, ["5.7.6"], AT + timedelta(minutes=i), post=f"p{i}"))
        service.store.put_review_item(item("other", SPAM.replace("cruise", "car"), ["5.7.6"], AT))
        service.store.put_review_item(item("threat", "I will burn the arena down", ["5.7.8"], AT))

    async def scenario(client: TestClient[Any, Any], csrf: str) -> None:
        page = await (await client.get("/items/r-spam0")).text()
        assert "Apply to 4 identical pending comments" in page
        same = await (await client.get("/queue?same=r-spam0")).text()
        assert sorted(re.findall(r'data-review-id="([^"]+)"', same)) == [f"r-spam{i}" for i in range(5)]
        refused = await client.post(
            "/items/r-spam0/decision",
            data={"csrf": csrf, "decision": "forward", "reason": "council", "identical": "1"},
            allow_redirects=False,
        )
        assert refused.status == 400 and not sent.decisions, "forwarding (5.5) is decided one by one"
        done = await client.post(
            "/items/r-spam0/decision",
            data={"csrf": csrf, "decision": "delete", "reason": "spam run (5.7.6)", "identical": "1"},
            allow_redirects=False,
        )
        assert done.status == 303 and "n=5" in done.headers["Location"]
        flash = await (await client.get(done.headers["Location"])).text()
        assert "for 5 identical comments" in flash
        assert {r.item.review_id for r in service.store.queue(QueueFilter())[0]} == {"r-other", "r-threat"}

    run_web(service, scenario)
    decided = sorted(d.review_id for d in sent.decisions)
    assert decided == [f"r-spam{i}" for i in range(5)], "the near miss and the threat are untouched"
    audits = sent.audits()
    assert len(audits) == 5 and len({a.audit_id for a in audits}) == 5
    assert sorted(a.subject for a in audits) == [f"x:spam{i}" for i in range(5)]
    assert {a.verb for a in audits} == {"decision.delete"} and {a.actor for a in audits} == {"mod"}


def test_without_the_checkbox_only_the_item_is_decided_and_clauses_can_be_corrected(tmp_path: Path) -> None:
    service = service_in(tmp_path)
    sent = Published()
    service.publish = sent.publish  # type: ignore[method-assign]
    with service.store.transaction():
        for i in range(3):
            service.store.put_review_item(item(f"spam{i}", SPAM, ["5.7.6"], AT + timedelta(minutes=i)))

    async def scenario(client: TestClient[Any, Any], csrf: str) -> None:
        r = await client.post(
            "/items/r-spam1/decision",
            data=[
                ("csrf", csrf),
                ("decision", "hide"),
                ("reason", "a threat, not an advert"),
                ("clauses_shown", "1"),
                ("clause", "5.7.8"),
                ("clause", "9.9.9"),  # not a clause of the policy: ignored
            ],
            allow_redirects=False,
        )
        assert r.status == 303

    run_web(service, scenario)
    assert [(d.review_id, d.clauses) for d in sent.decisions] == [("r-spam1", ["5.7.8"])]


# ---- brigading ----

RULE = BrigadingRule(window_minutes=30, baseline_hours=24, factor=5, min_comments=25, min_flagged=8)


def window(comments: int, flagged: int, base: int = 0, base_flagged: int = 0, windows: float = 46.0) -> PostWindow:
    return PostWindow(
        "facebook:p1", comments, flagged, {"5.7.2": flagged, "5.7.7": flagged // 2}, base, base_flagged, windows
    )


@pytest.mark.parametrize(
    ("counts", "signal"),
    [
        (window(60, 2, base=460), "comments"),  # usually 10 per half hour, now 60
        (window(50, 2, base=460), None),  # 50 is not more than 5 x (10 + 1)
        (window(24, 2), None),  # a quiet post: under the minimum of comments
        (window(30, 12, base=460, base_flagged=46), "flags"),  # 1 flag per window usually, now 12
        (window(30, 9, base=460, base_flagged=92), None),  # 9 flags against 2 usually: not 5 x (2 + 1)
        (window(80, 40, base=46, base_flagged=0), "both"),
        (window(20, 7), None),  # 7 flags on a quiet post: under the minimum of flags
        (window(20, 8, windows=0), "flags"),  # a new post with no past: the minimums alone
    ],
)
def test_brigading_is_a_rise_against_the_posts_own_past(counts: PostWindow, signal: str | None) -> None:
    alert = assess(counts, RULE, at=0.0)
    assert (alert.signal if alert else None) == signal
    if alert is not None:
        assert alert.post == "facebook:p1" and alert.clauses[0] == "5.7.2"


def tagged(cid: str, at: datetime, clause: str | None, post: str = "p-arena") -> TaggedComment:
    tags = [TagModel(clause=clause, category=CATEGORY[clause], score=0.9, detector="x@1", spans=[])] if clause else []
    return TaggedComment(
        comment=factories.comment(cid, f"comment {cid}", platform="facebook", post=post, at=at),
        language="en",
        tags=tags,
        flags=[t.category for t in tags],
        action=None,
        routes=[],
        policy="windsor",
    )


def test_brigading_alert_is_logged_counted_and_recorded_once_per_window(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    service = service_in(tmp_path)
    sent = Published()
    service.publish = sent.publish  # type: ignore[method-assign]
    now = AT + timedelta(days=1)
    with service.store.transaction():
        for h in range(24):  # a steady day: 4 comments an hour on the arena post, one on another
            for k in range(4):
                service.store.put_tagged(tagged(f"d{h}-{k}", now - timedelta(hours=h + 1, minutes=k * 10), None))
            service.store.put_tagged(tagged(f"q{h}", now - timedelta(hours=h + 1), None, post="p-quiet"))
        for k in range(40):  # then 40 in twenty minutes, most flagged
            clause = "5.7.2" if k % 3 else "5.7.7"
            service.store.put_tagged(tagged(f"b{k}", now - timedelta(seconds=30 * k), clause if k % 4 else None))
    raised = asyncio.run(service.check_brigading(now.timestamp()))
    assert [(a.post, a.signal) for a in raised] == [("facebook:p-arena", "both")]
    assert raised[0].clauses == ("5.7.2", "5.7.7") and raised[0].comments == 40 and raised[0].flagged == 30
    assert service.metrics.brigading_alerts.labels("both")._value.get() == 1
    records = [e for e in sent.events if isinstance(e, AuditRecord)]
    assert [(r.verb, r.subject) for r in records] == [("alert.brigading", "post:facebook:p-arena")]
    alerts = [(topic, key, e) for topic, key, e in sent.sent if isinstance(e, PostAlert)]
    assert [(topic, key) for topic, key, _ in alerts] == [("analytics.alerts", "facebook:p-arena")]
    published = alerts[0][2]
    assert (published.signal, published.comments, published.flagged) == ("both", 40, 30)
    assert published.clauses == ["5.7.2", "5.7.7"] and published.window_end == now
    assert published.window_end - published.window_start == timedelta(minutes=service.rules.brigading.window_minutes)
    out = logged(capsys, caplog)
    assert "brigading_suspected" in out and "comment b1" not in out and "a1" not in out
    assert asyncio.run(service.check_brigading(now.timestamp() + 60)) == [], "once per post and window"
    assert [a.post for a in service.brigading_alerts(now.timestamp() + 60)] == ["facebook:p-arena"]
    service._brigading["facebook:p-arena"] = replace(raised[0], at=time.time())

    async def scenario(client: TestClient[Any, Any], csrf: str) -> None:
        page = await (await client.get("/queue")).text()
        assert 'data-testid="brigading"' in page and "facebook:p-arena" in page and "5.7.2, 5.7.7" in page

    run_web(service, scenario)


def test_store_counts_a_posts_window_and_its_baseline(tmp_path: Path) -> None:
    store = Store(tmp_path / "view.sqlite3")
    now = AT.timestamp()
    with store.transaction():
        store.put_tagged(tagged("old", AT - timedelta(hours=5), "5.7.2"))
        store.put_tagged(tagged("new1", AT - timedelta(minutes=5), "5.7.2"))
        store.put_tagged(tagged("new2", AT - timedelta(minutes=10), None))
    (w,) = store.post_windows(now, 1800, 24 * 3600, 1)
    assert (w.comments, w.flagged, w.clauses) == (2, 1, {"5.7.2": 1})
    assert (w.baseline_comments, w.baseline_flagged) == (1, 1)
    assert w.baseline_windows == pytest.approx(9.0), "the baseline starts at the post's first comment"
    store.close()


# ---- agreement and training examples ----


def decided(decision: str, flagged: list[str], ticked: list[str] | None, at: datetime = AT) -> Decided:
    return Decided(
        tuple(flagged),
        decision,
        tuple(ticked) if ticked is not None else None,
        at.timestamp(),
    )


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (decided("hide", ["5.7.2"], ["5.7.2"]), {"5.7.2": "confirmed"}),
        (decided("delete", ["5.7.2"], None), {"5.7.2": "confirmed"}),  # recorded before clauses were asked
        (decided("keep", ["5.7.2", "5.7.8"], ["5.7.2", "5.7.8"]), {"5.7.2": "false_alarm", "5.7.8": "false_alarm"}),
        (
            decided("hide", ["5.7.1", "5.7.2"], ["5.7.2", "5.7.8"]),
            {"5.7.1": "false_alarm", "5.7.2": "confirmed", "5.7.8": "added"},
        ),
        (decided("forward", ["5.7.2"], ["5.7.2"]), {}),
        (decided("escalate", ["5.7.8"], ["5.7.8"]), {}),
    ],
)
def test_a_decision_is_a_verdict_per_clause(d: Decided, expected: dict[str, str]) -> None:
    assert verdicts(d) == expected


def decision(cid: str, kind: str, clauses: list[str], at: datetime) -> Decision:
    return Decision(
        decision_id=f"d-{cid}-{kind}",
        review_id=f"r-{cid}",
        platform="x",
        comment_id=cid,
        post_id="p1",
        decision=kind,  # type: ignore[arg-type]
        clauses=clauses,
        reason="r",
        moderator="mod",
        decided_at=at,
    )


def test_agreement_page_and_gauges_count_per_clause_and_week(tmp_path: Path) -> None:
    service = service_in(tmp_path)
    now = datetime.now(UTC)
    last_week = now - timedelta(days=7)
    with service.store.transaction():
        cases = [
            ("p1", ["5.7.2"], "hide", ["5.7.2"], now),
            ("p2", ["5.7.2"], "keep", ["5.7.2"], now),
            ("p3", ["5.7.2"], "delete", ["5.7.2", "5.7.8"], now),
            ("p4", ["5.7.1"], "keep", ["5.7.1"], now),
            ("p5", ["5.7.2"], "hide", ["5.7.2"], last_week - timedelta(hours=1)),
            ("p6", ["5.7.6"], "forward", ["5.7.6"], now),
        ]
        for cid, flagged, kind, ticked, at in cases:
            service.store.put_review_item(item(cid, f"text of {cid}", flagged, at - timedelta(minutes=5)))
            service.store.put_decision(decision(cid, kind, ticked, at))
        # A later decision replaces an earlier one on the same item.
        service.store.put_decision(decision("p2", "hide", ["5.7.2"], now + timedelta(seconds=1)))
    result = agreement(service.store.decided(0))
    totals = result.totals()
    assert (totals["5.7.2"].confirmed, totals["5.7.2"].false_alarm) == (4, 0)
    assert (totals["5.7.1"].confirmed, totals["5.7.1"].false_alarm) == (0, 1)
    assert totals["5.7.8"].added == 1 and result.most_added() == [("5.7.8", 1)]
    assert "5.7.6" not in totals, "forwarding judges no flag"
    assert len({r.week for r in result.rows}) == 2
    service.measure_agreement(time.time() + 2)
    assert service.metrics.agreement.labels("5.7.2", "confirmed")._value.get() == 3, "last 7 days only"
    assert service.metrics.agreement.labels("5.7.1", "false_alarm")._value.get() == 1

    async def scenario(client: TestClient[Any, Any], csrf: str) -> None:
        page = await (await client.get("/agreement")).text()
        assert 'data-clause="5.7.2"' in page and "Clauses moderators add most: 5.7.8 (1)" in page
        assert "text of p1" not in page

    run_web(service, scenario)


def test_agreement_is_published_per_clause_and_week_whole_then_only_what_changed(tmp_path: Path) -> None:
    service = service_in(tmp_path)
    sent = Published()
    service.publish = sent.publish  # type: ignore[method-assign]
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)  # a Thursday of ISO week 2026-W49
    monday = datetime(2026, 11, 30, tzinfo=UTC)
    with service.store.transaction():
        for cid, flagged, kind, ticked, at in [
            ("a1", ["5.7.2"], "hide", ["5.7.2"], now),
            ("a2", ["5.7.2"], "keep", ["5.7.2"], now),
            ("a3", ["5.7.2"], "delete", ["5.7.2", "5.7.8"], monday + timedelta(minutes=1)),
            ("a4", ["5.7.2"], "hide", ["5.7.2"], monday - timedelta(minutes=1)),  # the week before
            ("a5", ["5.7.7"], "hide", ["5.7.7"], monday - timedelta(weeks=2)),  # outside two weeks
        ]:
            service.store.put_review_item(item(cid, f"text of {cid}", flagged, at - timedelta(minutes=5)))
            service.store.put_decision(decision(cid, kind, ticked, at))
    assert asyncio.run(service.publish_agreement(now.timestamp(), weeks=2)) == 3
    by_key = {key: e for topic, key, e in sent.sent if topic == "analytics.aggregates"}
    assert set(by_key) == {
        "week:2026-W49:agreement:5.7.2",
        "week:2026-W49:agreement:5.7.8",
        "week:2026-W48:agreement:5.7.2",
    }
    this_week = by_key["week:2026-W49:agreement:5.7.2"]
    assert isinstance(this_week, Aggregate) and this_week.dimension == "agreement" and this_week.window == "week"
    assert (this_week.confirmed, this_week.false_alarms, this_week.added, this_week.flagged) == (2, 1, 0, 3)
    assert (this_week.window_start, this_week.window_end) == (monday, monday + timedelta(weeks=1))
    added = by_key["week:2026-W49:agreement:5.7.8"]
    assert (added.added, added.flagged, added.comments) == (1, 0, 1)
    assert by_key["week:2026-W48:agreement:5.7.2"].confirmed == 1
    assert "text of" not in " ".join(e.model_dump_json() for _, _, e in sent.sent)

    assert asyncio.run(service.publish_agreement(now.timestamp(), weeks=2)) == 0, "nothing changed"
    with service.store.transaction():
        service.store.put_review_item(item("a6", "text of a6", ["5.7.2"], now))
        service.store.put_decision(decision("a6", "keep", ["5.7.2"], now + timedelta(minutes=1)))
    assert asyncio.run(service.publish_agreement(now.timestamp(), weeks=2)) == 1
    latest = sent.sent[-1]
    assert latest[1] == "week:2026-W49:agreement:5.7.2" and isinstance(latest[2], Aggregate)
    assert latest[2].false_alarms == 2


def test_a_housekeeping_tick_reads_the_decisions_once_for_gauges_and_records(tmp_path: Path) -> None:
    service = service_in(tmp_path)
    sent = Published()
    service.publish = sent.publish  # type: ignore[method-assign]
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    with service.store.transaction():
        for cid, kind, at in [
            ("h1", "hide", now),
            ("h2", "keep", now - timedelta(days=3)),
            ("h3", "hide", now - timedelta(days=10)),  # in the published weeks, not in the 7-day gauges
        ]:
            service.store.put_review_item(item(cid, f"text of {cid}", ["5.7.2"], at - timedelta(minutes=5)))
            service.store.put_decision(decision(cid, kind, ["5.7.2"], at))
    reads = []
    read = service.store.decided
    service.store.decided = lambda since, items=False: reads.append(since) or read(since, items)  # type: ignore[method-assign]
    asyncio.run(service.housekeeping_tick(now.timestamp()))
    assert len(reads) == 1
    gauge = service.metrics.agreement.labels
    assert (gauge("5.7.2", "confirmed")._value.get(), gauge("5.7.2", "false_alarm")._value.get()) == (1, 1)
    published = {key: e for topic, key, e in sent.sent if topic == "analytics.aggregates"}
    assert sum(e.confirmed for e in published.values()) == 2 and sum(e.false_alarms for e in published.values()) == 1


def test_decisions_export_as_redacted_training_examples(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from review.main import cli

    store = Store(tmp_path / "view.sqlite3")
    now = datetime.now(UTC)
    phone = "519 555 0199"
    private = item("priv", f"His cell is {phone} and he is a crook", ["5.7.2", "5.7.9"], now)
    with store.transaction():
        store.put_review_item(private)
        store.put_decision(decision("priv", "delete", ["5.7.2", "5.7.9"], now))
        store.put_review_item(item("fwd", "Tell the mayor hello", ["5.7.2"], now))
        store.put_decision(decision("fwd", "forward", ["5.7.2"], now))
        store.put_review_item(item("kept", "this is a damn good idea", ["5.7.2"], now))
        store.put_decision(decision("kept", "keep", ["5.7.2"], now))
    store.close()
    out = tmp_path / "export" / "decisions.jsonl"
    result = CliRunner().invoke(
        cli(), ["export-decisions", "--out", str(out)], env={"CIVICWATCH_REVIEW_DB": str(tmp_path / "view.sqlite3")}
    )
    assert result.exit_code == 0, result.output
    assert "2 examples" in result.output and phone not in result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    by_decision = {r["decision"]: r for r in rows}
    assert set(by_decision) == {"delete", "keep"}, "forwarding teaches nothing about a flag"
    deleted = by_decision["delete"]
    assert phone not in deleted["text"] and "crook" in deleted["text"] and "<" in deleted["text"]
    assert deleted["verdicts"] == {"5.7.2": "confirmed", "5.7.9": "confirmed"}
    assert by_decision["keep"]["verdicts"] == {"5.7.2": "false_alarm"}
    assert not {"author_id", "comment_id", "post_id", "author_handle", "url"} & set(deleted)
    dumped = json.dumps(rows)
    assert '"a1"' not in dumped and "r-priv" not in dumped and "x:priv" not in dumped, "nothing identifies anyone"


def test_a_view_from_before_the_urgent_queue_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "view.sqlite3"
    store = Store(path)
    with store.transaction():
        store.put_review_item(item("off", "Parking downtown is hard", ["5.7.1"], AT - timedelta(hours=1), score=0.6))
        store.put_review_item(item("threat", "I will burn the arena down", ["5.7.8"], AT, score=0.8))
        store.put_tagged(tagged("t1", AT, "5.7.2"))
        store.put_decision(decision("off", "keep", ["5.7.1"], AT))
    store.close()
    old = sqlite3.connect(path)
    for index in ("review_items_text", "review_items_urgent", "review_items_due"):
        old.execute(f"DROP INDEX {index}")
    for table, column in (
        ("review_items", "score"),
        ("review_items", "text_key"),
        ("review_items", "severity"),
        ("review_items", "due_at"),
        ("decisions", "clauses"),
        ("comments", "flags"),
    ):
        old.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    old.commit()
    old.close()
    service = service_in(tmp_path)
    row = service.store.item("r-threat")
    assert row is not None and row.severity == 1 and row.target_s == 1800
    assert service.store.db.execute("SELECT score FROM review_items WHERE review_id = 'r-threat'").fetchone()[0] == 0.8
    assert service.store.post_windows(AT.timestamp() + 1, 1800, 3600, 1)[0].clauses == {"5.7.2": 1}
    assert [d.clauses for d in service.store.decided(0)] == [None], "an old decision's clauses are unknown"
    assert (
        text_key("Parking downtown is hard")
        == service.store.db.execute("SELECT text_key FROM review_items WHERE review_id = 'r-off'").fetchone()[0]
    )
    service.store.close()


def test_the_item_page_names_the_model_version_that_decided(tmp_path: Path) -> None:
    service = service_in(tmp_path)
    tagged = item("m1", "Vote them all out in the federal election", ["5.7.7"], AT)
    tag = tagged.tags[0].model_copy(update={"detector": "political@1+linear.20261204T160250Z-b80fa43a"})
    with service.store.transaction():
        service.store.put_review_item(tagged.model_copy(update={"tags": [tag]}))
        service.store.put_review_item(item("r1", "Go Leafs go", ["5.7.1"], AT))

    async def scenario(client: TestClient[Any, Any], csrf: str) -> None:
        page = await (await client.get("/items/r-m1")).text()
        assert "political@1 · " in page
        assert '<span data-testid="model-version">model 20261204T160250Z-b80fa43a</span>' in page
        rules_only = await (await client.get("/items/r-r1")).text()
        assert "offtopic@1" in rules_only and "model-version" not in rules_only

    run_web(service, scenario)
