"""The queue by urgency, keyboard shortcuts and bulk decisions in real headless Chromium (Debian's
``chromium`` through Playwright), against the review application served in-process with the view
filled directly and what it publishes kept in memory: no broker needed (issue 16)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.sync_api import Browser, Page, sync_playwright

from review.auth import add_user
from review.service import ReviewService
from review.web import build_app
from runtime.settings import Settings
from schemas import Decision
from schemas.events import Event
from schemas.topics import TopicSpec
from tests.test_review_browser import CHROMIUM, CHROMIUM_ARGS
from tests.test_review_queue import item
from workers.agents.decisions import plan

NOW = datetime.now(UTC)
SPAM = "Cheap watches and pills, message me for the link"


class Served:
    """The review app on a free local port in a thread of its own, and what it published."""

    def __init__(self, service: ReviewService) -> None:
        self.service = service
        self.published: list[Event] = []
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.loop = asyncio.new_event_loop()
        self.runner: web.AppRunner | None = None

        async def publish(spec: TopicSpec, key: str, event: Event) -> None:
            self.published.append(event)

        service.publish = publish  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

        async def up() -> None:
            self.runner = web.AppRunner(build_app(self.service), access_log=None)
            await self.runner.setup()
            await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

        asyncio.run_coroutine_threadsafe(up(), self.loop).result(30)

    def stop(self) -> None:
        if self.runner is not None:
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    @property
    def decisions(self) -> list[Decision]:
        return [e for e in self.published if isinstance(e, Decision)]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home: Path = tmp_path_factory.mktemp("review-queue-browser")
    add_user(home / "users.yaml", "mod", "moderator", "moderator-password-3")
    settings = Settings(
        bootstrap_servers="127.0.0.1:1", review_db=home / "view.sqlite3", review_users=home / "users.yaml"
    )
    service = ReviewService(settings)
    with service.store.transaction():
        for i in range(6):  # off-topic comments waiting for hours
            at = NOW - timedelta(hours=6, minutes=i)
            service.store.put_review_item(item(f"off{i}", f"When does the market open on Sunday {i}", ["5.7.1"], at))
        service.store.put_review_item(
            item("threat", "Someone should put a bomb under city hall", ["5.7.8"], NOW - timedelta(minutes=5))
        )
        for i in range(4):
            at = NOW - timedelta(hours=2, minutes=i)
            service.store.put_review_item(item(f"spam{i}", SPAM, ["5.7.6"], at, post=f"p{i}"))
    app = Served(service)
    app.start()
    yield app
    app.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def sign_in(browser: Browser, served: Served) -> Page:
    page = browser.new_context(viewport={"width": 1320, "height": 900}).new_page()
    page.on("dialog", lambda d: pytest.fail(f"a dialog opened: {d.message}"))
    page.goto(served.url + "/login")
    page.fill("input[name=username]", "mod")
    page.fill("input[name=password]", "moderator-password-3")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=who]")
    return page


def access_key(page: Page, key: str) -> None:
    """Alt+``key`` as a keyboard delivers it to Chromium on Linux: a key-down carrying the key's
    unmodified text, which is what access keys match. (Playwright's ``keyboard.press("Alt+h")``
    drops the text whenever Alt is held, so no access key would ever fire from it.)"""
    cdp = page.context.new_cdp_session(page)
    event = {"modifiers": 1, "key": key, "code": f"Key{key.upper()}", "windowsVirtualKeyCode": ord(key.upper())}
    cdp.send("Input.dispatchKeyEvent", {"type": "keyDown", "unmodifiedText": key, "text": "", **event})
    cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", **event})
    cdp.detach()


def rows(page: Page) -> list[Any]:
    return [r.get_attribute("data-review-id") for r in page.locator("tr[data-review-id]").all()]


def test_the_queue_shows_a_threat_above_older_off_topic_comments(served: Served, browser: Browser) -> None:
    page = sign_in(browser, served)
    page.goto(served.url + "/queue")
    order = rows(page)
    assert order[0] == "r-threat", order
    assert order.index("r-spam0") < order.index("r-off0"), "5.7.6 ranks above 5.7.1 though younger"
    assert [r for r in order if r.startswith("r-off")] == [f"r-off{i}" for i in range(5, -1, -1)], "oldest first"
    assert "most urgent first" in page.inner_text("main")
    assert "target 30 min" in page.inner_text("tr[data-review-id='r-threat']")
    page.context.close()


def test_keyboard_moves_through_the_queue_and_decides(served: Served, browser: Browser) -> None:
    page = sign_in(browser, served)
    page.goto(served.url + "/queue")
    access_key(page, "j")  # the most urgent item
    page.wait_for_url("**/items/r-threat")
    shortcuts = page.inner_text("[data-testid=shortcuts]")
    assert "H hide" in shortcuts and "K keep" in shortcuts and "X delete" in shortcuts and "J next item" in shortcuts
    access_key(page, "j")
    page.wait_for_url("**/items/r-spam3")
    access_key(page, "u")
    page.wait_for_url("**/items/r-threat")
    access_key(page, "h")
    assert page.is_checked("input[name=decision][value=hide]")
    access_key(page, "k")
    assert page.is_checked("input[name=decision][value=keep]") and not page.is_checked("input[value=hide]")
    access_key(page, "x")
    assert page.is_checked("input[name=decision][value=delete]")
    access_key(page, "r")
    page.keyboard.type("A threat against city hall (5.7.8)")
    access_key(page, "s")
    page.wait_for_selector("[data-testid=flash]")
    mine = [d for d in served.decisions if d.review_id == "r-threat"]
    assert [(d.decision, d.moderator, d.clauses) for d in mine] == [("delete", "mod", ["5.7.8"])]
    assert rows(page)[0] == "r-spam3", "the decided threat left the queue"
    page.context.close()


def test_a_bulk_decision_on_identical_spam_decides_each_comment(served: Served, browser: Browser) -> None:
    page = sign_in(browser, served)
    page.goto(served.url + "/items/r-spam1")
    assert "Apply to 3 identical pending comments" in page.inner_text("[data-testid=identical]")
    page.check("input[name=decision][value=hide]")
    page.fill("textarea[name=reason]", "Spam run (5.7.6)")
    access_key(page, "a")
    assert page.is_checked("input[name=identical]")
    page.click("text=Record decision")
    assert "for 4 identical comments" in page.inner_text("[data-testid=flash]")
    spam = [d for d in served.decisions if d.review_id.startswith("r-spam")]
    assert sorted(d.review_id for d in spam) == [f"r-spam{i}" for i in range(4)]
    audits = [plan(d)[1] for d in spam]
    assert len({a.audit_id for a in audits}) == 4 and {a.verb for a in audits} == {"decision.hide"}
    assert not [r for r in rows(page) if r.startswith("r-spam")]
    page.context.close()
