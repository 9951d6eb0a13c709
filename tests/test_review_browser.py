"""The review pages in real headless Chromium (Debian's ``chromium``, driven by Playwright).

A moderator signs in and works a queue item until its action is on ``moderation.actions``;
hostile markup, bidi controls and enormous text in a comment stay inert; an analyst never sees
private information. Screenshots of the queue and the dashboard are written to
``CIVICWATCH_SCREENSHOTS`` (``make screenshots`` sets it to ``docs/``), else to a temporary folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from connectors.replay.recent import replay_recent
from runtime.sink import KafkaSink
from schemas import Comment, Decision, ModerationAction, decode
from schemas.ids import stable_id, text_digest
from schemas.topics import COMMENTS_RAW
from tests import factories
from tests.conftest import ReviewProcess, WorkerProcess, consume_all

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
USERS = {"mod": ("moderator", "moderator-password-2"), "ana": ("analyst", "analyst-password-22")}
NOW = datetime.now(UTC) - timedelta(minutes=10)
PHONE = "519-255-6677"


def comment(cid: str, text: str, author: str = "b1") -> Comment:
    return factories.comment(
        cid, text, platform="facebook", post="facebook-post-park", author=author, handle=f"handle_{author}", at=NOW
    )


PROFANE = comment("br-profane", "This splash pad is a fucking waste of money")
HOSTILE = comment(
    "br-hostile",
    '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
    "<a href=javascript:alert(1)>click</a> fucking \u202eexe.elif\u202c and \u200b hidden",
    author="b2",
)
ENORMOUS = comment("br-enormous", "shit " * 12_000, author="b3")
PRIVATE = comment("br-private", f"Her number is {PHONE}, she lives at 123 Ouellette Ave", author="b4")


def review_id(c: Comment) -> str:
    return stable_id("review", c.key, text_digest(c.text))


@pytest.fixture(scope="module")
def stack(kafka_bootstrap: str, kafka_topics: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReviewProcess]:
    workdir = tmp_path_factory.mktemp("review-browser")
    worker = WorkerProcess(kafka_bootstrap, kafka_topics, f"rb-{kafka_topics.strip('.')}", workdir / "worker.log")
    worker.env["CIVICWATCH_ANALYTICS_INTERVAL"] = "1"
    worker.start()
    review = ReviewProcess(kafka_bootstrap, kafka_topics, workdir / "review", USERS)
    try:
        review.start()
        sink = KafkaSink(kafka_bootstrap, kafka_topics)
        _, sample_comments = replay_recent(sink)
        for c in (PROFANE, HOSTILE, ENORMOUS, PRIVATE):
            sink.send(COMMENTS_RAW, c)
        sink.flush()
        sink.close()
        consume_all(kafka_bootstrap, kafka_topics + "comments.tagged", sample_comments + 4, timeout=180, settle=3)
        yield review
    finally:
        review.stop()
        worker.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def sign_in(browser: Browser, stack: ReviewProcess, name: str) -> Page:
    context = browser.new_context(viewport={"width": 1320, "height": 900})
    page = context.new_page()
    page.on("dialog", lambda d: pytest.fail(f"a dialog opened: {d.message}"))
    page.goto(stack.url + "/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", USERS[name][1])
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=who]")
    return page


def open_item(page: Page, stack: ReviewProcess, c: Comment, timeout: float = 90) -> None:
    """Open an item once the view has it (the worker and the view are asynchronous)."""
    deadline = datetime.now(UTC) + timedelta(seconds=timeout)
    while True:
        response = page.goto(f"{stack.url}/items/{review_id(c)}")
        if response is not None and response.status == 200:
            return
        assert datetime.now(UTC) < deadline, f"item for {c.comment_id} never appeared"
        page.wait_for_timeout(1000)


def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = os.environ.get("CIVICWATCH_SCREENSHOTS")
    return Path(target) if target else tmp_path_factory.mktemp("screenshots")


def test_moderator_works_an_item_to_the_platform_action(
    kafka_bootstrap: str, kafka_topics: str, stack: ReviewProcess, browser: Browser
) -> None:
    page = sign_in(browser, stack, "mod")
    open_item(page, stack, PROFANE)
    page.goto(stack.url + "/queue?clause=5.7.2&platform=facebook")
    page.click(f"tr[data-review-id='{review_id(PROFANE)}'] >> text=Open")
    assert page.locator("[data-testid=comment-text] mark.evidence").count() >= 1
    assert "Profane language or content" in page.inner_text("main")
    page.check("input[name=decision][value=delete]")
    page.fill("textarea[name=reason]", "Profanity under clause 5.7.2")
    page.click("text=Record decision")
    page.wait_for_selector("[data-testid=flash]")
    decisions = [
        decode(m.value, Decision) for m in consume_all(kafka_bootstrap, kafka_topics + "moderation.decisions", 1)
    ]
    mine = [d for d in decisions if d.review_id == review_id(PROFANE)]
    assert len(mine) == 1 and mine[0].moderator == "mod" and mine[0].decision == "delete"
    actions = [
        decode(m.value, ModerationAction)
        for m in consume_all(kafka_bootstrap, kafka_topics + "moderation.actions", 1, timeout=60)
    ]
    done = [a for a in actions if a.decision_id == mine[0].decision_id]
    assert [(a.action, a.comment_id) for a in done] == [("delete", PROFANE.comment_id)]
    page.context.close()


def test_injected_markup_bidi_and_enormous_text_stay_inert(stack: ReviewProcess, browser: Browser) -> None:
    page = sign_in(browser, stack, "mod")
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    open_item(page, stack, HOSTILE)
    text = page.locator("[data-testid=comment-text]")
    assert "<script>window.__pwned = 1</script>" in text.inner_text()
    assert text.locator("script, img, a").count() == 0
    assert page.evaluate("window.__pwned") is None
    markers = text.locator(".ctl").all_inner_texts()
    assert "U+202E" in markers and "U+200B" in markers, "bidi and zero-width characters are shown, not obeyed"
    open_item(page, stack, ENORMOUS)
    assert "more characters not shown" in page.inner_text("[data-testid=comment-text]")
    assert page.evaluate("window.__pwned") is None and not violations
    page.context.close()


def test_analyst_never_sees_private_information(stack: ReviewProcess, browser: Browser) -> None:
    page = sign_in(browser, stack, "ana")
    open_item(page, stack, PRIVATE)
    content = page.content()
    assert PHONE not in content and "123 Ouellette" not in content
    assert "<PHONE>" in page.inner_text("[data-testid=comment-text]")
    assert page.locator("[data-testid=decision-form]").count() == 0
    page.goto(stack.url + "/queue?clause=5.7.9")
    assert PHONE not in page.content()
    page.context.close()


def test_screenshots_of_queue_and_dashboard(
    stack: ReviewProcess, browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    out = screenshot_dir(tmp_path_factory)
    out.mkdir(parents=True, exist_ok=True)
    page = sign_in(browser, stack, "mod")
    page.goto(stack.url + "/queue")
    page.screenshot(path=str(out / "review-queue.png"))
    open_item(page, stack, PROFANE)
    page.screenshot(path=str(out / "review-item.png"), full_page=True)
    analyst = sign_in(browser, stack, "ana")

    def charted() -> Any:
        analyst.goto(stack.url + "/dashboard")
        return analyst.locator("svg.chart rect").count()

    deadline = datetime.now(UTC) + timedelta(seconds=60)
    while not charted():
        assert datetime.now(UTC) < deadline, "the dashboard never showed a chart"
        analyst.wait_for_timeout(1000)
    analyst.wait_for_timeout(3000)  # let the last aggregates of the sample arrive
    analyst.goto(stack.url + "/dashboard?window=hour")
    analyst.screenshot(path=str(out / "review-dashboard.png"), full_page=True)
    for name in ("review-queue.png", "review-item.png", "review-dashboard.png"):
        assert (out / name).stat().st_size > 10_000
    page.context.close()
    analyst.context.close()
