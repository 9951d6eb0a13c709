"""Prometheus metrics of the review service: counts and ages only, never text or people.

A registry per service instance, so tests (and a second instance in one process) do not collide
in the global default registry.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class ReviewMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.records = Counter("civicwatch_review_records", "Records applied to the view", ["topic"], registry=r)
        self.invalid = Counter(
            "civicwatch_review_invalid_records", "Records dead-lettered by the view", ["topic"], registry=r
        )
        self.lag = Gauge("civicwatch_review_consumer_lag", "Records not yet applied, per topic", ["topic"], registry=r)
        self.depth = Gauge("civicwatch_review_queue_depth", "Pending review items per clause", ["clause"], registry=r)
        self.pending = Gauge("civicwatch_review_queue_pending", "Pending review items", registry=r)
        self.oldest = Gauge(
            "civicwatch_review_oldest_pending_seconds", "Age of the oldest pending review item", registry=r
        )
        self.overdue = Gauge(
            "civicwatch_review_overdue_items", "Pending items waiting longer than the alert age", registry=r
        )
        self.overdue_by_severity = Gauge(
            "civicwatch_review_overdue_by_severity",
            "Pending items past their target, by the severity of their most urgent clause (1: threats, private info)",
            ["severity"],
            registry=r,
        )
        self.overdue_alerts = Counter(
            "civicwatch_review_overdue_alerts",
            "Items that crossed their clause's target (once per item), by their most urgent clause",
            ["clause"],
            registry=r,
        )
        self.brigading_alerts = Counter(
            "civicwatch_review_brigading_alerts",
            "Sudden rises of comments or flags on one post (once per post and window), by what rose",
            ["signal"],
            registry=r,
        )
        self.brigading_posts = Gauge(
            "civicwatch_review_brigading_posts", "Posts with a fresh brigading alert", registry=r
        )
        self.agreement = Gauge(
            "civicwatch_review_agreement_flags",
            "Flags judged by moderators over the last 7 days, per clause and verdict (confirmed, false_alarm, added)",
            ["clause", "verdict"],
            registry=r,
        )
        self.decisions = Counter("civicwatch_review_decisions", "Decisions published", ["decision"], registry=r)
        self.logins = Counter("civicwatch_review_logins", "Log-in attempts", ["outcome"], registry=r)
        self.consumer_up = Gauge("civicwatch_review_consumer_up", "1 while the view's consumer runs", registry=r)
