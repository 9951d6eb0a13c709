"""Keeps the city's posts in a global table (the context the off-topic detector, 5.7.1, needs) and
checks each for confidential or private information (5.6): a finding goes to Corporate
Communications on ``posts.review``."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from pipelines.confidential import PostChecker, PostFinding
from pipelines.policy import load_policy
from schemas import Post, PostReviewItem, SchemaError, SpanModel, TagModel, decode, encode
from schemas.ids import stable_id, text_digest
from workers.agents.deadletters import send_dead_letter
from workers.app import app, post_texts, posts_review, posts_topic, settings

log = structlog.get_logger("civicwatch.posts")

_checker: PostChecker | None = None


def checker() -> PostChecker:
    global _checker
    if _checker is None:
        _checker = PostChecker(load_policy(settings.policy_path))
    return _checker


def review_item(post: Post, findings: list[PostFinding]) -> PostReviewItem | None:
    """The 5.6 item for a post's findings, one tag per clause; the id is stable for a post's text, so a
    redelivered post adds nothing and an edited one is checked again."""
    if not findings:
        return None
    by_clause: dict[str, list[PostFinding]] = {}
    for f in findings:
        by_clause.setdefault(f.clause, []).append(f)
    tags = [
        TagModel(
            clause=clause,
            category="confidential" if clause == "5.6" else "private_info",
            score=max(f.score for f in found),
            spans=[SpanModel(start=f.start, end=f.end, label=f.label) for f in found],
            detector="post_check",
            detail=", ".join(sorted({f.label for f in found})),
        )
        for clause, found in sorted(by_clause.items())
    ]
    return PostReviewItem(
        review_id=stable_id("post-review", post.key, text_digest(post.text)),
        post=post,
        findings=tags,
        clauses=[t.clause for t in tags],
    )


@app.agent(posts_topic)
async def posts(stream: Any) -> None:
    async for event in stream.events():
        try:
            post = decode(event.value, Post)
        except SchemaError as exc:
            await send_dead_letter(event, "posts", exc)
            continue
        post_texts[post.key] = post.text
        log.info("post_stored", post_key=post.key)
        try:
            # Off the event loop: the name model may load on the first post with a private-fact phrase.
            item = review_item(post, await asyncio.to_thread(checker().check, post.text))
        except Exception as exc:  # one post the check cannot read must not stop the agent: keep it whole
            await send_dead_letter(event, "post_check", exc)
            continue
        if item is not None:
            await posts_review.send(key=post.key.encode(), value=encode(item))
            log.info("post_flagged", post_key=post.key, review_id=item.review_id, clauses=item.clauses)
