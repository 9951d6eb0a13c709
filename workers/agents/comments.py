"""Ingest, classify and route comments in one agent.

One hop instead of three: decoding, dedupe and routing are cheap next to classification, and an
internal topic between them would add a produce/consume round trip to every comment's latency for
no gain in isolation. Comments are taken in batches so the detectors vectorise their work.

Guarantee: at-least-once with idempotent outputs. faust acknowledges a batch only after this loop
has handed every output to the producer, outputs are keyed by the comment key, and the review and
forward ids are derived from the comment, so a redelivered batch yields identical records.
Dedupe (same ``platform:comment_id`` and the same text) is the second line of defence behind the
connectors' checkpoints; an edited comment has new text and is classified again.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

import structlog
from faust.streams import _current_event

from pipelines.pipeline import Classification, PolicyPipeline
from pipelines.types import CommentInput
from schemas import AuditRecord, Comment, ModerationAction, SchemaError, decode, encode
from workers.agents.deadletters import send_dead_letter
from workers.app import (
    app,
    audit_log,
    comments_raw,
    comments_tagged,
    council_forward,
    moderation_actions,
    moderation_review,
    post_texts,
    seen_comments,
    settings,
)
from workers.routing import route, stable_id, text_digest

log = structlog.get_logger("civicwatch.comments")

_pipeline: PolicyPipeline | None = None


def pipeline() -> PolicyPipeline:
    """Built once per process: loading the policy and models is the slow part of start-up."""
    global _pipeline
    if _pipeline is None:
        _pipeline = PolicyPipeline(settings.policy_path, batch_size=settings.batch_size)
    return _pipeline


def _enter(event: Any) -> None:
    # Table writes go to the changelog partition of the *current* event; in a batch that must be
    # the event being handled, not the batch's last one.
    _current_event.set(weakref.ref(event))


async def emit(comment: Comment, result: Classification, post_text: str | None) -> None:
    routed = route(comment, result, pipeline().policy.name + "@" + pipeline().policy.version, post_text)
    key = comment.key.encode()
    await comments_tagged.send(key=key, value=encode(routed.tagged))
    if routed.review is not None:
        await moderation_review.send(key=key, value=encode(routed.review))
        if result.action == "auto_hide":
            await auto_hide(comment, routed.review.review_id, routed.review.clauses)
    if routed.council is not None:
        await council_forward.send(key=key, value=encode(routed.council))


async def auto_hide(comment: Comment, review_id: str, clauses: list[str]) -> None:
    """Policy ``auto_hide`` rules (5.7.9 by default): hide at once, then let a moderator review."""
    decision_id = "auto-" + review_id
    action = ModerationAction(
        action_id=stable_id("action", decision_id),
        decision_id=decision_id,
        platform=comment.platform,
        comment_id=comment.comment_id,
        post_id=comment.post_id,
        action="hide",
        clauses=clauses,
    )
    audit = AuditRecord(
        audit_id=stable_id("audit", "auto_hide", review_id),
        actor="civicwatch",
        verb="auto_hide",
        subject=comment.key,
        reason=f"policy rule auto_hide for clause(s) {', '.join(clauses)}",
        details={"review_id": review_id, "action_id": action.action_id},
    )
    await moderation_actions.send(key=comment.key.encode(), value=encode(action))
    await audit_log.send(key=comment.key.encode(), value=encode(audit))


def classify_safely(batch: list[tuple[Any, Comment, str | None]]) -> list[Classification | BaseException]:
    """Classify a batch; if it fails, classify one by one so one poison comment cannot sink the rest."""
    inputs = [CommentInput(c.text, context=ctx, language=c.language) for _, c, ctx in batch]
    try:
        return list(pipeline().classify_batch(inputs))
    except Exception:
        results: list[Classification | BaseException] = []
        for item in inputs:
            try:
                results.append(pipeline().classify(item))
            except Exception as exc:  # a detector bug: dead-letter this comment, keep the worker up
                results.append(exc)
        return results


@app.agent(comments_raw)
async def comments(stream: Any) -> None:
    async for events in stream.take_events(settings.batch_size, within=settings.batch_timeout):
        await process_batch(events)


async def process_batch(events: list[Any]) -> None:
    """Decode, dedupe, classify and route one batch. Nothing here may raise for a bad message.

    A comment is marked as seen only after its outputs were handed to the producer, so a batch
    interrupted half-way is processed again on redelivery rather than skipped as a duplicate.
    """
    started = time.perf_counter()
    batch: list[tuple[Any, Comment, str | None]] = []
    in_batch: set[tuple[str, str]] = set()
    duplicates = 0
    for event in events:
        _enter(event)
        try:
            comment = decode(event.value, Comment)
        except SchemaError as exc:
            await send_dead_letter(event, "ingest", exc)
            continue
        except Exception as exc:
            await send_dead_letter(event, "ingest", exc)
            continue
        digest = text_digest(comment.text) + ("|deleted" if comment.deleted else "")
        if seen_comments.get(comment.key) == digest or (comment.key, digest) in in_batch:
            duplicates += 1
            log.info("duplicate_comment_skipped", comment_key=comment.key)
            continue
        in_batch.add((comment.key, digest))
        if comment.deleted:
            seen_comments[comment.key] = digest
            log.info("deleted_comment_recorded", comment_key=comment.key)
            continue
        batch.append((event, comment, post_texts.get(f"{comment.platform}:{comment.post_id}")))
    if not batch:
        return
    results = classify_safely(batch)
    flagged = 0
    for (event, comment, ctx), result in zip(batch, results, strict=True):
        _enter(event)
        with structlog.contextvars.bound_contextvars(comment_key=comment.key):
            if isinstance(result, BaseException):
                await send_dead_letter(event, "classify", result)
                continue
            try:
                await emit(comment, result, ctx)
            except Exception as exc:
                await send_dead_letter(event, "route", exc)
                continue
            seen_comments[comment.key] = text_digest(comment.text)
            flagged += result.flagged
    log.info(
        "batch_processed",
        comments=len(batch),
        duplicates=duplicates,
        flagged=flagged,
        ms=round((time.perf_counter() - started) * 1000, 1),
    )
