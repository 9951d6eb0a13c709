"""The review service's and analytics' pure parts, without a broker: passwords and users, inert
rendering and redaction, policy quotes, the SQLite view, alerts, charts, perception, topics and
the analysts' report."""

from __future__ import annotations

import os
import stat
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from pipelines.policy import load_policy
from review import UsersFileError
from review.auth import LoginThrottle, UserDirectory, add_user, hash_password, parse_users, verify_password
from review.charts import horizontal_bars, stacked_columns
from review.render import PolicyText, inert, redacted_snippet, show
from review.report import combine, to_csv, top
from review.store import QueueFilter, Store
from schemas import Aggregate, AuditRecord, Decision, ReviewItem, SpanModel, TaggedComment, TagModel
from tests import factories
from workers.analytics.counts import add, dimension_keys, observe, to_aggregate
from workers.analytics.perception import classify, score
from workers.analytics.topics import topics_of

AT = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


comment = partial(factories.comment, handle="someone", at=AT)


def tag(clause: str, category: str, spans: list[tuple[int, int, str]]) -> TagModel:
    return TagModel(
        clause=clause,
        category=category,
        score=0.9,
        detector=f"{category}@1",
        spans=[SpanModel(start=a, end=b, label=label) for a, b, label in spans],
    )


def item(cid: str, text: str, clauses: list[str], tags: list[TagModel], at: datetime = AT, **kw: str) -> ReviewItem:
    return ReviewItem(
        review_id=f"r-{cid}",
        comment=comment(cid, text, **kw),
        tags=tags,
        flags=[t.category for t in tags],
        clauses=clauses,
        action="review",
        created_at=at,
    )


# ---- passwords and users ----


def test_password_hash_round_trip_and_salt() -> None:
    first, second = hash_password("a long passphrase", n=2**10), hash_password("a long passphrase", n=2**10)
    assert first != second and first.startswith("scrypt$1024$8$1$")
    assert verify_password("a long passphrase", first)
    assert not verify_password("a long passphrasE", first)
    assert not verify_password("anything", "plaintext") and not verify_password("x", "scrypt$1$2$3$!!$??")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("users: {bob: {role: moderator, password: hunter2hunter2}}", "plaintext"),
        ("users: {bob: {role: owner, password_hash: 'scrypt$1$1$1$a$b'}}", "role"),
        ("users: {Bob!: {role: analyst, password_hash: 'scrypt$1$1$1$a$b'}}", "names"),
        ("users: {bob: {role: analyst, password_hash: 'md5$abc'}}", "scrypt"),
        ("users: [bob]", "mapping"),
        ("users: {bob: [", "YAML"),
    ],
)
def test_users_file_errors_name_the_problem(text: str, problem: str) -> None:
    with pytest.raises(UsersFileError, match=problem):
        parse_users(text, "users.yaml")


def test_add_user_keeps_hashes_only_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "review" / "users.yaml"
    add_user(path, "mod", "moderator", "moderator-password")
    add_user(path, "ana", "analyst", "analyst-password")
    text = path.read_text()
    assert "moderator-password" not in text and text.count("scrypt$") == 2
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    users = UserDirectory(path)
    assert users.authenticate("mod", "moderator-password") is not None
    assert users.authenticate("mod", "analyst-password") is None
    assert users.authenticate("nobody", "moderator-password") is None
    with pytest.raises(UsersFileError, match="12 characters"):
        add_user(path, "short", "admin", "tooshort")
    with pytest.raises(UsersFileError, match="cannot read"):
        UserDirectory(tmp_path / "missing.yaml")


def test_unknown_names_cost_what_known_names_cost(tmp_path: Path) -> None:
    """Signing in as an unknown name must take as long as a wrong password for a real one."""
    add_user(tmp_path / "users.yaml", "mod", "moderator", "moderator-password")
    users = UserDirectory(tmp_path / "users.yaml")
    users.authenticate("nobody", "warm-up")

    def seconds(name: str) -> float:
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            assert users.authenticate(name, "not-the-password") is None
            best = min(best, time.perf_counter() - started)
        return best

    known, unknown = seconds("mod"), seconds("nobody")
    assert 0.7 < unknown / known < 1.4, f"known {known * 1000:.0f} ms, unknown {unknown * 1000:.0f} ms"


def test_passwords_use_the_owasp_cost_and_old_hashes_are_upgraded_at_sign_in(tmp_path: Path) -> None:
    path = tmp_path / "users.yaml"
    add_user(path, "mod", "moderator", "moderator-password")
    assert "scrypt$131072$8$1$" in path.read_text(), "N=2^17, r=8, p=1"
    cheap = hash_password("analyst-password", n=2**14)
    path.write_text(path.read_text() + f"  ana:\n    role: analyst\n    password_hash: {cheap}\n")
    users = UserDirectory(path)
    assert users.authenticate("ana", "wrong-password") is None and cheap in path.read_text()
    user = users.authenticate("ana", "analyst-password")
    assert user is not None and user.password_hash.startswith("scrypt$131072$8$1$")
    assert cheap not in path.read_text() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert UserDirectory(path).authenticate("ana", "analyst-password") is not None


def test_login_throttle_locks_a_name_from_one_address_after_five_failures() -> None:
    throttle = LoginThrottle(limit=5, window=900, address_limit=20)
    for i in range(5):
        assert throttle.attempt("mod", "203.0.113.9", now=float(i)) is not None
    assert throttle.attempt("mod", "203.0.113.9", now=10.0) is None
    assert throttle.attempt("mod", "198.51.100.7", now=10.0) is not None, "no lock-out from elsewhere"
    assert throttle.attempt("ana", "203.0.113.9", now=10.0) is not None
    assert throttle.attempt("mod", "203.0.113.9", now=1000.0) is not None, "the lock expires"


def test_login_throttle_forgives_a_right_password_and_locks_a_spraying_address() -> None:
    throttle = LoginThrottle(limit=5, window=900, address_limit=20)
    for i in range(10):
        stamp = throttle.attempt("mod", "192.0.2.1", now=float(i))
        assert stamp is not None
        throttle.succeeded("mod", "192.0.2.1", stamp)
    assert not throttle.locked("mod", "192.0.2.1", now=20.0), "successful sign-ins are not failures"
    for i in range(20):
        assert throttle.attempt(f"name{i}", "192.0.2.66", now=30.0 + i) is not None
    assert throttle.attempt("someone-else", "192.0.2.66", now=60.0) is None, "one address, many names"


def test_login_throttle_memory_is_bounded() -> None:
    throttle = LoginThrottle(limit=5, window=900, max_keys=100)
    for i in range(5000):
        throttle.attempt(f"guess{i}", f"10.0.{i // 250}.{i % 250}", now=float(i % 800))
    assert len(throttle) <= 100
    assert throttle.attempt("late", "10.9.9.9", now=5000.0) is not None
    assert len(throttle) <= 3, "expired failures are forgotten"


# ---- inert rendering and redaction ----


def test_markup_is_escaped_and_hidden_characters_are_shown() -> None:
    out = str(inert('<script>alert("x")</script>\u202egnp.exe\u200b\x07 ok\nnext'))
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "\u202e" not in out and "U+202E" in out and "U+200B" in out and "U+0007" in out
    assert "\n" in out, "line breaks stay"


@pytest.mark.parametrize(
    ("reveal", "expected"),
    [
        (False, [("Call ", "plain"), ("<PHONE>", "redacted"), (" you ", "plain"), ("bastard", "evidence")]),
        (True, [("Call ", "plain"), ("519-974-1234", "evidence"), (" you ", "plain"), ("bastard", "evidence")]),
    ],
)
def test_evidence_and_private_information_segments(reveal: bool, expected: list[tuple[str, str]]) -> None:
    text = "Call 519-974-1234 you bastard"
    tags = [tag("5.7.9", "private_info", [(5, 17, "PHONE")]), tag("5.7.2", "profane", [(22, 29, "PROFANITY")])]
    shown = show(text, tags, reveal_private=reveal)
    assert [(s.text, s.kind) for s in shown.segments] == expected
    assert shown.redacted == (0 if reveal else 1)


def test_private_information_below_the_threshold_is_still_redacted() -> None:
    text = "write to jane.roe@example.org about it"
    shown = show(text, [], reveal_private=False)
    assert "jane.roe" not in "".join(s.text for s in shown.segments)
    assert redacted_snippet(text, []) == "write to <EMAIL> about it"


def test_enormous_text_is_cut_and_counted() -> None:
    shown = show("x" * 50_000, [tag("5.7.2", "profane", [(49_990, 49_995, "P")])], reveal_private=False, limit=1000)
    assert sum(len(s.text) for s in shown.segments) == 1000 and shown.hidden_chars == 49_000
    assert redacted_snippet("y" * 400, []).endswith("…")


def test_policy_quotes_with_parent_clause_and_fallback(tmp_path: Path) -> None:
    doc = tmp_path / "policy.txt"
    doc.write_text(
        "5.7** Comments containing any of the following shall not be allowed\n"
        " - 5.7.2** Profane language or content.\n\n"
        "5.5** If residents make references to the Mayor\nor City Council.\n"
    )
    policy = load_policy()
    quotes = PolicyText(policy, doc)
    assert quotes.quote("5.7.2") == [
        ("5.7", "Comments containing any of the following shall not be allowed"),
        ("5.7.2", "Profane language or content."),
    ]
    assert quotes.quote("5.5") == [("5.5", "If residents make references to the Mayor or City Council.")]
    missing = PolicyText(policy, None)
    missing.clauses = {}
    assert not missing.source_found and missing.quote("5.7.2")[0][1] == "Profane language or content"


# ---- the view ----


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "view.sqlite3")


def test_queue_filters_and_decisions(store: Store) -> None:
    now = AT.timestamp() + 7200
    with store.transaction():
        store.put_review_item(item("1", "abc", ["5.7.2"], [tag("5.7.2", "profane", [])]))
        store.put_review_item(item("2", "def", ["5.7.9"], [tag("5.7.9", "private_info", [])], platform="facebook"))
        store.put_review_item(item("3", "ghi", ["5.7.2", "5.7.7"], [], at=AT + timedelta(minutes=90), post="p2"))
        store.put_review_item(item("1", "abc", ["5.7.2"], []))  # redelivered: ignored
    ids = lambda **kw: [r.item.review_id for r in store.queue(QueueFilter(**kw), now)[0]]  # noqa: E731
    assert ids() == ["r-1", "r-2", "r-3"]
    assert ids(clause="5.7.2") == ["r-1", "r-3"]
    assert ids(platform="facebook") == ["r-2"]
    assert ids(post="x:p2") == ["r-3"]
    assert ids(min_age=3600) == ["r-1", "r-2"] and ids(max_age=3600) == ["r-3"]
    decision = Decision(
        decision_id="d1",
        review_id="r-1",
        platform="x",
        comment_id="1",
        post_id="p1",
        decision="hide",
        clauses=["5.7.2"],
        reason="profane",
        moderator="mod",
    )
    with store.transaction():
        store.put_decision(decision)
        store.put_decision(decision)
        store.put_audit(
            AuditRecord(
                audit_id="au1",
                actor="mod",
                verb="decision.hide",
                subject="x:1",
                details={"review_id": "r-1", "action_id": "act1"},
            )
        )
        store.set_offset("t", 0, 42)
    assert ids() == ["r-2", "r-3"] and ids(status="decided") == ["r-1"]
    decided = store.item("r-1")
    assert decided is not None and decided.decision == "hide" and decided.action_id == "act1"
    assert store.offsets() == {("t", 0): 42}
    assert store.pending_by_clause() == {"5.7.2": 1, "5.7.7": 1, "5.7.9": 1}


def test_a_decision_read_before_its_item_still_applies(store: Store) -> None:
    with store.transaction():
        store.put_decision(
            Decision(
                decision_id="d9",
                review_id="r-9",
                platform="x",
                comment_id="9",
                post_id="p1",
                decision="keep",
                reason="fine",
                moderator="mod",
            )
        )
        store.put_review_item(item("9", "text", ["5.7.1"], []))
    row = store.item("r-9")
    assert row is not None and row.status == "decided" and row.decision == "keep"


def test_author_history_and_retention(store: Store) -> None:
    tagged = [
        TaggedComment(
            comment=comment(f"h{i}", f"comment {i}", author="a7"),
            language="en",
            tags=[],
            flags=[],
            action=None,
            routes=["tagged"],
            policy="windsor",
        )
        for i in range(3)
    ]
    with store.transaction():
        for t in tagged:
            store.put_tagged(t)
    history = store.history("x:a7", "x:h0", since=0)
    assert sorted(t.comment.comment_id for t, _ in history) == ["h1", "h2"]
    with store.transaction():
        assert store.prune_comments(AT.timestamp() + 1) == 3
    assert store.history("x:a7", "", since=0) == []


def test_rebuild_forgets_the_view_but_not_the_sessions(store: Store) -> None:
    with store.transaction():
        store.put_review_item(item("1", "abc", ["5.7.2"], []))
        store.create_session("h", "mod", "moderator", "csrf", AT.timestamp() + 10**10)
    store.rebuild()
    assert store.item("r-1") is None and store.session("h", AT.timestamp()) is not None


def test_overdue_items_alert_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from review.service import ReviewService
    from runtime.settings import Settings

    add_user(tmp_path / "users.yaml", "mod", "moderator", "moderator-password")
    settings = Settings(
        review_db=tmp_path / "view.sqlite3", review_users=tmp_path / "users.yaml", review_alert_after_minutes=60
    )
    service = ReviewService(settings)
    with service.store.transaction():
        service.store.put_review_item(item("old", "abc", ["5.7.2"], []))
        service.store.put_review_item(item("new", "abc", ["5.7.2"], [], at=AT + timedelta(hours=2)))
    now = AT.timestamp() + 2.5 * 3600
    assert service.check_queue(now) == 1
    assert service.check_queue(now) == 1
    assert service.metrics.overdue_alerts.labels("5.7.2")._value.get() == 1, "alerted once per item"
    assert service.metrics.pending._value.get() == 2
    service.store.close()


# ---- charts ----


def test_charts_scale_and_handle_no_data() -> None:
    chart = stacked_columns(["a", "b", "c"], {"5.7.2": [1, 0, 3], "5.7.9": [2, 0, 1]})
    assert len(chart.bars) == 4 and [name for name, _ in chart.legend] == ["5.7.2", "5.7.9"]
    tallest = max(b.height for b in chart.bars if b.title.startswith("c: 5.7.2"))
    assert tallest > 0 and all(b.y >= 0 for b in chart.bars)
    assert stacked_columns(["a"], {"5.7.2": [0]}).empty and horizontal_bars([]).empty
    assert len(horizontal_bars([("x", 3), ("facebook", 1)]).bars) == 2


# ---- analytics ----


@pytest.mark.parametrize(
    ("text", "language", "perception"),
    [
        ("Great job, thank you crews!", "en", "positive"),
        ("This is a disgrace and a waste of money", "en", "negative"),
        ("The bins go out on Monday", "en", "neutral"),
        ("Merci, excellent travail des équipes!", "fr", "positive"),
        ("C'est vraiment nul, quelle honte", "fr", "negative"),
        ("Ce n'est pas mauvais du tout", "fr", "positive"),
        ("Ce n'est pas bon", "fr", "negative"),
        ("La collecte est lundi", "fr", "neutral"),
    ],
)
def test_perception(text: str, language: str, perception: str) -> None:
    value = score(text, language)
    assert value is not None and classify(value) == perception


def test_perception_is_not_guessed_for_other_languages() -> None:
    assert score("Muy buen trabajo", "es") is None


@pytest.mark.parametrize(
    ("text", "topics"),
    [
        ("The plows skipped my street again", ("snow_clearing", "roads_traffic")),
        ("Le déneigement est très lent", ("snow_clearing",)),
        ("When is recycling pickup?", ("waste_collection",)),
        ("Nice weather today", ("other",)),
        ("snowboarding is fun", ("other",)),
    ],
)
def test_topics(text: str, topics: tuple[str, ...]) -> None:
    assert topics_of(text) == topics


def test_observation_keeps_nothing_personal_and_counts_add_up() -> None:
    text = "Call Jane at 519-974-1234, the plows are shit"
    tagged = TaggedComment(
        comment=comment("c1", text, author="secret-author"),
        language="en",
        tags=[tag("5.7.2", "profane", [(40, 44, "P")]), tag("5.7.9", "private_info", [(13, 25, "PHONE")])],
        flags=["profane", "private_info"],
        action="auto_hide",
        routes=["tagged", "review"],
        policy="windsor",
    )
    obs = observe(tagged)
    assert "secret-author" not in repr(obs) and "519" not in repr(obs) and "Jane" not in repr(obs)
    assert obs.clauses == ("5.7.2", "5.7.9") and obs.flagged and obs.post == "x:p1"
    keys = dimension_keys(obs)
    assert ("clause", "5.7.9") in keys and ("topic", "snow_clearing") in keys and ("platform", "x") in keys
    counts = add(add({}, obs), obs)
    aggregate = to_aggregate("hour", AT.replace(minute=0), "all", "all", 2, counts)
    assert aggregate.comments == 2 and aggregate.flagged == 2 and aggregate.by_clause == {"5.7.2": 2, "5.7.9": 2}
    assert aggregate.sentiment_count == 2 and aggregate.window_end - aggregate.window_start == timedelta(hours=1)


def test_report_sums_shards_weights_perception_and_guards_csv() -> None:
    start = AT.replace(hour=0, minute=0)

    def agg(shard: int, key: str, comments: int, flagged: int, mean: float, scored: int) -> Aggregate:
        return Aggregate(
            window="day",
            window_start=start,
            window_end=start + timedelta(days=1),
            dimension="post",
            key=key,
            comments=comments,
            flagged=flagged,
            by_clause={"5.7.2": flagged},
            sentiment_mean=mean,
            sentiment_count=scored,
            shard=shard,
        )

    totals = combine([agg(0, "x:a", 3, 1, 0.5, 2), agg(1, "x:a", 1, 1, -1.0, 1), agg(0, "=cmd|x", 1, 0, 0.0, 0)])
    a = next(t for t in totals if t.key == "x:a")
    assert (a.comments, a.flagged, a.by_clause) == (4, 2, {"5.7.2": 2})
    assert a.sentiment_mean == pytest.approx(0.0)
    assert [t.key for t in top(totals, "post")] == ["x:a", "=cmd|x"]
    assert [t.key for t in top(totals, "post", by="flagged")] == ["x:a"]
    csv = to_csv(totals)
    assert ",'=cmd|x," in csv and ",=cmd" not in csv, "formula cells are neutralised"

    week = [
        Aggregate(
            window="week",
            window_start=start,
            window_end=start + timedelta(weeks=1),
            dimension="agreement",
            key="5.7.2",
            comments=n,
            flagged=c + f,
            confirmed=c,
            false_alarms=f,
            added=a,
            shard=shard,
        )
        for shard, (n, c, f, a) in enumerate([(5, 3, 1, 1), (2, 1, 1, 0)])
    ]
    header, row = to_csv(combine(week)).splitlines()
    cells = dict(zip(header.split(","), row.split(","), strict=True))
    assert [cells[c] for c in ("dimension", "confirmed", "false_alarms", "added", "flagged")] == [
        "agreement",
        "4",
        "2",
        "1",
        "6",
    ]


def test_escalated_items_keep_their_own_status(store: Store) -> None:
    with store.transaction():
        store.put_review_item(item("e", "abc", ["5.7.8"], []))
        store.put_decision(
            Decision(
                decision_id="d-e",
                review_id="r-e",
                platform="x",
                comment_id="e",
                post_id="p1",
                decision="escalate",
                reason="needs Corporate Communications",
                moderator="mod",
            )
        )
    assert [r.item.review_id for r in store.queue(QueueFilter(status="escalated"))[0]] == ["r-e"]
    assert store.queue(QueueFilter(status="pending"))[1] == 0


def test_pages_without_kafka_sessions_follow_the_users_file(tmp_path: Path) -> None:
    """The web layer on its own (Kafka unreachable): a session ends when its user's role changes,
    and pages still carry the security headers."""
    import asyncio
    import re

    from aiohttp.test_utils import TestClient, TestServer

    from review.service import ReviewService
    from review.web import build_app
    from runtime.settings import Settings

    users = tmp_path / "users.yaml"
    add_user(users, "mod", "moderator", "moderator-password")
    settings = Settings(bootstrap_servers="127.0.0.1:1", review_db=tmp_path / "view.sqlite3", review_users=users)

    async def scenario() -> None:
        client = TestClient(TestServer(build_app(ReviewService(settings))))
        await client.start_server()
        try:
            page = await (await client.get("/login")).text()
            token = re.search(r'name="csrf" value="([^"]+)"', page)
            assert token
            signed_in = await client.post(
                "/login",
                data={"csrf": token.group(1), "username": "mod", "password": "moderator-password"},
                allow_redirects=False,
            )
            assert signed_in.status == 303 and signed_in.headers["Location"] == "/queue"
            queue = await client.get("/queue", allow_redirects=False)
            assert queue.status == 200
            assert "frame-ancestors 'none'" in queue.headers["Content-Security-Policy"]
            assert queue.headers["X-Content-Type-Options"] == "nosniff"
            health = await client.get("/health")
            assert health.status == 503 and (await health.json())["producer"] == "connecting"
            add_user(users, "mod", "analyst", "moderator-password")
            later = await client.get("/queue", allow_redirects=False)
            assert later.status == 303 and later.headers["Location"].startswith("/login")
        finally:
            await client.close()

    asyncio.run(scenario())


def test_the_view_and_its_wal_and_shm_files_are_private(tmp_path: Path) -> None:
    """The write-ahead log holds the same comments as the database: it gets the same mode."""
    old = os.umask(0o022)
    try:
        store = Store(tmp_path / "review" / "view.sqlite3")
        with store.transaction():
            store.put_review_item(item("p1", "Call 519-555-0142 about it", ["5.7.9"], []))
        files = sorted((tmp_path / "review").iterdir())
        assert {f.name for f in files} >= {"view.sqlite3", "view.sqlite3-wal", "view.sqlite3-shm"}
        assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {f.name: 0o600 for f in files}
        assert stat.S_IMODE((tmp_path / "review").stat().st_mode) == 0o700
        store.close()
    finally:
        os.umask(old)


@pytest.mark.parametrize("deletion_first", [False, True])
def test_a_deleted_comment_leaves_the_queue_and_its_text_the_view(store: Store, deletion_first: bool) -> None:
    """Whichever topic is read first, a moderator never sees or acts on the text of a deleted comment."""
    gone = TaggedComment(
        comment=comment("7", "", deleted=True),
        language="und",
        tags=[],
        flags=["deleted"],
        action=None,
        routes=[],
        policy="windsor",
    )
    pending = item("7", "call me at 519 555 0100", ["5.7.9"], [])
    with store.transaction():
        for put in ([lambda: store.put_tagged(gone), lambda: store.put_review_item(pending)])[
            :: -1 if not deletion_first else 1
        ]:
            put()
        store.put_review_item(item("8", "still here", ["5.7.2"], []))
    row = store.item("r-7")
    assert row is not None and row.status == "deleted" and row.item.comment.text == ""
    assert row.item.comment.deleted
    assert [r.item.review_id for r in store.queue(QueueFilter(), AT.timestamp())[0]] == ["r-8"]
    assert [r.item.review_id for r in store.queue(QueueFilter(status="deleted"), AT.timestamp())[0]] == ["r-7"]


def test_a_deleted_items_page_says_so_and_refuses_a_decision(tmp_path: Path) -> None:
    """The item page of a comment deleted on the platform shows no decision form, and a posted decision is refused."""
    import asyncio
    import re

    from aiohttp.test_utils import TestClient, TestServer

    from review.service import ReviewService
    from review.web import build_app
    from runtime.settings import Settings

    users = tmp_path / "users.yaml"
    add_user(users, "mod", "moderator", "moderator-password")
    settings = Settings(bootstrap_servers="127.0.0.1:1", review_db=tmp_path / "view.sqlite3", review_users=users)
    service = ReviewService(settings)
    gone = TaggedComment(
        comment=comment("7", "", deleted=True),
        language="und",
        tags=[],
        flags=["deleted"],
        action=None,
        routes=[],
        policy="windsor",
    )
    with service.store.transaction():
        service.store.put_review_item(item("7", "call me at 519 555 0100", ["5.7.9"], []))
        service.store.put_tagged(gone)

    async def scenario() -> None:
        client = TestClient(TestServer(build_app(service)))
        await client.start_server()
        try:
            page = await (await client.get("/login")).text()
            token = re.search(r'name="csrf" value="([^"]+)"', page)
            assert token
            await client.post(
                "/login", data={"csrf": token.group(1), "username": "mod", "password": "moderator-password"}
            )
            shown = await (await client.get("/items/r-7")).text()
            assert 'data-testid="deleted"' in shown and 'data-testid="decision-form"' not in shown
            assert "519 555 0100" not in shown
            csrf = re.search(r'name="csrf" value="([^"]+)"', shown)
            form = {"csrf": csrf.group(1) if csrf else "", "decision": "hide", "reason": "private information"}
            refused = await client.post("/items/r-7/decision", data=form, headers={"Origin": str(client.make_url(""))})
            assert refused.status == 409, refused.status
        finally:
            await client.close()

    asyncio.run(scenario())
