"""The review service process: the moderators' queue and analysts' dashboard, and ``add-user``.

``python -m review`` serves it alone; ``civicwatch review`` is the same group in the CLI, with
``review demo`` added there (it starts Kafka and the worker, which only the CLI may import).
"""

from __future__ import annotations

import os
import sys
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


def cli() -> typer.Typer:
    """A new ``review`` command group (new each call, so the CLI can add its own commands)."""
    review = typer.Typer(
        help="The review service: moderators' queue, analysts' dashboard (web, port 8080 by default).",
        add_completion=False,
        pretty_exceptions_enable=False,
    )

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

    @review.command("approve-replies")
    def approve_replies(
        moderator: str = typer.Option(..., help="Your log-in name (a moderator or admin of the review service)."),
        approve_all: bool = typer.Option(False, "--all", help="Approve every pending reply without asking."),
        users_file: Path | None = typer.Option(None, help="Users file (default CIVICWATCH_REVIEW_USERS)."),
        password_stdin: bool = typer.Option(False, help="Read the password from standard input (for scripts)."),
    ) -> None:
        """Approve the clause 5.5 acknowledgement replies waiting on moderation.proposals, one by one."""
        from review import UsersFileError
        from review.auth import UserDirectory
        from review.replies import approve, pending_replies
        from runtime.settings import Settings
        from runtime.sink import KafkaSink

        settings = Settings.from_env()
        password = sys.stdin.readline().rstrip("\n") if password_stdin else typer.prompt("Password", hide_input=True)
        try:
            user = UserDirectory(users_file or settings.review_users).authenticate(moderator, password)
        except UsersFileError as exc:
            typer.echo(f"civicwatch review approve-replies: {exc}", err=True)
            raise typer.Exit(2) from exc
        if user is None or not user.can("queue.decide"):
            typer.echo("civicwatch review approve-replies: not a moderator, or a wrong password", err=True)
            raise typer.Exit(2)
        pending = pending_replies(settings.bootstrap_servers, settings.topic_prefix)
        chosen = []
        for reply in pending:
            typer.echo(f"{reply.platform}:{reply.comment_id} (post {reply.post_id}): {reply.text}")
            if approve_all or typer.confirm("Post this reply?", default=False):
                chosen.append(reply)
        if chosen:
            sink = KafkaSink(
                settings.bootstrap_servers,
                settings.topic_prefix,
                transactional_id=f"{settings.topic_prefix}civicwatch-approve-replies",
            )
            try:
                approve(sink, chosen, user.name)
            finally:
                sink.close()
        typer.echo(f"{len(chosen)} of {len(pending)} pending repl{'y' if len(pending) == 1 else 'ies'} approved")

    @review.command("export-decisions")
    def export_decisions_command(
        out: Path = typer.Option(..., help="File to write (JSON lines, mode 0600, replaced if present)."),
        days: float | None = typer.Option(
            None, help="Decisions of the last DAYS (default and maximum: what moderation.decisions retains)."
        ),
    ) -> None:
        """Moderators' decisions as training examples: redacted text, flagged clauses, verdict per clause."""
        from review.examples import RETENTION_DAYS, export_decisions
        from review.store import Store
        from runtime.logs import configure_logging, get_logger
        from runtime.settings import Settings

        configure_logging("info")
        settings = Settings.from_env()
        if not settings.review_db.exists():
            typer.echo(f"civicwatch review export-decisions: no review view at {settings.review_db}", err=True)
            raise typer.Exit(2)
        store = Store(settings.review_db)
        try:
            written = export_decisions(store, out, min(days or RETENTION_DAYS, RETENTION_DAYS))
        finally:
            store.close()
        get_logger("civicwatch.review").info("decisions_exported", examples=written)
        typer.echo(f"{written} examples written to {out}")

    return review
