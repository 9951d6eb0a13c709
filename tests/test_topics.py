"""Topic declarations: one table, the topics every consumer relies on, and retention per clause 6.2."""

from __future__ import annotations

from schemas.topics import ALL_TOPICS, AUDIT_LOG, CONNECTOR_STATE, DAY_MS, POSTS, TopicSpec

REQUIRED = {
    "comments.raw",
    "posts",
    "comments.tagged",
    "moderation.review",
    "moderation.decisions",
    "moderation.actions",
    "council.forward",
    "analytics.aggregates",
    "comments.deadletter",
    "connector.state",
    "audit.log",
}


def test_every_required_topic_is_declared_once() -> None:
    names = [t.name for t in ALL_TOPICS]
    assert len(names) == len(set(names))
    assert set(names) >= REQUIRED


def test_latest_value_topics_are_compacted_and_never_expire() -> None:
    for spec in (POSTS, CONNECTOR_STATE):
        cfg = spec.kafka_config()
        assert cfg["cleanup.policy"] == "compact"
        assert "retention.ms" not in cfg


def test_audit_log_outlives_everything_else_and_keeps_one_order() -> None:
    """Clause 6.2: records are kept per the retention by-law; one partition keeps the audit trail ordered."""
    assert AUDIT_LOG.partitions == 1
    assert AUDIT_LOG.retention_ms is not None and AUDIT_LOG.retention_ms >= 7 * 365 * DAY_MS
    others = [t.retention_ms for t in ALL_TOPICS if t is not AUDIT_LOG and t.retention_ms is not None]
    assert all(r < AUDIT_LOG.retention_ms for r in others)


def test_prefix_lets_deployments_share_a_cluster() -> None:
    assert POSTS.full_name("staging.") == "staging.posts"
    assert {t.full_name("a.") for t in ALL_TOPICS}.isdisjoint({t.full_name("b.") for t in ALL_TOPICS})


def test_declared_configs_override_defaults_and_are_strings() -> None:
    spec = TopicSpec("x", "test", retention_ms=1000, config={"max.message.bytes": "2000000"})
    assert spec.kafka_config() == {"cleanup.policy": "delete", "retention.ms": "1000", "max.message.bytes": "2000000"}
    for topic in ALL_TOPICS:
        assert all(isinstance(v, str) for v in topic.kafka_config().values())
