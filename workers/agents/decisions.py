"""Turns moderators' decisions into platform actions, and records every decision in ``audit.log``."""

from __future__ import annotations

from typing import Any

import structlog

from schemas import AuditRecord, Decision, ModerationAction, SchemaError, decode, encode
from schemas.ids import stable_id
from workers.agents.deadletters import send_dead_letter
from workers.app import app, audit_log, moderation_actions, moderation_decisions

log = structlog.get_logger("civicwatch.decisions")

ACTIONS = {"hide": "hide", "delete": "delete"}


def action_kind(decision: Decision) -> str | None:
    """What the platform must do. Keeping a comment that policy hid at once (5.7.9) restores it."""
    if decision.decision == "keep" and decision.hidden:
        return "unhide"
    if decision.decision == "hide" and decision.hidden:
        return None
    return ACTIONS.get(decision.decision)


def plan(decision: Decision) -> tuple[ModerationAction | None, AuditRecord]:
    """The action (if any) and the audit record for one decision; ids are stable for redelivery."""
    action = None
    kind = action_kind(decision)
    if kind is not None:
        action = ModerationAction(
            action_id=stable_id("action", decision.decision_id),
            decision_id=decision.decision_id,
            platform=decision.platform,
            comment_id=decision.comment_id,
            post_id=decision.post_id,
            action=kind,  # type: ignore[arg-type]
            clauses=decision.clauses,
        )
    audit = AuditRecord(
        audit_id=stable_id("audit", "decision", decision.decision_id),
        actor=decision.moderator,
        verb=f"decision.{decision.decision}",
        subject=f"{decision.platform}:{decision.comment_id}",
        reason=decision.reason,
        details={
            "review_id": decision.review_id,
            "decision_id": decision.decision_id,
            "clauses": decision.clauses,
            "action_id": action.action_id if action else None,
            "decided_at": decision.decided_at.isoformat(),
        },
    )
    return action, audit


@app.agent(moderation_decisions)
async def decisions(stream: Any) -> None:
    async for event in stream.events():
        try:
            decision = decode(event.value, Decision)
        except SchemaError as exc:
            await send_dead_letter(event, "decisions", exc)
            continue
        action, audit = plan(decision)
        if action is not None:
            await moderation_actions.send(key=audit.subject.encode(), value=encode(action))
        await audit_log.send(key=audit.subject.encode(), value=encode(audit))
        log.info("decision_applied", decision_id=decision.decision_id, decision=decision.decision)
