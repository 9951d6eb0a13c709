"""The comment agent's pure step: decode, dedupe and route one batch, with no broker and no faust.

``workers.agents.comments`` is the faust shell around it: it takes events off the stream, drops
those of partitions handed over or being resynced, classifies in a thread, commits each
partition's outputs with its offset in one transaction and then writes the dedupe table. What a
batch produces, and which comments it skips, is decided here, so it is tested with plain objects.

Dedupe: a comment is a duplicate when its key was last seen with the same text (and the same
deleted flag), in the committed table, in a batch classified but not yet committed
(``pending_marks``), or earlier in the same batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import TopicPartition

from pipelines.pipeline import Classification, PolicyPipeline
from pipelines.types import CommentInput
from runtime.deadletters import dead_letter_of, log_dead_letter
from schemas import AuditRecord, Comment, ModerationAction, TaggedComment, decode, encode
from schemas.ids import stable_id, text_digest
from schemas.topics import (
    AUDIT_LOG,
    COMMENTS_DEADLETTER,
    COMMENTS_TAGGED,
    COUNCIL_FORWARD,
    MODERATION_ACTIONS,
    MODERATION_REVIEW,
)
from workers.routing import route
from workers.transactions import Output

log = structlog.get_logger("civicwatch.comments")

Mark = tuple[Any, str, str]
"""(event, comment key, digest): what the dedupe table records once the batch commits."""
Lookup = Callable[[str], str | None]


@dataclass(frozen=True)
class OutputTopics:
    """The full names (prefix applied) of every topic a comment batch writes to."""

    tagged: str
    review: str
    council: str
    actions: str
    audit: str
    deadletter: str

    @classmethod
    def with_prefix(cls, prefix: str) -> OutputTopics:
        return cls(
            COMMENTS_TAGGED.full_name(prefix),
            MODERATION_REVIEW.full_name(prefix),
            COUNCIL_FORWARD.full_name(prefix),
            MODERATION_ACTIONS.full_name(prefix),
            AUDIT_LOG.full_name(prefix),
            COMMENTS_DEADLETTER.full_name(prefix),
        )


@dataclass
class CommentBatch:
    """One batch between classification and commit."""

    events: list[Any]
    started: float
    comments: int = 0
    duplicates: int = 0
    dead: int = 0
    flagged: int = 0
    outputs: dict[TopicPartition, list[Output]] = field(default_factory=lambda: defaultdict(list))
    starts: dict[TopicPartition, int] = field(default_factory=dict)
    ends: dict[TopicPartition, int] = field(default_factory=dict)
    marks: dict[TopicPartition, list[Mark]] = field(default_factory=lambda: defaultdict(list))
    taken: list[Any] = field(default_factory=list)
    """The events this batch handles: ``events`` less those of abandoned partitions and those read
    before a resync's seek."""
    seeks: dict[TopicPartition, int] = field(default_factory=dict)
    """Per partition, how many resync seeks had happened when this batch took its events."""


Pending = tuple[Any, Comment, str | None]
"""(event, comment, text of its post): one comment waiting to be classified."""


def partition_of(event: Any) -> TopicPartition:
    return TopicPartition(event.message.topic, event.message.partition)


class CommentStep:
    """Decode, dedupe and route; ``pending_marks`` is the dedupe table's future (classified, not yet
    committed), kept so that a comment sent twice in quick succession is classified once."""

    def __init__(self, topics: OutputTopics, policy_label: Callable[[], str]) -> None:
        self.topics = topics
        self.policy_label = policy_label
        self.pending_marks: dict[str, str] = {}

    def admit(
        self, prepared: CommentBatch, event: Any, seen: Lookup, post_text: Lookup, in_batch: set[tuple[str, str]]
    ) -> Pending | None:
        """One taken event: the comment to classify, or ``None`` when it was dead-lettered, is a
        duplicate or is a deletion (recorded for the dedupe table, not classified). Never raises
        for a bad message."""
        tp = partition_of(event)
        try:
            comment = decode(event.value, Comment)
        except Exception as exc:  # SchemaError, or anything a hostile payload provokes
            prepared.outputs[tp].append(self.dead_letter(event, "ingest", exc))
            prepared.dead += 1
            return None
        changed = comment.deleted or comment.hidden is not None
        digest = text_digest(comment.text) + (f"|{state_of(comment)}" if changed else "")
        known = self.pending_marks.get(comment.key) or seen(comment.key)
        if known == digest or (comment.key, digest) in in_batch:
            prepared.duplicates += 1
            log.info("duplicate_comment_skipped", comment_key=comment.key)
            return None
        in_batch.add((comment.key, digest))
        if changed:
            prepared.outputs[tp].extend(self.state_change(comment))
            if comment.deleted:
                prepared.marks[tp].append((event, comment.key, digest))
            log.info("comment_state_recorded", comment_key=comment.key, state=state_of(comment))
            return None
        return event, comment, post_text(f"{comment.platform}:{comment.post_id}")

    def route(
        self, prepared: CommentBatch, batch: Sequence[Pending], results: Sequence[Classification | BaseException]
    ) -> None:
        """Turn each classified comment into its outputs (or a dead letter) and hold its mark."""
        for (event, comment, ctx), result in zip(batch, results, strict=True):
            tp = partition_of(event)
            if isinstance(result, BaseException):
                prepared.outputs[tp].append(self.dead_letter(event, "classify", result))
                prepared.dead += 1
                continue
            try:
                prepared.outputs[tp].extend(self.outputs_of(comment, result, ctx))
            except Exception as exc:
                prepared.outputs[tp].append(self.dead_letter(event, "route", exc))
                prepared.dead += 1
                continue
            prepared.marks[tp].append((event, comment.key, text_digest(comment.text)))
            prepared.flagged += result.flagged
        prepared.comments = len(batch)
        for marks in prepared.marks.values():
            self.pending_marks.update((key, digest) for _, key, digest in marks)

    def release(self, prepared: CommentBatch) -> None:
        """After the commit (or its failure): the table, not ``pending_marks``, now says what was seen."""
        for marks in prepared.marks.values():
            for _, key, digest in marks:
                if self.pending_marks.get(key) == digest:
                    del self.pending_marks[key]

    def outputs_of(self, comment: Comment, result: Classification, post_text: str | None) -> list[Output]:
        """Every record one classified comment produces, keyed by the comment so replays are idempotent."""
        routed = route(comment, result, self.policy_label(), post_text)
        key = comment.key.encode()
        out = [Output(self.topics.tagged, key, encode(routed.tagged))]
        if routed.review is not None:
            out.append(Output(self.topics.review, key, encode(routed.review)))
            if result.action == "auto_hide":
                out.extend(self.auto_hide(comment, routed.review.review_id, routed.review.clauses))
        if routed.council is not None:
            out.append(Output(self.topics.council, key, encode(routed.council)))
        return out

    def state_change(self, comment: Comment) -> list[Output]:
        """A deletion, hide or unhide on the platform is not classified: it goes on ``comments.tagged``
        (flag ``deleted``/``hidden``/``unhidden``, so the review view drops the text and the item) and
        on ``audit.log``."""
        state = state_of(comment)
        tagged = TaggedComment(
            comment=comment,
            language=comment.language or "und",
            tags=[],
            flags=[state],
            action=None,
            routes=[],
            policy=self.policy_label(),
        )
        audit = AuditRecord(
            audit_id=stable_id("audit", f"comment.{state}", comment.key, comment.received_at.isoformat()),
            actor=comment.platform,
            verb=f"comment.{state}",
            subject=comment.key,
            reason=f"the comment was {state} on {comment.platform}",
        )
        key = comment.key.encode()
        return [Output(self.topics.tagged, key, encode(tagged)), Output(self.topics.audit, key, encode(audit))]

    def auto_hide(self, comment: Comment, review_id: str, clauses: list[str]) -> list[Output]:
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
        key = comment.key.encode()
        return [Output(self.topics.actions, key, encode(action)), Output(self.topics.audit, key, encode(audit))]

    def dead_letter(self, event: Any, stage: str, error: BaseException) -> Output:
        record = dead_letter_of(event.message, stage, error)
        log_dead_letter(record)
        key = event.message.key if isinstance(event.message.key, bytes) else None
        return Output(self.topics.deadletter, key, encode(record))


def state_of(comment: Comment) -> str:
    if comment.deleted:
        return "deleted"
    return "hidden" if comment.hidden else "unhidden"


def classify_safely(pipeline: PolicyPipeline, batch: Sequence[Pending]) -> list[Classification | BaseException]:
    """Classify a batch; if it fails, classify one by one so one poison comment cannot sink the rest."""
    inputs = [CommentInput(c.text, context=ctx, language=c.language, source_id=c.key) for _, c, ctx in batch]
    try:
        return list(pipeline.classify_batch(inputs))
    except Exception:
        results: list[Classification | BaseException] = []
        for item in inputs:
            try:
                results.append(pipeline.classify(item))
            except Exception as exc:  # a detector bug: dead-letter this comment, keep the worker up
                results.append(exc)
        return results
