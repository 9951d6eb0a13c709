"""``civicwatch review``: the moderators' queue and analysts' dashboard; ``review add-user``;
``review demo`` (Kafka, the worker and the sample behind the pages, in one command)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import typer


def run_service(rebuild: bool, loglevel: str) -> None:
    """Serve until stopped, with the settings of the environment."""
    from aiohttp import web

    from review import UsersFileError
    from review.service import ReviewService
    from review.web import build_app
    from runtime.logs import configure_logging, get_logger
    from runtime.settings import Settings

    configure_logging(loglevel)
    settings = Settings.from_env()
    try:
        service = ReviewService(settings, rebuild=rebuild)
    except UsersFileError as exc:
        typer.echo(f"civicwatch review: {exc}", err=True)
        raise typer.Exit(2) from exc
    get_logger("civicwatch.review").info(
        "review_service_starting", host=settings.review_host, port=settings.review_port
    )
    web.run_app(build_app(service), host=settings.review_host, port=settings.review_port, print=None, access_log=None)


def register(app: typer.Typer) -> None:
    review = typer.Typer(help="The review service: moderators' queue, analysts' dashboard (web, port 8080 by default).")
    app.add_typer(review, name="review")

    @review.callback(invoke_without_command=True)
    def serve(
        ctx: typer.Context,
        host: str | None = typer.Option(None, help="Address to listen on (default CIVICWATCH_REVIEW_HOST, 127.0.0.1)."),
        port: int | None = typer.Option(None, help="Port (default CIVICWATCH_REVIEW_PORT, 8080)."),
        rebuild: bool = typer.Option(False, help="Forget the view and rebuild it from the topics."),
        loglevel: str = typer.Option("info", help="Log level."),
    ) -> None:
        """Serve the review queue and the dashboard against the live topics until stopped."""
        if ctx.invoked_subcommand is not None:
            return
        if host is not None:
            os.environ["CIVICWATCH_REVIEW_HOST"] = host
        if port is not None:
            os.environ["CIVICWATCH_REVIEW_PORT"] = str(port)
        run_service(rebuild, loglevel)

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

        started_kafka = not kafka_local.is_external() and not kafka_local.status()
        bootstrap = kafka_local.up()
        prefix = f"review{int(time.time())}."
        workdir = REPO_ROOT / ".local" / "review-demo" / prefix.rstrip(".")
        ensure_topics(bootstrap, prefix)
        passwords = {name: secrets.token_urlsafe(12) for name in ("moderator", "analyst", "admin")}
        for role, password in passwords.items():
            store_user(workdir / "users.yaml", role, role, password)
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "CIVICWATCH_TOPIC_PREFIX": prefix,
            "CIVICWATCH_APP_ID": prefix.rstrip("."),
            "CIVICWATCH_WEB_PORT": "0",
            "CIVICWATCH_LOG_FORMAT": "json",
            "CIVICWATCH_ANALYTICS_INTERVAL": "2",
            "CIVICWATCH_DATA_DIR": str(workdir / "worker"),
        }
        with (workdir / "worker.log").open("wb") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "civicwatch.cli", "worker"], env=env, stdout=log, stderr=log
            )
        try:
            sink = KafkaSink(bootstrap, prefix)
            posts, comments = replay_recent(sink)
            sink.close()
            typer.echo(f"Kafka {bootstrap}, topics {prefix}*, worker pid {worker.pid} (log {workdir / 'worker.log'})")
            typer.echo(f"Replayed {posts} posts and {comments} comments; the worker is classifying them.")
            typer.echo(f"Open http://127.0.0.1:{port}/ and sign in as (user / password):")
            for role, password in passwords.items():
                typer.echo(f"  {role:<10} {password}")
            os.environ.update(
                {
                    "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                    "CIVICWATCH_TOPIC_PREFIX": prefix,
                    "CIVICWATCH_REVIEW_USERS": str(workdir / "users.yaml"),
                    "CIVICWATCH_REVIEW_DB": str(workdir / "review.sqlite3"),
                }
            )
            serve(
                ctx=typer.Context(typer.main.get_command(review)),
                host=None,
                port=port,
                rebuild=False,
                loglevel="warning",
            )
        finally:
            worker.terminate()
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
            delete_topics(bootstrap, prefix)
            if started_kafka:
                kafka_local.down()
            typer.echo("Demo stopped.")

    @review.command("add-user")
    def add_user(
        name: str = typer.Argument(..., help="Log-in name (lower case letters, digits, '.', '_', '-')."),
        role: str = typer.Option(..., help="moderator, analyst or admin."),
        users_file: Path | None = typer.Option(None, help="Users file (default CIVICWATCH_REVIEW_USERS)."),
        password_stdin: bool = typer.Option(False, help="Read the password from standard input (for scripts)."),
    ) -> None:
        """Create or update a user; only a scrypt hash of the password is stored."""
        from review import UsersFileError
        from review.auth import add_user as store_user
        from runtime.settings import Settings

        path = users_file or Settings.from_env().review_users
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            store_user(path, name, role, password)
        except UsersFileError as exc:
            typer.echo(f"civicwatch review add-user: {exc}", err=True)
            raise typer.Exit(2) from exc
        typer.echo(f"{name} ({role}) saved in {path}")
