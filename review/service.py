"""The review service's parts and their lifecycle: view, consumer, producer, alerts.

Kafka being down does not take the pages down: the view keeps serving what it has, ``/health``
says what is wrong, and decisions are refused with a clear message instead of being lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer, ConsumerRecord

from review import PublishError
from review.agreement import Decided, agreement, as_aggregates, weeks_back
from review.alerts import AlertMailer
from review.auth import LoginThrottle, UserDirectory, dummy_hash
from review.brigading import BrigadingAlert, assess, post_alert
from review.ingest import Ingest
from review.metrics import ReviewMetrics
from review.render import PolicyText, policy_text
from review.store import Store
from runtime.deadletters import dead_letter_of, log_dead_letter
from runtime.settings import Settings
from schemas import AuditRecord, CouncilForward, Decision, SchemaError, encode
from schemas.events import Event
from schemas.topics import (
    ANALYTICS_AGGREGATES,
    ANALYTICS_ALERTS,
    AUDIT_LOG,
    COMMENTS_DEADLETTER,
    COUNCIL_FORWARD,
    MODERATION_DECISIONS,
    TopicSpec,
)

log = structlog.get_logger("civicwatch.review")

AGREEMENT_WEEKS = 8
"""Weeks of agreement republished whole when the service starts (the latest record per key wins)."""


class ReviewService:
    def __init__(self, settings: Settings, rebuild: bool = False) -> None:
        self.settings = settings
        self.prefix = settings.topic_prefix
        self.store = Store(settings.review_db)
        if rebuild:
            self.store.rebuild()
        self.users = UserDirectory(settings.review_users)
        dummy_hash()  # made now, so the first unknown name costs no more than a known one
        self.throttle = LoginThrottle()
        self.password_checks = ThreadPoolExecutor(max_workers=2, thread_name_prefix="password-check")
        self.metrics = ReviewMetrics()
        self.policy: PolicyText = policy_text(settings.policy_path, settings.policy_text)
        self.rules = self.policy.policy.review
        clauses = {rule.clause for rule in self.policy.policy.rules}
        self.store.set_urgency(
            {c: self.rules.urgency(c).severity for c in clauses},
            self.rules.default.severity,
            self._target(self.rules.default.target_minutes),
            {c: self._target(self.rules.urgency(c).target_minutes) for c in clauses},
        )
        self.ingest = Ingest(self.store, settings.bootstrap_servers, self.prefix, self.metrics, self._dead_letter)
        self.producer: AIOKafkaProducer | None = None
        self._brigading: dict[str, BrigadingAlert] = {}
        self._agreement_sent: dict[str, tuple[int, int, int]] = {}
        self._tasks: list[asyncio.Task[Any]] = []
        self.started_at = time.time()
        self.alert_mail = AlertMailer.from_settings(settings)

    @property
    def alert_after(self) -> float:
        """The general alert age, for clauses without a target of their own in the policy file."""
        return self.settings.review_alert_after_minutes * 60

    def _target(self, minutes: float | None) -> float:
        return minutes * 60 if minutes is not None else self.alert_after

    def most_urgent(self, clauses: tuple[str, ...] | list[str]) -> str:
        """The clause that sets an item's rank and target (ties: the lower clause number)."""
        return min(clauses, key=lambda c: (self.rules.urgency(c).severity, c), default="-")

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._start_producer(), name="review-producer"),
            asyncio.create_task(self.ingest.run(), name="review-ingest"),
            asyncio.create_task(self._housekeeping(), name="review-housekeeping"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.producer is not None:
            await self.producer.stop()
        self.password_checks.shutdown(wait=False, cancel_futures=True)
        self.store.close()

    async def _start_producer(self) -> None:
        backoff = 1.0
        while True:
            producer = AIOKafkaProducer(
                bootstrap_servers=self.settings.bootstrap_servers,
                acks="all",
                enable_idempotence=True,
                client_id="civicwatch-review",
                **self.settings.kafka_auth(),
            )
            try:
                await producer.start()
            except Exception as exc:
                with contextlib.suppress(Exception):
                    await producer.stop()
                log.warning("review_producer_unavailable", error=type(exc).__name__, retry_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            self.producer = producer
            log.info("review_producer_started")
            return

    async def publish(self, spec: TopicSpec, key: str, event: Event) -> None:
        if self.producer is None:
            raise PublishError("Kafka is not reachable yet")
        try:
            await self.producer.send_and_wait(spec.full_name(self.prefix), encode(event), key=key.encode())
        except Exception as exc:
            raise PublishError(f"Kafka refused the record ({type(exc).__name__})") from exc

    async def publish_decision(self, decision: Decision, forward: CouncilForward | None) -> None:
        """Forward first (clause 5.5), then the decision: a decision on record always has its forward."""
        key = f"{decision.platform}:{decision.comment_id}"
        if forward is not None:
            await self.publish(COUNCIL_FORWARD, key, forward)
        await self.publish(MODERATION_DECISIONS, key, decision)
        with self.store.transaction():
            self.store.put_decision(decision)
        self.metrics.decisions.labels(decision.decision).inc()
        log.info(
            "decision_published",
            review_id=decision.review_id,
            decision_id=decision.decision_id,
            decision=decision.decision,
        )

    async def audit(
        self, actor: str, verb: str, subject: str, outcome: str = "ok", reason: str = "", **details: Any
    ) -> None:
        record = AuditRecord(
            audit_id=uuid.uuid4().hex,
            actor=actor[:128],
            verb=verb,
            subject=subject[:256],
            outcome=outcome,  # type: ignore[arg-type]
            reason=reason,
            details=details,
        )
        await self.publish(AUDIT_LOG, record.subject, record)

    async def _dead_letter(self, record: ConsumerRecord[Any, Any], error: SchemaError) -> None:
        letter = dead_letter_of(record, "review", error)
        await self.publish(COMMENTS_DEADLETTER, letter.key or letter.dead_letter_id, letter)
        log_dead_letter(letter)

    async def _housekeeping(self) -> None:
        """Queue metrics, overdue alerts (log + metric, once per item) and retention, on a timer."""
        while True:
            try:
                await self.housekeeping_tick()
            except Exception:
                log.exception("review_housekeeping_failed")
            await asyncio.sleep(self.settings.review_alert_interval)

    async def housekeeping_tick(self, now: float | None = None) -> None:
        now = now if now is not None else time.time()
        decided = self.store.decided(weeks_back(now, AGREEMENT_WEEKS))  # one read for the gauges and the records
        self.check_queue(now, decided)
        if self.alert_mail is not None:
            await asyncio.to_thread(self.alert_mail.send)
        await self.check_brigading(now)
        await self.publish_agreement(now, decided=decided)

    def check_queue(self, now: float | None = None, decided: list[Decided] | None = None) -> int:
        """``decided``: the decisions of the last weeks if the caller has read them already."""
        now = now if now is not None else time.time()
        depth = self.store.pending_by_clause()
        self.metrics.depth.clear()
        for clause, n in depth.items():
            self.metrics.depth.labels(clause).set(n)
        pending, oldest = self.store.pending_stats()
        self.metrics.pending.set(pending)
        self.metrics.oldest.set(now - oldest if oldest is not None else 0)
        by_severity, fresh = self.store.overdue(now)
        overdue = sum(by_severity.values())
        self.metrics.overdue.set(overdue)
        self.metrics.overdue_by_severity.clear()
        for severity, n in by_severity.items():
            self.metrics.overdue_by_severity.labels(str(severity)).set(n)
        if fresh:
            for item in fresh:
                clause = self.most_urgent(item.clauses)
                # Ids and numbers only: the comment's text and author stay in the view.
                log.warning(
                    "review_item_overdue",
                    review_id=item.review_id,
                    clause=clause,
                    clauses=list(item.clauses),
                    severity=item.severity,
                    target_s=round(item.target_s),
                    waited_s=round(now - item.queued_at),
                    urgent=item.severity == 1,
                )
                self.metrics.overdue_alerts.labels(clause).inc()
            if self.alert_mail is not None:
                self.alert_mail.queue(
                    [i for i in fresh if i.severity <= self.settings.review_alert_email_severity], now
                )
            with self.store.transaction():
                self.store.mark_alerted([item.review_id for item in fresh])
        if overdue:
            log.warning("review_queue_overdue", items=overdue, by_severity=by_severity)
        self.measure_agreement(now, decided)
        with self.store.transaction():
            self.store.prune_comments(now - self.settings.review_history_days * 86400)
            self.store.prune_sessions(now, self.settings.review_idle_minutes * 60)
        self.purge(now)
        return overdue

    def purge(self, now: float | None = None) -> dict[str, int]:
        """Delete the view's rows past the policy file's retention (clause 6.2); counts, never content."""
        retention = self.policy.policy.retention
        if retention is None:
            return {}
        now = now if now is not None else time.time()
        cutoffs: dict[str, float] = {record: now - rule.seconds for record, rule in retention.records.items()}
        with self.store.transaction():
            deleted = self.store.purge(cutoffs)
        if any(deleted.values()):
            log.info("review_records_purged", **{f"{table}_rows": n for table, n in deleted.items() if n})
        return deleted

    def _decided_since(self, since: float, decided: list[Decided] | None) -> list[Decided]:
        """The decisions since ``since``: from ``decided`` when the caller read a longer span already."""
        return self.store.decided(since) if decided is None else [d for d in decided if d.decided_at >= since]

    def measure_agreement(self, now: float, decided: list[Decided] | None = None) -> None:
        """The agreement gauges: flags confirmed, kept (false alarms) and added over the last 7 days."""
        totals = agreement(self._decided_since(now - 7 * 86400, decided)).totals()
        self.metrics.agreement.clear()
        for clause, t in totals.items():
            for verdict in ("confirmed", "false_alarm", "added"):
                self.metrics.agreement.labels(clause, verdict).set(getattr(t, verdict))

    async def publish_agreement(
        self, now: float | None = None, weeks: int = AGREEMENT_WEEKS, decided: list[Decided] | None = None
    ) -> int:
        """Publish the agreement per clause and week to ``analytics.aggregates``: the last ``weeks``
        weeks whole, and after that only the cells that changed. Returns the records sent."""
        now = now if now is not None else time.time()
        records = as_aggregates(agreement(self._decided_since(weeks_back(now, weeks), decided)))
        counts = {key: (a.confirmed, a.false_alarms, a.added) for key, a in records.items()}
        sent = 0
        for key, aggregate in records.items():
            if self._agreement_sent.get(key) == counts[key]:
                continue
            await self.publish(ANALYTICS_AGGREGATES, key, aggregate)
            self._agreement_sent[key] = counts[key]
            sent += 1
        if sent:
            log.info("agreement_published", records=sent)
        return sent

    def brigading_alerts(self, now: float | None = None) -> list[BrigadingAlert]:
        """Posts whose alert is still fresh (raised within the last two windows), newest first."""
        now = now if now is not None else time.time()
        keep = 2 * self.rules.brigading.window_minutes * 60
        return sorted((a for a in self._brigading.values() if now - a.at < keep), key=lambda a: -a.at)

    async def check_brigading(self, now: float | None = None) -> list[BrigadingAlert]:
        """Raise an alert for each post with a sudden rise, once per post and window: a log event, a
        counter, a ``PostAlert`` on ``analytics.alerts`` and a record in ``audit.log`` (the post and the
        clauses; no comment, no author)."""
        now = now if now is not None else time.time()
        rule = self.rules.brigading
        window = rule.window_minutes * 60
        raised: list[BrigadingAlert] = []
        for counts in self.store.post_windows(
            now, window, rule.baseline_hours * 3600, min(rule.min_comments, rule.min_flagged)
        ):
            alert = assess(counts, rule, now)
            previous = self._brigading.get(counts.post)
            if alert is None or (previous is not None and now - previous.at < window):
                continue
            self._brigading[counts.post] = alert
            raised.append(alert)
            log.warning(
                "brigading_suspected",
                post=alert.post,
                signal=alert.signal,
                clauses=list(alert.clauses),
                comments=alert.comments,
                flagged=alert.flagged,
                baseline=alert.baseline,
                baseline_flagged=alert.baseline_flagged,
                window_minutes=alert.window_minutes,
            )
            self.metrics.brigading_alerts.labels(alert.signal).inc()
            try:
                await self.publish(ANALYTICS_ALERTS, alert.post, post_alert(alert))
            except PublishError:
                log.warning("analytics_alert_unavailable", post=alert.post)
            try:
                await self.audit(
                    "civicwatch-review",
                    "alert.brigading",
                    f"post:{alert.post}",
                    signal=alert.signal,
                    clauses=list(alert.clauses),
                    comments=alert.comments,
                    flagged=alert.flagged,
                    baseline=alert.baseline,
                    baseline_flagged=alert.baseline_flagged,
                    window_minutes=alert.window_minutes,
                )
            except PublishError:
                log.warning("audit_unavailable", verb="alert.brigading")
        self.metrics.brigading_posts.set(len(self.brigading_alerts(now)))
        return raised
