"""Clause 5.5 acknowledgements that wait for a moderator (``civicwatch review approve-replies``).

The forwarder proposes each reply on ``moderation.proposals`` when the policy says
``acknowledgement.approval: required``. A proposal is pending until a reply with its action id is on
``moderation.actions``; approving one puts it there for the action executor, with an audit record
naming the moderator, in one transaction. The action id derives from the comment, so a comment is
answered once however often it was proposed, and approving twice is harmless (the executor skips a
known action id).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime

from kafka import KafkaConsumer, TopicPartition

from runtime.settings import kafka_auth
from runtime.sink import Sink
from schemas import AuditRecord, ModerationAction, SchemaError, decode
from schemas.ids import stable_id
from schemas.topics import AUDIT_LOG, MODERATION_ACTIONS, REPLY_PROPOSALS, TopicSpec


def _read_all(bootstrap: str, topic: str, timeout: float) -> list[bytes | None]:
    """Every committed value of ``topic``, from its start to its end now."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
        client_id="civicwatch-approve-replies",
        **kafka_auth(),
    )
    values: list[bytes | None] = []
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        end = consumer.end_offsets(tps)
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < end[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} to its end in {timeout:.0f}s")
            for records in consumer.poll(timeout_ms=500).values():
                values.extend(r.value for r in records)
    finally:
        consumer.close()
    return values


def _replies(values: Iterable[bytes | None]) -> list[ModerationAction]:
    out = []
    for value in values:
        try:
            action = decode(value, ModerationAction)
        except SchemaError:
            continue  # the executor dead-letters what it cannot read; here it is simply not a proposal
        if action.action == "reply":
            out.append(action)
    return out


def pending_replies(bootstrap: str, prefix: str, timeout: float = 60.0) -> list[ModerationAction]:
    """Proposed replies not yet approved, oldest first, one per action id."""
    proposed = _replies(_read_all(bootstrap, REPLY_PROPOSALS.full_name(prefix), timeout))
    approved = {a.action_id for a in _replies(_read_all(bootstrap, MODERATION_ACTIONS.full_name(prefix), timeout))}
    pending: dict[str, ModerationAction] = {}
    for action in sorted(proposed, key=lambda a: a.requested_at):
        if action.action_id not in approved:
            pending.setdefault(action.action_id, action)
    return list(pending.values())


def approve(sink: Sink, replies: Iterable[ModerationAction], moderator: str) -> int:
    """Queue the replies for the action executor and audit each approval, all in one transaction."""
    now = datetime.now(UTC)
    outputs: list[tuple[TopicSpec, ModerationAction | AuditRecord, str]] = []
    for reply in replies:
        subject = f"{reply.platform}:{reply.comment_id}"
        audit = AuditRecord(
            audit_id=stable_id("audit", "reply-approved", reply.action_id),
            actor=moderator,
            verb="reply.approved",
            subject=subject,
            details={"action_id": reply.action_id, "forward_id": reply.decision_id, "clauses": reply.clauses},
            at=now,
        )
        outputs += [(MODERATION_ACTIONS, reply.model_copy(update={"requested_at": now}), subject)]
        outputs += [(AUDIT_LOG, audit, subject)]
    with sink.transaction():
        for topic, event, key in outputs:
            sink.send(topic, event, key=key)
    return len(outputs) // 2
