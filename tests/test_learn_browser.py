"""Issue 16's loop end to end, without a broker: a moderator decides flagged comments in headless
Chromium, the decisions the pages publish enter the view as the ingest would write them, the view is
exported as training examples, and `civicwatch train decisions` writes a model version whose report
shows agreement before and after on the held-back slice.

The queue holds the election talk of ``tests.test_train_decisions`` (hand-written templates) tagged by
the real detector pipeline. Deciding over a hundred comments one page at a time would take minutes, so
the browser decides the first ``BY_HAND`` and the rest are recorded as the same moderator's decisions
directly; both kinds go through the same export.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from playwright.sync_api import Browser
from typer.testing import CliRunner

from pipelines.pipeline import PolicyPipeline
from review.auth import add_user
from review.service import ReviewService
from review.store import Store
from runtime.settings import Settings
from schemas import Decision, ReviewItem, TagModel
from tests import factories
from tests.test_review_browser_queue import Served, browser, sign_in
from tests.test_train_decisions import moderate, texts

__all__ = ["browser"]  # the Chromium fixture, shared with the queue's browser tests
BY_HAND = 8
NOW = datetime.now(UTC)


def flagged_items() -> list[tuple[ReviewItem, str]]:
    """(review item, what the moderator decides): keep a 5.7.7 flag under ``moderate()``, hide the rest."""
    pipeline = PolicyPipeline()
    out = []
    pool = texts()
    for i, (text, result) in enumerate(zip(pool, pipeline.classify_batch(pool), strict=True)):
        tags = [TagModel.model_validate(t.as_dict()) for t in result.tags if t.category in result.flags]
        mine = [t.score for t in tags if t.clause == "5.7.7"]
        if not mine:
            continue
        at = NOW - timedelta(minutes=len(pool) - i)
        item = ReviewItem(
            review_id=f"r-e{i}",
            comment=factories.comment(f"e{i}", text, post="p1", at=at),
            tags=tags,
            flags=sorted({t.category for t in tags}),
            clauses=sorted({t.clause for t in tags}),
            action="review",
            created_at=at,
        )
        out.append((item, "keep" if max(mine) < moderate() else "hide"))
    return out


def test_decisions_in_the_pages_feed_train_and_the_report_shows_agreement(tmp_path: Path, browser: Browser) -> None:
    from civicwatch.cli import app as civicwatch
    from review.main import cli as review_cli

    add_user(tmp_path / "users.yaml", "mod", "moderator", "moderator-password-3")
    db = tmp_path / "view.sqlite3"
    service = ReviewService(
        Settings(bootstrap_servers="127.0.0.1:1", review_db=db, review_users=tmp_path / "users.yaml")
    )
    items = flagged_items()
    assert len(items) >= 60 and {"keep", "hide"} == {d for _, d in items}
    with service.store.transaction():
        for item, _ in items:
            service.store.put_review_item(item)
    served = Served(service)
    served.start()
    try:
        page = sign_in(browser, served)
        for item, kind in items[:BY_HAND]:
            page.goto(f"{served.url}/items/{item.review_id}")
            assert "model base" in page.inner_text("ul.tags"), "the item names the model version that scored it"
            page.check(f"input[name=decision][value={kind}]")
            page.fill("textarea[name=reason]", "electioneering (5.7.7)" if kind == "hide" else "a resident's view")
            page.click("text=Record decision")
            page.wait_for_selector("[data-testid=flash]")
        page.context.close()
    finally:
        served.stop()
    by_hand = served.decisions
    assert [(d.review_id, d.decision) for d in by_hand] == [(i.review_id, k) for i, k in items[:BY_HAND]]
    rest = [
        Decision(
            decision_id=f"d-{item.review_id}",
            review_id=item.review_id,
            platform=item.comment.platform,
            comment_id=item.comment.comment_id,
            post_id=item.comment.post_id,
            decision=kind,  # type: ignore[arg-type]
            clauses=item.clauses,
            reason="r",
            moderator="mod",
            decided_at=NOW,
        )
        for item, kind in items[BY_HAND:]
    ]
    store = Store(db)  # the app closed its own on the way out
    with store.transaction():
        for d in [*by_hand, *rest]:
            store.put_decision(d)
    store.close()

    examples = tmp_path / "decisions.jsonl"
    out = tmp_path / "models"
    try:  # both commands configure structlog for the process: undo it for the tests that read logs
        exported = CliRunner().invoke(
            review_cli(), ["export-decisions", "--out", str(examples)], env={"CIVICWATCH_REVIEW_DB": str(db)}
        )
        trained = CliRunner().invoke(
            civicwatch,
            ["train", "decisions", "--examples", str(examples), "--out", str(out), "--force"],
            env={"CIVICWATCH_SHARED": str(tmp_path / "no-shared")},
        )
    finally:
        structlog.reset_defaults()
    assert exported.exit_code == 0, exported.output
    rows = [json.loads(line) for line in examples.read_text().splitlines()]
    assert len(rows) == len(items) and all("+linear.base" in d for r in rows for d in r["detectors"])

    assert trained.exit_code == 0, trained.output
    report = trained.output
    assert "PROMOTED" in report and "no dev files" in report and "--force" in report
    line = next(x for x in report.splitlines() if x.startswith("| 5.7.7 |"))
    held, before, after = (c.strip() for c in line.split("|")[2:5])
    assert int(held) == round(0.3 * len(items)) and float(after) > float(before)
    version = (out / "civicwatch-linear.current").read_text().strip()
    card = json.loads((out / f"civicwatch-linear.{version}.json").read_text())
    assert card["decisions"]["promoted"] and card["base"]["version"] == "base"
