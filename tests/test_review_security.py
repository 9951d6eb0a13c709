"""The review service's defences at the HTTP level, without a broker: each test reproduces one
finding of the security review (issue 13) against the real aiohttp application, with the audit log
recorded in memory instead of published."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from review.auth import add_user
from review.service import ReviewService
from review.web import build_app
from runtime.settings import Settings
from schemas import AuditRecord, ReviewItem, SpanModel, TaggedComment, TagModel
from schemas.events import Event
from schemas.topics import TopicSpec
from tests import factories

USERS = {
    "mod": ("moderator", "moderator-password"),
    "ana": ("analyst", "analyst-password"),
    "adm": ("admin", "admin-password-1"),
}


class Stack:
    """The app under test: a client, the service, and what it sent to ``audit.log``."""

    def __init__(self, client: TestClient[Any, Any], service: ReviewService, published: list[Event]) -> None:
        self.client = client
        self.service = service
        self.published = published

    async def login_form(self) -> str:
        page = await (await self.client.get("/login")).text()
        token = re.search(r'name="csrf" value="([^"]+)"', page)
        assert token
        return token.group(1)

    async def login(self, name: str, password: str | None = None, **data: str) -> Any:
        token = await self.login_form()
        form = {"csrf": token, "username": name, "password": password or USERS[name][1], **data}
        # sent explicitly: a Secure cookie would not go back over the test's plain HTTP
        return await self.client.post("/login", data=form, cookies={"cw_login": token}, allow_redirects=False)

    def audits(self, verb: str) -> list[Any]:
        return [e for e in self.published if getattr(e, "verb", None) == verb]


@pytest.fixture(scope="module")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``USERS`` hashed once per module (each hash costs what a log-in costs)."""
    path = tmp_path_factory.mktemp("users") / "users.yaml"
    for name, (role, password) in USERS.items():
        add_user(path, name, role, password)
    return path


@pytest.fixture
def home(tmp_path: Path, users_file: Path) -> Path:
    """A folder for one service: its view and a copy of the users file."""
    shutil.copy(users_file, tmp_path / "users.yaml")
    (tmp_path / "users.yaml").chmod(0o600)
    return tmp_path


def run(
    home: Path,
    scenario: Callable[[Stack], Awaitable[None]],
    publish_fails: bool = False,
    **settings: Any,
) -> None:
    """Run ``scenario`` against a fresh service in ``home`` (see the fixture)."""
    tmp_path = home
    users = home / "users.yaml"
    config = Settings(
        bootstrap_servers="127.0.0.1:1",
        review_db=tmp_path / "view.sqlite3",
        review_users=users,
        **settings,
    )
    published: list[Event] = []

    async def go() -> None:
        from review import PublishError

        service = ReviewService(config)

        async def publish(spec: TopicSpec, key: str, event: Event) -> None:
            if publish_fails:
                raise PublishError("Kafka is not reachable yet")
            published.append(event)

        service.publish = publish  # type: ignore[method-assign]
        client = TestClient(TestServer(build_app(service)))
        await client.start_server()
        try:
            await scenario(Stack(client, service, published))
        finally:
            await client.close()

    asyncio.run(go())


# ---- 1. open redirect after sign-in ----


@pytest.mark.parametrize(
    ("next_", "expected"),
    [
        ("/queue?clause=5.7.2", "/queue?clause=5.7.2"),  # a local page: kept
        ("/items/r-1", "/items/r-1"),
        ("//evil.example", "/queue"),
        ("/\t/evil.example", "/queue"),  # browsers drop tab and newline: //evil.example
        ("/\n/evil.example", "/queue"),
        ("/\r\n/evil.example", "/queue"),
        ("\t//evil.example", "/queue"),
        ("/\\evil.example", "/queue"),
        ("https://evil.example/", "/queue"),
        ("javascript:alert(1)", "/queue"),
        (" //evil.example", "/queue"),
        ("/\x00/evil.example", "/queue"),
    ],
)
def test_sign_in_returns_only_to_a_local_page(home: Path, next_: str, expected: str) -> None:
    async def scenario(stack: Stack) -> None:
        response = await stack.login("mod", next=next_)
        assert response.status == 303
        assert response.headers["Location"] == expected

    run(home, scenario)


# ---- 2. lock-out: concurrency, targeted lock-out ----


def test_concurrent_guesses_cannot_pass_the_lock(home: Path) -> None:
    async def scenario(stack: Stack) -> None:
        token = await stack.login_form()
        form = {"csrf": token, "username": "mod", "password": "not-the-password"}
        answers = await asyncio.gather(
            *(stack.client.post("/login", data=form, allow_redirects=False) for _ in range(20))
        )
        statuses = sorted(a.status for a in answers)
        assert statuses.count(401) == 5 and statuses.count(429) == 15, statuses
        locked = await stack.login("mod")
        assert locked.status == 429, "even the right password waits out the lock from this address"

    run(home, scenario)


def test_a_stranger_cannot_lock_a_moderator_out(home: Path) -> None:
    async def scenario(stack: Stack) -> None:
        stranger = {"X-Forwarded-For": "203.0.113.9"}
        token = await stack.login_form()
        for _ in range(6):
            await stack.client.post(
                "/login",
                data={"csrf": token, "username": "ana", "password": "a-wrong-guess"},
                headers=stranger,
                allow_redirects=False,
            )
        token = await stack.login_form()
        own = await stack.client.post(
            "/login",
            data={"csrf": token, "username": "ana", "password": USERS["ana"][1]},
            headers={"X-Forwarded-For": "198.51.100.7"},
            allow_redirects=False,
        )
        assert own.status == 303, "the analyst signs in from her own address"

    run(home, scenario, review_forwarded_for=True)


# ---- 4. what analysts see ----

AT = datetime.now(UTC) - timedelta(hours=1)
PHONE = "519-555-0142"
HANDLE = "resident_handle_77"


def review_item(cid: str, text: str, author: str = "author-1", url: str | None = None) -> ReviewItem:
    comment = factories.comment(cid, text, author=author, handle=HANDLE, at=AT).model_copy(update={"url": url})
    profane = TagModel(
        clause="5.7.2",
        category="profane",
        score=0.9,
        detector="profane@1",
        spans=[SpanModel(start=0, end=4, label="PROFANITY")],
    )
    return ReviewItem(
        review_id=f"r-{cid}",
        comment=comment,
        tags=[profane],
        flags=["profane"],
        clauses=["5.7.2"],
        action="review",
        created_at=AT,
    )


def test_analysts_see_neither_the_author_nor_private_reasons(home: Path) -> None:
    item = review_item("s1", "Damn these potholes on my street", url=f"https://x.com/{HANDLE}/status/1977")
    reason = f"Hid it: the reply also gave her number {PHONE}"

    async def scenario(stack: Stack) -> None:
        with stack.service.store.transaction():
            stack.service.store.put_review_item(item)
            stack.service.store.put_audit(
                AuditRecord(
                    audit_id="a1",
                    actor="mod",
                    verb="decision.hide",
                    subject=item.comment.key,
                    reason=reason,
                    details={"review_id": item.review_id},
                )
            )
        assert (await stack.login("ana")).status == 303
        page = await (await stack.client.get(f"/items/{item.review_id}")).text()
        api = await (await stack.client.get("/api/queue?status=all")).json()
        assert api["items"] and api["items"][0]["review_id"] == item.review_id
        for shown in (page, json.dumps(api)):
            assert HANDLE not in shown and PHONE not in shown
            assert item.comment.key not in shown and "status/1977" not in shown
        assert "Hid it: the reply also gave her number" in page, "the reason is shown, redacted"
        stack.client.session.cookie_jar.clear()
        assert (await stack.login("mod")).status == 303
        page = await (await stack.client.get(f"/items/{item.review_id}")).text()
        assert "status/1977" in page and PHONE in page, "moderators see the link and the reason"

    run(home, scenario)


# ---- 5. sessions: password reset, Secure cookies, HSTS, idle time-out ----


def test_a_password_reset_ends_the_users_sessions(home: Path) -> None:
    async def scenario(stack: Stack) -> None:
        assert (await stack.login("mod")).status == 303
        assert (await stack.client.get("/queue", allow_redirects=False)).status == 200
        add_user(home / "users.yaml", "mod", "moderator", "a-brand-new-password")
        after = await stack.client.get("/queue", allow_redirects=False)
        assert after.status == 303 and after.headers["Location"].startswith("/login")

    run(home, scenario)


@pytest.mark.parametrize(
    ("settings", "secure"),
    [
        ({"review_host": "0.0.0.0"}, True),  # reachable from elsewhere: behind TLS
        ({"review_host": "0.0.0.0", "review_cookie_secure": False}, False),  # the operator's explicit choice
        ({"review_host": "127.0.0.1"}, False),  # development on loopback (http://127.0.0.1)
        ({"review_host": "127.0.0.1", "review_cookie_secure": True}, True),
    ],
)
def test_cookies_are_secure_and_hsts_is_sent_unless_on_loopback(
    home: Path, settings: dict[str, Any], secure: bool
) -> None:
    async def scenario(stack: Stack) -> None:
        response = await stack.login("mod")
        assert response.status == 303
        cookies = response.headers.getall("Set-Cookie")
        session = next(c for c in cookies if c.startswith("cw_session="))
        assert ("Secure" in session) == secure, session
        assert ("Strict-Transport-Security" in response.headers) == secure
        if secure:
            assert "max-age=31536000" in response.headers["Strict-Transport-Security"]

    run(home, scenario, **settings)


def test_an_idle_session_ends(home: Path) -> None:
    async def scenario(stack: Stack) -> None:
        assert (await stack.login("mod")).status == 303
        for _ in range(3):  # active: each request keeps the session alive beyond the idle time
            await asyncio.sleep(0.8)
            assert (await stack.client.get("/queue", allow_redirects=False)).status == 200
        await asyncio.sleep(2.0)
        idle = await stack.client.get("/queue", allow_redirects=False)
        assert idle.status == 303 and idle.headers["Location"].startswith("/login")

    run(home, scenario, review_idle_minutes=1.5 / 60)


# ---- 6. every view of private information is on record ----


@pytest.mark.parametrize("audit_works", [True, False])
def test_private_text_in_the_authors_history_is_shown_only_once_on_record(home: Path, audit_works: bool) -> None:
    item = review_item("h1", "Damn the noise from the rink every night")
    earlier = factories.comment(
        "h0", f"Call the owner at {PHONE} about it", author="author-1", handle=HANDLE, at=AT - timedelta(hours=2)
    )
    tagged = TaggedComment(comment=earlier, language="en", tags=[], flags=[], action=None, routes=[], policy="windsor")

    async def scenario(stack: Stack) -> None:
        with stack.service.store.transaction():
            stack.service.store.put_review_item(item)
            stack.service.store.put_tagged(tagged)
        assert (await stack.login("mod")).status == 303
        page = await (await stack.client.get(f"/items/{item.review_id}")).text()
        viewed = stack.audits("review.private_viewed")
        if audit_works:
            assert PHONE in page, "a moderator sees the history unredacted"
            assert len(viewed) == 1 and viewed[0].actor == "mod"
            assert earlier.key in viewed[0].details["history"], "the record names the comments shown"
        else:
            assert PHONE not in page and "&lt;PHONE&gt;" in page, "not on record, so not shown"

    run(home, scenario, publish_fails=not audit_works)
