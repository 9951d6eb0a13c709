"""Creates and reconciles the declared topics on a cluster, idempotently.

Partitions only ever grow (shrinking would reshuffle keys and break per-comment ordering), and only
the configs we declare are touched, so an operator's other tuning survives a reconcile.

Topics created with a replication of 3 or more get ``min.insync.replicas=2``: an acknowledged write is
then on two brokers, so losing any one broker loses nothing (with ``acks=all``, which every producer
here uses, and ``unclean.leader.election.enable=false`` on the cluster).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable, Mapping

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic
from kafka.errors import TopicAlreadyExistsError

from runtime.settings import kafka_auth
from schemas.topics import ALL_TOPICS, TopicSpec


class ReplicationError(ValueError):
    """The requested replication factor cannot be met by the cluster."""


def min_insync_replicas(replication: int) -> int:
    """2 from a replication of 3 up (one broker may be lost without refusing writes), else 1."""
    return 2 if replication >= 3 else 1


def live_brokers(admin: KafkaAdminClient) -> int:
    return len(admin.describe_cluster().get("brokers", []))


def ensure_topics(
    bootstrap: str,
    prefix: str = "",
    specs: Iterable[TopicSpec] = ALL_TOPICS,
    default_partitions: int = 4,
    replication: int = 1,
    retention: Mapping[str, int] | None = None,
) -> list[tuple[str, str]]:
    """Create missing topics and fix drifted configs; return ``(topic, created|updated|unchanged)``.

    ``retention`` maps a record type (``TopicSpec.record``) to the ``retention.ms`` the policy file sets
    for it (clause 6.2); a topic of a type not in it keeps its declared retention.
    """
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="civicwatch-admin", request_timeout_ms=30000, **kafka_auth()
    )
    try:
        existing = set(admin.list_topics())
        results: list[tuple[str, str]] = []
        specs = with_retention(specs, retention)
        missing = [s for s in specs if s.full_name(prefix) not in existing]
        if missing:
            if replication < 1:
                raise ReplicationError(f"replication factor must be at least 1, not {replication}")
            brokers = live_brokers(admin)
            if replication > brokers:
                raise ReplicationError(
                    f"replication factor {replication} is larger than the cluster: {brokers} live broker(s) at "
                    f"{bootstrap}; set CIVICWATCH_REPLICATION to at most {brokers}"
                )
            durability = {"min.insync.replicas": str(min_insync_replicas(replication))} if replication > 1 else {}
            new = [
                NewTopic(
                    name=s.full_name(prefix),
                    num_partitions=s.partitions or default_partitions,
                    replication_factor=replication,
                    topic_configs={**s.kafka_config(), **durability},
                )
                for s in missing
            ]
            # Another process may win the race; the next run reconciles its result.
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(new, validate_only=False)
            results.extend((s.full_name(prefix), "created") for s in missing)
        present = [s for s in specs if s not in missing]
        if present:
            results.extend(_reconcile(admin, present, prefix, default_partitions))
        order = {s.full_name(prefix): i for i, s in enumerate(specs)}
        return sorted(results, key=lambda r: order[r[0]])
    finally:
        admin.close()


def with_retention(specs: Iterable[TopicSpec], retention: Mapping[str, int] | None) -> list[TopicSpec]:
    """The specs with each record type's retention from the policy file in place of the declared one."""
    retention = retention or {}
    return [
        dataclasses.replace(s, retention_ms=retention[s.record]) if s.record and s.record in retention else s
        for s in specs
    ]


def topic_configs(
    bootstrap: str, names: Iterable[str], bootstrap_timeout_ms: int = 10_000
) -> dict[str, dict[str, str | None]]:
    """The configs a cluster holds for the topics that exist among ``names`` (for reports)."""
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="civicwatch-admin",
        bootstrap_timeout_ms=bootstrap_timeout_ms,
        **kafka_auth(),
    )
    try:
        present = set(admin.list_topics())
        wanted = [n for n in names if n in present]
        if not wanted:
            return {}
        resources = [ConfigResource(ConfigResourceType.TOPIC, n) for n in wanted]
        configs = admin.describe_configs(resources).get("topic", {})
        return {name: {k: v.get("value") for k, v in entries.items()} for name, entries in configs.items()}
    finally:
        admin.close()


def _reconcile(
    admin: KafkaAdminClient, specs: list[TopicSpec], prefix: str, default_partitions: int
) -> list[tuple[str, str]]:
    names = [s.full_name(prefix) for s in specs]
    described = {d["name"]: len(d["partitions"]) for d in admin.describe_topics(names)}
    resources = [ConfigResource(ConfigResourceType.TOPIC, n) for n in names]
    # kafka-python 3 answers {"topic": {name: {config: {"value": ...}}}}
    configs = admin.describe_configs(resources).get("topic", {})
    current = {name: {k: v.get("value") for k, v in entries.items()} for name, entries in configs.items()}
    results = []
    grow: dict[str, NewPartitions] = {}
    alter = []
    for spec, name in zip(specs, names, strict=True):
        changed = False
        want = spec.partitions or default_partitions
        if described.get(name, want) < want:
            grow[name] = NewPartitions(total_count=want)
            changed = True
        declared = spec.kafka_config()
        if any(current.get(name, {}).get(k) != v for k, v in declared.items()):
            alter.append(ConfigResource(ConfigResourceType.TOPIC, name, configs=declared))
            changed = True
        results.append((name, "updated" if changed else "unchanged"))
    if grow:
        admin.create_partitions(grow)
    if alter:
        admin.alter_configs(alter)
    return results


def delete_topics(bootstrap: str, prefix: str, specs: Iterable[TopicSpec] = ALL_TOPICS) -> None:
    """Remove a prefixed deployment's topics (tests and demo runs clean up after themselves)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="civicwatch-admin", **kafka_auth())
    try:
        existing = set(admin.list_topics())
        names = [s.full_name(prefix) for s in specs if s.full_name(prefix) in existing]
        if names:
            admin.delete_topics(names)
    finally:
        admin.close()
