"""Every Kafka topic, declared once: name, partitions, cleanup policy, retention and record type.

``civicwatch topics create`` reconciles a cluster with this table; the faust app and the connectors
take their topic names from here, with the deployment's prefix applied, so several deployments can
share a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicSpec:
    """One topic's declaration. ``partitions=None`` means the deployment default."""

    name: str
    purpose: str
    partitions: int | None = None
    cleanup_policy: str = "delete"
    retention_ms: int | None = 30 * DAY_MS
    config: dict[str, str] = field(default_factory=dict)
    record: str | None = None
    """The record type (clause 6.2) whose retention the policy file sets for this topic; ``retention_ms``
    is the bundled policy's default, used where no policy is at hand (a test's or demo's topics)."""

    def full_name(self, prefix: str = "") -> str:
        return f"{prefix}{self.name}"

    def kafka_config(self) -> dict[str, str]:
        cfg = {"cleanup.policy": self.cleanup_policy}
        if self.retention_ms is not None:
            cfg["retention.ms"] = str(self.retention_ms)
        cfg.update(self.config)
        return cfg


COMMENTS_RAW = TopicSpec("comments.raw", "comments as read from the platforms (Comment)", record="comments")
POSTS = TopicSpec(
    "posts",
    "the city's own posts, latest per post (Post); context for 5.7.1",
    cleanup_policy="compact",
    retention_ms=None,
)
COMMENTS_TAGGED = TopicSpec("comments.tagged", "every comment with its tags and routes (TaggedComment)", record="tags")
MODERATION_REVIEW = TopicSpec(
    "moderation.review",
    "flagged comments for moderators (ReviewItem)",
    retention_ms=365 * DAY_MS,
    record="review_items",
)
POSTS_REVIEW = TopicSpec(
    "posts.review",
    "the city's own posts with confidential or private information, clause 5.6 (PostReviewItem)",
    retention_ms=365 * DAY_MS,
    record="review_items",
)
MODERATION_DECISIONS = TopicSpec(
    "moderation.decisions", "moderators' decisions (Decision)", retention_ms=365 * DAY_MS, record="decisions"
)
MODERATION_ACTIONS = TopicSpec(
    "moderation.actions",
    "hide/unhide/delete for connectors (ModerationAction)",
    retention_ms=365 * DAY_MS,
    record="actions",
)
COUNCIL_FORWARD = TopicSpec(
    "council.forward",
    "comments about the Mayor or Council, clause 5.5 (CouncilForward)",
    retention_ms=365 * DAY_MS,
    record="review_items",
)
REPLY_PROPOSALS = TopicSpec(
    "moderation.proposals",
    "acknowledgement replies (clause 5.5) waiting for a moderator's approval (ModerationAction, kind reply)",
    retention_ms=365 * DAY_MS,
    record="actions",
)
ANALYTICS_AGGREGATES = TopicSpec(
    "analytics.aggregates",
    "windowed counts without personal information, clauses 2.2.3/2.2.8 (Aggregate)",
    retention_ms=400 * DAY_MS,
)
ANALYTICS_ALERTS = TopicSpec(
    "analytics.alerts",
    "sudden rises of comments or flags on one post, brigading (PostAlert); no personal information",
    retention_ms=400 * DAY_MS,
)
COMMENTS_DEADLETTER = TopicSpec(
    "comments.deadletter",
    "messages that could not be processed, whole, with the reason (DeadLetter)",
    retention_ms=90 * DAY_MS,
    record="dead_letters",
)
CONNECTOR_STATE = TopicSpec(
    "connector.state",
    "connector checkpoints, latest per connector:scope (Checkpoint)",
    partitions=1,
    cleanup_policy="compact",
    retention_ms=None,
)
AUDIT_LOG = TopicSpec(
    "audit.log",
    "who did what, when and why; kept per Record Retention By-law 21-2013, clause 6.2",
    partitions=1,
    retention_ms=7 * 365 * DAY_MS,
    record="audit",
)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    COMMENTS_RAW,
    POSTS,
    COMMENTS_TAGGED,
    MODERATION_REVIEW,
    POSTS_REVIEW,
    MODERATION_DECISIONS,
    MODERATION_ACTIONS,
    COUNCIL_FORWARD,
    REPLY_PROPOSALS,
    ANALYTICS_AGGREGATES,
    ANALYTICS_ALERTS,
    COMMENTS_DEADLETTER,
    CONNECTOR_STATE,
    AUDIT_LOG,
)
