"""``civicwatch review``: the review service's commands (``review.main``, also ``python -m review``)
plus ``review demo``: Kafka, the worker and the sample behind the pages, in one command."""

from __future__ import annotations

import os
import secrets
import time

import typer

from review.main import cli, run_service


def register(app: typer.Typer) -> None:
    review = cli()
    app.add_typer(review, name="review")

    @review.command("demo")
    def demo(
        port: int = typer.Option(8080, help="Port of the review pages."),
    ) -> None:
        """Start Kafka and the worker, replay the sample as if written in the last hours, and serve the
        pages with three demo users (passwords printed once); Ctrl-C stops everything it started."""
        from civicwatch import kafka_local
        from connectors.replay.recent import replay_recent
        from review.auth import add_user as store_user
        from runtime.admin import delete_topics, ensure_topics
        from runtime.settings import REPO_ROOT
        from runtime.sink import KafkaSink
        from workers.process import WorkerProcess

        started_kafka = not kafka_local.is_external() and not kafka_local.status()
        bootstrap = kafka_local.up()
        prefix = f"review{int(time.time())}."
        workdir = REPO_ROOT / ".local" / "review-demo" / prefix.rstrip(".")
        ensure_topics(bootstrap, prefix)
        passwords = {name: secrets.token_urlsafe(12) for name in ("moderator", "analyst", "admin")}
        for role, password in passwords.items():
            store_user(workdir / "users.yaml", role, role, password)
        worker = WorkerProcess(
            bootstrap,
            prefix,
            prefix.rstrip("."),
            workdir / "worker.log",
            data_dir=workdir / "worker",
            settings={"CIVICWATCH_ANALYTICS_INTERVAL": "2"},
        ).start()
        try:
            sink = KafkaSink(bootstrap, prefix)
            posts, comments = replay_recent(sink)
            sink.close()
            typer.echo(f"Kafka {bootstrap}, topics {prefix}*, worker pid {worker.pid} (log {worker.log_path})")
            typer.echo(f"Replayed {posts} posts and {comments} comments; the worker is classifying them.")
            typer.echo(f"Open http://127.0.0.1:{port}/ and sign in as (user / password):")
            for role, password in passwords.items():
                typer.echo(f"  {role:<10} {password}")
            os.environ.update(
                {
                    "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                    "CIVICWATCH_TOPIC_PREFIX": prefix,
                    "CIVICWATCH_REVIEW_PORT": str(port),
                    "CIVICWATCH_REVIEW_USERS": str(workdir / "users.yaml"),
                    "CIVICWATCH_REVIEW_DB": str(workdir / "review.sqlite3"),
                }
            )
            run_service(rebuild=False, loglevel="warning")
        finally:
            worker.stop()
            delete_topics(bootstrap, prefix)
            if started_kafka:
                kafka_local.down()
            typer.echo("Demo stopped.")
