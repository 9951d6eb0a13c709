"""``civicwatch kafka``, ``civicwatch topics`` and ``civicwatch schemas``: the plumbing commands."""

from __future__ import annotations

import typer

from civicwatch import kafka_local
from runtime.admin import ensure_topics
from runtime.settings import Settings
from schemas import export
from schemas.topics import ALL_TOPICS


def register(app: typer.Typer) -> None:
    kafka = typer.Typer(help="The local single-node Kafka broker (KRaft, 127.0.0.1).", no_args_is_help=True)
    topics = typer.Typer(help="Every topic, declared in schemas/topics.py.", no_args_is_help=True)
    schemas = typer.Typer(help="JSON Schema files of the events, for analysts.", no_args_is_help=True)
    app.add_typer(kafka, name="kafka")
    app.add_typer(topics, name="topics")
    app.add_typer(schemas, name="schemas")

    @kafka.command("up")
    def kafka_up(timeout: float = typer.Option(120, help="Seconds to wait for the broker.")) -> None:
        """Fetch the broker's jars if needed, start it, and wait until it answers."""
        typer.echo(f"Kafka ready at {kafka_local.up(timeout)}")

    @kafka.command("down")
    def kafka_down() -> None:
        """Stop the local broker (its data stays in .local/kafka)."""
        kafka_local.down()

    @kafka.command("status")
    def kafka_status() -> None:
        """Exit 0 when the broker is running, 3 when it is not."""
        running = kafka_local.status()
        typer.echo(f"{'running' if running else 'stopped'}: {kafka_local.bootstrap_servers()}")
        raise typer.Exit(0 if running else 3)

    @topics.command("create")
    def topics_create(
        prefix: str | None = typer.Option(None, help="Topic name prefix (default CIVICWATCH_TOPIC_PREFIX)."),
        partitions: int | None = typer.Option(None, help="Partitions for topics without a fixed count."),
    ) -> None:
        """Create missing topics and reconcile the configs of existing ones (idempotent)."""
        settings = Settings.from_env()
        results = ensure_topics(
            settings.bootstrap_servers,
            settings.topic_prefix if prefix is None else prefix,
            default_partitions=partitions or settings.partitions,
            replication=settings.replication,
        )
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
