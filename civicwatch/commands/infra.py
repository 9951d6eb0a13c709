"""``civicwatch kafka``, ``civicwatch topics`` and ``civicwatch schemas``: the plumbing commands."""

from __future__ import annotations

import typer

from civicwatch import kafka_local
from runtime.admin import ReplicationError, ensure_topics
from runtime.settings import Settings
from schemas import export
from schemas.topics import ALL_TOPICS


def register(app: typer.Typer) -> None:
    kafka = typer.Typer(help="The local Kafka broker or cluster (KRaft, 127.0.0.1).", no_args_is_help=True)
    topics = typer.Typer(help="Every topic, declared in schemas/topics.py.", no_args_is_help=True)
    schemas = typer.Typer(help="JSON Schema files of the events, for analysts.", no_args_is_help=True)
    app.add_typer(kafka, name="kafka")
    app.add_typer(topics, name="topics")
    app.add_typer(schemas, name="schemas")

    brokers_option = typer.Option(
        None,
        "--brokers",
        min=1,
        help="Nodes: 1 (default, .local/kafka) or 3, a KRaft cluster with replication 3 and min ISR 2 "
        "(.local/kafka-cluster, ports CIVICWATCH_KAFKA_PORT + 0, 2, 4; default 19292). "
        "Default: CIVICWATCH_KAFKA_BROKERS or 1.",
    )

    def _env(brokers: int | None) -> dict[str, str] | None:
        return {"CIVICWATCH_KAFKA_BROKERS": str(brokers)} if brokers else None

    @kafka.command("up")
    def kafka_up(
        timeout: float = typer.Option(120, help="Seconds to wait for the broker."), brokers: int | None = brokers_option
    ) -> None:
        """Fetch the broker's jars if needed, start the broker or cluster, and wait until it answers."""
        bootstrap = kafka_local.up(timeout, env=_env(brokers))
        typer.echo(f"Kafka ready at {bootstrap}")
        if kafka_local.brokers_of(_env(brokers)) > 1:
            typer.echo(f"for the worker and topics: KAFKA_BOOTSTRAP_SERVERS={bootstrap} CIVICWATCH_REPLICATION=3")

    @kafka.command("down")
    def kafka_down(brokers: int | None = brokers_option) -> None:
        """Stop the local broker or cluster (the data stays in .local/)."""
        kafka_local.down(env=_env(brokers))

    @kafka.command("status")
    def kafka_status(brokers: int | None = brokers_option) -> None:
        """Exit 0 when the broker (every node) is running, 3 when it is not."""
        running = kafka_local.status(env=_env(brokers))
        typer.echo(f"{'running' if running else 'stopped'}: {kafka_local.bootstrap_servers(_env(brokers))}")
        raise typer.Exit(0 if running else 3)

    @topics.command("create")
    def topics_create(
        prefix: str | None = typer.Option(None, help="Topic name prefix (default CIVICWATCH_TOPIC_PREFIX)."),
        partitions: int | None = typer.Option(None, help="Partitions for topics without a fixed count."),
    ) -> None:
        """Create missing topics and reconcile the configs of existing ones (idempotent); each topic's
        retention is its record type's in the policy file (clause 6.2)."""
        from civicwatch.records import retention_ms
        from pipelines.policy import load_policy

        settings = Settings.from_env()
        try:
            results = ensure_topics(
                settings.bootstrap_servers,
                settings.topic_prefix if prefix is None else prefix,
                default_partitions=partitions or settings.partitions,
                replication=settings.replication,
                retention=retention_ms(load_policy(settings.policy_path)),
            )
        except ReplicationError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        for name, outcome in results:
            typer.echo(f"{outcome:9} {name}")

    @topics.command("list")
    def topics_list() -> None:
        """Print the declared topics with their purpose and retention."""
        prefix = Settings.from_env().topic_prefix
        for spec in ALL_TOPICS:
            cfg = spec.kafka_config()
            typer.echo(f"{spec.full_name(prefix):28} {cfg['cleanup.policy']:8} {spec.purpose}")

    @schemas.command("export")
    def schemas_export() -> None:
        """Regenerate schemas/json/ from the event models."""
        for path in export.write():
            typer.echo(str(path))

    @schemas.command("check")
    def schemas_check() -> None:
        """Exit 1 when schemas/json/ differs from the models."""
        stale = [
            n
            for n, t in export.render().items()
            if not (export.JSON_DIR / n).exists() or (export.JSON_DIR / n).read_text(encoding="utf-8") != t
        ]
        if stale:
            typer.echo("stale: " + ", ".join(stale) + " (run `civicwatch schemas export`)", err=True)
            raise typer.Exit(1)
        typer.echo("schemas/json is up to date")
