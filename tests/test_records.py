"""Clauses 6.1 and 6.2: access-request exports hold one author's records and nobody else's; records
are kept per the policy file's retention, on the topics and in the review store; the 5.6 post queue."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from civicwatch.cli import app
from civicwatch.records import Export, export_audit, from_store, from_topics, purge_cutoffs, render_html, retention_ms
from pipelines.confidential import PostFinding
from pipelines.policy import DEFAULT_POLICY, PolicyError, load_policy
from review.auth import add_user
from review.store import Store
from runtime.admin import with_retention
from schemas import (
    AuditRecord,
    Comment,
    DeadLetter,
    Decision,
    ModerationAction,
    Post,
    ReviewItem,
    TaggedComment,
    encode,
)
from schemas.topics import ALL_TOPICS, DAY_MS
from tests import factories
from workers.agents.posts import review_item

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def tagged(c: Comment) -> TaggedComment:
    return TaggedComment(comment=c, language="en", tags=[], flags=[], action=None, routes=["tagged"], policy="windsor")


def item(c: Comment, at: datetime) -> ReviewItem:
    return ReviewItem(
        review_id=f"r-{c.comment_id}", comment=c, tags=[], flags=[], clauses=["5.7.2"], action="review", created_at=at
    )


def decision(c: Comment, at: datetime, verdict: str = "hide") -> Decision:
    return Decision(
        decision_id=f"d-{c.comment_id}",
        review_id=f"r-{c.comment_id}",
        platform=c.platform,
        comment_id=c.comment_id,
        post_id=c.post_id,
        decision=verdict,  # type: ignore[arg-type]
        reason="5.7.2",
        moderator="mod",
        decided_at=at,
    )


def audit(subject: str, at: datetime, **details: str) -> AuditRecord:
    return AuditRecord(
        audit_id=f"a-{subject}-{at.timestamp()}", actor="mod", verb="x", subject=subject, at=at, details=details
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "view.sqlite3")
    yield s  # type: ignore[misc]
    s.close()


# ---- retention ----


def test_policy_retention_defaults_agree_with_the_declared_topics() -> None:
    """Topics made without the policy (tests, demos) get the bundled policy's periods all the same."""
    wanted = retention_ms(load_policy())
    for spec in ALL_TOPICS:
        if spec.record is not None:
            assert spec.retention_ms == wanted[spec.record], spec.name
    assert wanted["audit"] == 7 * 365 * DAY_MS


def test_topics_take_the_policy_retention() -> None:
    specs = {s.name: s for s in with_retention(ALL_TOPICS, {"comments": 5 * DAY_MS, "audit": 10 * 365 * DAY_MS})}
    assert specs["comments.raw"].kafka_config()["retention.ms"] == str(5 * DAY_MS)
    assert specs["audit.log"].kafka_config()["retention.ms"] == str(10 * 365 * DAY_MS)
    assert specs["comments.tagged"].retention_ms == 30 * DAY_MS, "a type the map leaves out keeps its own"
    assert "retention.ms" not in specs["posts"].kafka_config()


def test_a_policy_missing_a_record_type_is_refused(tmp_path: Path) -> None:
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    bad = tmp_path / "p.yaml"
    bad.write_text(text.replace("    dead_letters: {keep: 90d", "    dead_letter: {keep: 90d"), encoding="utf-8")
    with pytest.raises(PolicyError, match="retention"):
        load_policy(bad)
    bad.write_text(text.replace("audit: {keep: 7y", "audit: {keep: 7 years"), encoding="utf-8")
    with pytest.raises(PolicyError, match=r"retention\.records\.audit\.keep"):
        load_policy(bad)


def test_store_purges_rows_past_their_retention(store: Store) -> None:
    """Rows of different ages: what is past its type's period goes; an undecided item stays."""
    old, recent = NOW - 400 * DAY, NOW - 10 * DAY
    a_old, a_new = factories.comment("old", "old one", at=old), factories.comment("new", "new one", at=recent)
    waiting = factories.comment("waiting", "still in the queue", at=old)
    post = Post(platform="x", post_id="p1", account="city", text="DRAFT", created_at=old)
    with store.transaction():
        for c in (a_old, a_new, waiting):
            store.put_tagged(tagged(c))
            store.put_review_item(item(c, c.created_at))
        store.put_decision(decision(a_old, old + DAY))
        store.put_decision(decision(a_new, recent + DAY))
        store.put_audit(audit("x:old", old))
        store.put_audit(audit("x:new", recent))
        store.put_audit(audit("x:ancient", NOW - 8 * 365 * DAY))
        flagged = review_item(post, [PostFinding("5.6", "CONFIDENTIAL_TERM", 0, 5, "DRAFT", 1.0)])
        assert flagged is not None
        store.put_post_item(flagged.model_copy(update={"created_at": old}))
    before = {t: (rows, oldest) for t, _, rows, oldest in store.retained()}
    assert before["comments"][0] == 3 and before["audit"] == (3, (NOW - 8 * 365 * DAY).timestamp())
    assert before["review_items"][0] == 2, "the report counts closed items: an open one is not purged"
    with store.transaction():
        deleted = store.purge(purge_cutoffs(load_policy(), NOW.timestamp()))
    assert deleted == {"comments": 2, "review_items": 1, "post_items": 1, "decisions": 1, "audit": 1}
    assert store.item("r-old") is None and store.item("r-new") is not None
    assert store.item("r-waiting") is not None, "an item still waiting for a moderator is kept"
    assert [r[0] for r in store.db.execute("SELECT review_id FROM item_clauses ORDER BY 1")] == ["r-new", "r-waiting"]
    assert [r[0] for r in store.db.execute("SELECT subject FROM audit ORDER BY at")] == ["x:old", "x:new"]
    assert store.post_items() == []
    with store.transaction():
        assert store.purge({}) == {}, "no retention set: nothing goes"


def test_the_review_service_purges_on_its_timer(tmp_path: Path) -> None:
    from review.service import ReviewService
    from runtime.settings import Settings

    add_user(tmp_path / "users.yaml", "mod", "moderator", "moderator-password")
    service = ReviewService(Settings(review_db=tmp_path / "view.sqlite3", review_users=tmp_path / "users.yaml"))
    try:
        with service.store.transaction():
            service.store.put_audit(audit("x:ancient", NOW - 8 * 365 * DAY))
            service.store.put_audit(audit("x:recent", NOW - DAY))
        service.check_queue(NOW.timestamp())
        assert [r[0] for r in service.store.db.execute("SELECT subject FROM audit")] == ["x:recent"]
    finally:
        service.store.close()


# ---- the 5.6 queue ----


def test_a_flagged_post_becomes_a_review_item_of_its_own_kind(store: Store) -> None:
    post = Post(platform="facebook", post_id="p9", account="city", text="Call x4321. DRAFT", created_at=NOW)
    findings = [
        PostFinding("5.6", "STAFF_EXTENSION", 5, 10, "x4321", 1.0),
        PostFinding("5.6", "CONFIDENTIAL_TERM", 12, 17, "DRAFT", 1.0),
    ]
    made = review_item(post, findings)
    assert made is not None and made.clauses == ["5.6"]
    assert [(s.start, s.end, s.label) for s in made.findings[0].spans] == [
        (5, 10, "STAFF_EXTENSION"),
        (12, 17, "CONFIDENTIAL_TERM"),
    ]
    assert review_item(post, []) is None
    assert made.review_id == review_item(post, findings[:1]).review_id, "one item per post text"  # type: ignore[union-attr]
    edited = post.model_copy(update={"text": "Call 311."})
    assert review_item(edited, findings).review_id != made.review_id  # type: ignore[union-attr]
    with store.transaction():
        store.put_post_item(made)
        store.put_post_item(made)
    assert store.post_items() == [made]


# ---- access requests ----


def seed(store: Store) -> None:
    """Author a1 (x) and two others: a2 on x, and a1 on facebook (another person on another platform)."""
    mine = [
        factories.comment("c1", "mine, first", author="a1", at=NOW),
        factories.comment("c2", "mine <b>too</b>", author="a1", at=NOW),
    ]
    theirs = [
        factories.comment("c3", "someone else's", author="a2", at=NOW),
        factories.comment("c4", "same id, other platform", author="a1", platform="facebook", at=NOW),
    ]
    with store.transaction():
        for c in mine + theirs:
            store.put_tagged(tagged(c))
            store.put_review_item(item(c, NOW))
            store.put_decision(decision(c, NOW + DAY))
            store.put_audit(audit(c.key, NOW + DAY))
            store.put_audit(audit("review:r-" + c.comment_id, NOW + DAY))
        store.put_audit(audit("user:mod", NOW))


def test_store_export_holds_the_authors_records_and_no_one_elses(store: Store) -> None:
    seed(store)
    found = store.records_about("x:a1")
    assert sorted(c["comment"]["comment_id"] for c in found["comments"]) == ["c1", "c2"]
    assert sorted(r["item"]["review_id"] for r in found["review_items"]) == ["r-c1", "r-c2"]
    assert sorted(d["decision_id"] for d in found["decisions"]) == ["d-c1", "d-c2"]
    assert sorted(a["subject"] for a in found["audit"]) == ["review:r-c1", "review:r-c2", "x:c1", "x:c2"]
    text = json.dumps(found)
    for other in ("c3", "c4", "a2", "facebook", "user:mod"):
        assert other not in text
    bare = store.records_about("a1")
    assert sorted(c["comment"]["comment_id"] for c in bare["comments"]) == ["c1", "c2", "c4"], (
        "a bare id: every platform"
    )
    with store.transaction():
        store.put_audit(audit("author:a1", NOW))
    assert "author:a1" in [a["subject"] for a in store.records_about("a1")["audit"]], "an earlier bare-id request"
    assert store.records_about("nobody") == {"comments": [], "review_items": [], "decisions": [], "audit": []}


def test_topic_export_filters_by_author_and_comment_keys() -> None:
    mine, theirs = factories.comment("c1", "mine", author="a1"), factories.comment("c3", "theirs", author="a2")
    topics: dict[str, list[tuple[bytes | None, bytes | None]]] = {
        "t.comments.raw": [(c.key.encode(), encode(c)) for c in (mine, theirs)] + [(None, b"not json")],
        "t.comments.tagged": [(c.key.encode(), encode(tagged(c))) for c in (mine, theirs)],
        "t.moderation.review": [(c.key.encode(), encode(item(c, NOW))) for c in (mine, theirs)],
        "t.moderation.decisions": [(c.key.encode(), encode(decision(c, NOW))) for c in (mine, theirs)],
        "t.moderation.actions": [
            (
                c.key.encode(),
                encode(
                    ModerationAction(
                        action_id=f"act-{c.comment_id}",
                        decision_id=f"d-{c.comment_id}",
                        platform=c.platform,
                        comment_id=c.comment_id,
                        post_id=c.post_id,
                        action="hide",
                    )
                ),
            )
            for c in (mine, theirs)
        ],
        "t.audit.log": [
            (None, encode(audit("x:c1", NOW))),
            (None, encode(audit("x:c3", NOW))),
            (None, encode(audit("user:mod", NOW, review_id="r-c1"))),
            (None, encode(audit("author:x:a1", NOW))),
        ],
        "t.comments.deadletter": [
            (
                b"x:c1",
                encode(
                    DeadLetter(
                        dead_letter_id="dl1",
                        stage="s",
                        error="e",
                        reason="r",
                        key="x:c1",
                        payload_b64="",
                        payload_size=0,
                    )
                ),
            ),
            (
                b"x:c3",
                encode(
                    DeadLetter(
                        dead_letter_id="dl3",
                        stage="s",
                        error="e",
                        reason="r",
                        key="x:c3",
                        payload_b64="",
                        payload_size=0,
                    )
                ),
            ),
        ],
    }
    export = Export("x:a1")
    from_topics(export, lambda topic: topics.get(topic, []), prefix="t.")
    assert export.counts() == {
        "kafka:audit.log": 3,
        "kafka:comments.deadletter": 1,
        "kafka:comments.raw": 1,
        "kafka:comments.tagged": 1,
        "kafka:moderation.actions": 1,
        "kafka:moderation.decisions": 1,
        "kafka:moderation.review": 1,
    }
    assert "c3" not in json.dumps(export.records) and "a2" not in json.dumps(export.records)


def test_summary_escapes_what_authors_wrote(store: Store) -> None:
    with store.transaction():
        store.put_tagged(tagged(factories.comment("c1", "<script>alert(1)</script> & more", author="a1")))
    export = Export("x:a1")
    from_store(export, store)
    page = render_html(Export("<img src=x>")) + render_html(export)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "<img" not in page


def test_export_command_writes_both_files_and_audits_itself(tmp_path: Path) -> None:
    db = tmp_path / "view.sqlite3"
    store = Store(db)
    seed(store)
    store.close()
    out = tmp_path / "request"
    result = CliRunner().invoke(
        app,
        [
            "records",
            "export",
            "--author-id",
            "x:a1",
            "--out",
            str(out),
            "--db",
            str(db),
            "--by",
            "clerk",
            "--request-ref",
            "FOI-7",
        ],
    )
    assert result.exit_code == 0, result.output
    (jsonl,) = out.glob("*.jsonl")
    rows = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 2 + 2 + 2 + 4
    assert not any(other in jsonl.read_text(encoding="utf-8") for other in ("c3", "c4", "a2"))
    (page,) = out.glob("*.html")
    assert "mine &lt;b&gt;too&lt;/b&gt;" in page.read_text(encoding="utf-8")
    assert oct(jsonl.stat().st_mode & 0o777) == "0o600"
    store = Store(db)
    try:
        (record,) = [a for a in store.audit_recent() if a.verb == "records.export"]
        assert (record.actor, record.subject, record.details["request_ref"]) == ("clerk", "author:x:a1", "FOI-7")
        assert record.details["counts"]["review_store:comments"] == 2
        assert "mine" not in json.dumps(record.model_dump(mode="json")), "the audit names the export, not its content"
        again = store.records_about("x:a1")["audit"]
        assert any(a["verb"] == "records.export" for a in again), "a later request sees the earlier export"
    finally:
        store.close()


def test_export_audit_record_never_holds_content() -> None:
    export = Export("x:a1")
    export.add("review_store:comments", {"comment": {"text": "private words"}})
    record = export_audit(export, "clerk", [Path("/tmp/out/access-request-1.jsonl")])
    assert "private words" not in json.dumps(record.model_dump(mode="json"))
    assert record.details["files"] == ["access-request-1.jsonl"]


def test_purge_and_retention_commands(tmp_path: Path) -> None:
    db = tmp_path / "view.sqlite3"
    store = Store(db)
    with store.transaction():
        store.put_audit(audit("x:ancient", datetime.now(UTC) - 8 * 365 * DAY))
        store.put_audit(audit("x:recent", datetime.now(UTC) - DAY))
    store.close()
    runner = CliRunner()
    report = runner.invoke(app, ["records", "retention", "--no-cluster", "--db", str(db)])
    assert report.exit_code == 0, report.output
    assert "DEFAULTS, not yet set by the city" in report.output
    assert "audit.log" in report.output and "220752000000 ms (2555 days)" in report.output
    assert "audit               2 rows, oldest" in report.output
    purged = runner.invoke(app, ["records", "purge", "--db", str(db)])
    assert purged.exit_code == 0 and "audit         1 row(s) deleted" in purged.output
    assert runner.invoke(app, ["records", "purge", "--db", str(tmp_path / "none.sqlite3")]).exit_code == 2


@pytest.mark.parametrize(("role", "reveal"), [("moderator", True), ("analyst", False)])
def test_the_posts_page_lists_flagged_posts(tmp_path: Path, role: str, reveal: bool) -> None:
    """Corporate Communications sees each flagged post with its evidence marked; a role that may not
    see private information gets the 5.7.9 span redacted, the 5.6 evidence still marked."""
    import asyncio
    import re

    from aiohttp.test_utils import TestClient, TestServer

    from review.service import ReviewService
    from review.web import build_app
    from runtime.settings import Settings

    users = tmp_path / "users.yaml"
    add_user(users, "staff", role, "staff-password-1")
    settings = Settings(bootstrap_servers="127.0.0.1:1", review_db=tmp_path / "view.sqlite3", review_users=users)
    text = "DRAFT <b>notes</b>: call Dana at 519-973-4821."
    post = Post(platform="x", post_id="p<1>", account="city", text=text, created_at=NOW, url="javascript:alert(1)")
    flagged = review_item(
        post,
        [
            PostFinding("5.6", "CONFIDENTIAL_TERM", 0, 5, "DRAFT", 1.0),
            PostFinding("5.7.9", "PHONE", 33, 45, "519-973-4821", 0.85, "personal: PHONE"),
        ],
    )
    assert flagged is not None and text[33:45] == "519-973-4821"

    async def scenario() -> str:
        service = ReviewService(settings)
        with service.store.transaction():
            service.store.put_post_item(flagged)
        client = TestClient(TestServer(build_app(service)))
        await client.start_server()
        try:
            page = await (await client.get("/login")).text()
            token = re.search(r'name="csrf" value="([^"]+)"', page)
            assert token
            await client.post(
                "/login", data={"csrf": token.group(1), "username": "staff", "password": "staff-password-1"}
            )
            response = await client.get("/posts", allow_redirects=False)
            assert response.status == 200
            return await response.text()
        finally:
            await client.close()

    page = asyncio.run(scenario())
    assert 'title="5.6 confidential">DRAFT</mark>' in page
    assert "&lt;b&gt;notes&lt;/b&gt;" in page and "p&lt;1&gt;" in page and "javascript:" not in page
    assert ("519-973-4821" in page) is reveal
    assert ("&lt;PHONE&gt;" in page) is not reveal


def test_export_writes_nothing_when_the_broker_is_unreachable(tmp_path: Path) -> None:
    db = tmp_path / "view.sqlite3"
    Store(db).close()
    out = tmp_path / "request"
    result = CliRunner().invoke(
        app,
        ["records", "export", "--author-id", "x:a1", "--out", str(out), "--db", str(db), "--broker"],
        env={"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"},
    )
    assert result.exit_code == 2 and "reading the topics" in result.output
    assert not out.exists()


def test_retention_apply_refuses_without_the_cluster(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["records", "retention", "--apply", "--no-cluster", "--db", str(tmp_path / "x")])
    assert result.exit_code == 2 and "--apply needs the cluster" in result.output
