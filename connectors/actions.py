"""Carries ``moderation.actions`` out on the platforms, once per ``action_id``, and audits each outcome.

Exactly once, and how far that goes: every action id that reached an outcome is recorded in the
compacted ``connector.state`` topic (``actions:<action_id>``), in the same Kafka transaction as its
``audit.log`` record and the consumer offset. A redelivered message, or a second message with the
same action id (the worker re-sends with stable ids after a rebalance), finds its id there and is
skipped without touching the platform or writing a second audit record. The one window left is a
crash after the platform call and before the commit: the action is then carried out again on
restart, which the platforms make harmless (hiding a hidden comment is a no-op, deleting a deleted
one answers "not found", which counts as done).

Outcomes on ``audit.log`` (``AuditRecord.outcome``): ``ok`` (done), ``failed`` (with the reason,
after ``CIVICWATCH_ACTION_MAX_ATTEMPTS`` transient failures), ``not_permitted`` (the platform
refuses, e.g. deleting on X or a reply outside the city's conversations), ``skipped`` (the comment no
longer exists). Rate limits are waited out, not counted as failures. Calls per platform are paced by
its ``min_interval``: X lets an account hide only a few replies per 15 minutes.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from connectors import metrics
from connectors.core import (
    Backoff,
    Clock,
    ConnectorError,
    CredentialError,
    NotFound,
    NotPermitted,
    RateLimited,
    TransientError,
    utc,
)
from connectors.runner import consume_each
from runtime.deadletters import dead_letter_of, log_dead_letter
from runtime.settings import kafka_auth
from runtime.sink import KafkaSink
from schemas import AuditRecord, Checkpoint, ModerationAction, SchemaError, decode
from schemas.ids import stable_id
from schemas.topics import AUDIT_LOG, COMMENTS_DEADLETTER, CONNECTOR_STATE, MODERATION_ACTIONS

log = structlog.get_logger("civicwatch.actions")

STATE_NAME = "actions"
ACTOR = "civicwatch-actions"


class PlatformActions(Protocol):
    platform: str
    min_interval: float

    def check(self) -> None:
        """Prove the tokens at start-up; raise ``CredentialError`` naming the one that fails."""
        ...

    def execute(self, action: ModerationAction) -> str:
        """Carry the action out; return a short note (``hidden``), raise from the error tree."""
        ...


@dataclass
class Outcome:
    outcome: str
    reason: str = ""
    note: str = ""
    attempts: int = 0


@dataclass
class ExecutorStats:
    outcomes: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    dead_lettered: int = 0
    ignored: int = 0


@dataclass
class ActionExecutor:
    """Consumes ``moderation.actions`` for the platforms it holds; see the module docstring."""

    platforms: Mapping[str, PlatformActions]
    sink: KafkaSink
    consumer: KafkaConsumer
    clock: Clock
    max_attempts: int = 5
    backoff_base: float = 2.0
    backoff_cap: float = 300.0
    stop: threading.Event = field(default_factory=threading.Event)
    done: dict[str, str] = field(default_factory=dict)
    last_call: dict[str, float] = field(default_factory=dict)
    stats: ExecutorStats = field(default_factory=ExecutorStats)

    def start(self, state: Mapping[str, Checkpoint]) -> None:
        """Remember which action ids already have an outcome; check every platform's tokens."""
        self.done = {scope: cp.cursor or "" for scope, cp in state.items()}
        for platform in self.platforms.values():
            platform.check()
        log.info("action_executor_started", platforms=sorted(self.platforms), known_actions=len(self.done))

    def run(self, max_messages: int | None = None, idle_timeout: float | None = None) -> ExecutorStats:
        """Until ``stop`` (or, for tests, ``max_messages`` handled or ``idle_timeout`` seconds of silence)."""
        consume_each(self.consumer, self.stop, self.handle, max_messages, idle_timeout)
        return self.stats

    def handle(self, tp: TopicPartition, message: Any) -> None:
        offsets = {tp: OffsetAndMetadata(message.offset + 1, "", -1)}
        try:
            action = decode(message.value, ModerationAction)
        except SchemaError as exc:
            letter = dead_letter_of(message, "actions", exc)
            self._commit(offsets, COMMENTS_DEADLETTER, letter, None)
            self.stats.dead_lettered += 1
            log_dead_letter(letter)
            return
        if action.platform not in self.platforms:
            self._commit(offsets, None, None, None)
            self.stats.ignored += 1
            return
        if action.action_id in self.done:
            self._commit(offsets, None, None, None)
            self.stats.duplicates += 1
            log.info("action_already_done", action_id=action.action_id, outcome=self.done[action.action_id])
            return
        result = self.carry_out(action)
        subject = f"{action.platform}:{action.comment_id}"
        audit = AuditRecord(
            audit_id=stable_id("audit", "action", action.action_id),
            actor=ACTOR,
            verb=f"action.{action.action}",
            subject=subject,
            outcome=result.outcome,  # type: ignore[arg-type]
            reason=result.reason,
            details={
                "action_id": action.action_id,
                "decision_id": action.decision_id,
                "post_id": action.post_id,
                "clauses": action.clauses,
                "attempts": result.attempts,
                "result": result.note,
            },
            at=utc(self.clock.time()),
        )
        state = Checkpoint(
            connector=STATE_NAME,
            scope=action.action_id,
            cursor=result.outcome,
            updated_at=utc(self.clock.time()),
            details={"platform": action.platform, "action": action.action},
        )
        self._commit(offsets, AUDIT_LOG, audit, state)
        self.done[action.action_id] = result.outcome
        self.stats.outcomes[result.outcome] += 1
        metrics.ACTIONS.labels(action.platform, action.action, result.outcome).inc()
        log.info(
            "action_carried_out",
            action_id=action.action_id,
            platform=action.platform,
            action=action.action,
            outcome=result.outcome,
            attempts=result.attempts,
        )

    def _commit(
        self, offsets: dict[TopicPartition, OffsetAndMetadata], topic: Any, event: Any, state: Checkpoint | None
    ) -> None:
        with self.sink.transaction():
            if event is not None:
                key = event.subject if isinstance(event, AuditRecord) else None
                self.sink.send(topic, event, key=key)
            if state is not None:
                self.sink.send(CONNECTOR_STATE, state)
            self.sink.send_offsets(offsets, self.consumer.group_metadata())

    def carry_out(self, action: ModerationAction) -> Outcome:
        """Call the platform, pacing, waiting out rate limits and retrying transient failures."""
        platform = self.platforms[action.platform]
        backoff = Backoff(self.backoff_base, self.backoff_cap)
        attempts = 0
        while True:
            wait = self.last_call.get(action.platform, float("-inf")) + platform.min_interval - self.clock.time()
            if wait > 0:
                self.clock.sleep(wait)
            attempts += 1
            self.last_call[action.platform] = self.clock.time()
            try:
                return Outcome("ok", note=platform.execute(action), attempts=attempts)
            except RateLimited as exc:
                attempts -= 1  # the platform asked us to wait; nothing failed
                metrics.RETRIED.labels(f"actions-{action.platform}", exc.reason).inc()
                log.info("action_rate_limited", action_id=action.action_id, seconds=round(exc.after, 1))
                self.clock.sleep(exc.after)
            except TransientError as exc:
                if attempts >= self.max_attempts:
                    return Outcome("failed", reason=f"{exc.reason} (after {attempts} attempts)", attempts=attempts)
                metrics.RETRIED.labels(f"actions-{action.platform}", "transient").inc()
                delay = backoff.next_delay()
                log.warning("action_retrying", action_id=action.action_id, attempt=attempts, seconds=round(delay, 1))
                self.clock.sleep(delay)
            except NotPermitted as exc:
                return Outcome("not_permitted", reason=exc.reason, attempts=attempts)
            except NotFound as exc:
                return Outcome("skipped", reason=f"comment no longer exists: {exc.reason}", attempts=attempts)
            except CredentialError:
                raise  # not this action's fault: stop, leave it uncommitted for the next start
            except ConnectorError as exc:
                return Outcome("failed", reason=exc.reason, attempts=attempts)


def actions_consumer(bootstrap: str, prefix: str, platforms: list[str]) -> KafkaConsumer:
    """One consumer group per set of platforms, so X's slow pacing never holds Facebook's actions."""
    return KafkaConsumer(
        MODERATION_ACTIONS.full_name(prefix),
        bootstrap_servers=bootstrap,
        group_id=f"civicwatch-actions-{'-'.join(sorted(platforms))}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_interval_ms=3_600_000,  # a rate-limit reset on X can take 15 minutes
        client_id=f"civicwatch-actions-{'-'.join(sorted(platforms))}",
        **kafka_auth(),
    )
