"""``civicwatch review``: the moderators' queue and analysts' dashboard; ``review add-user``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer


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
        from aiohttp import web

        from workers.config import Settings
        from workers.logs import configure_logging, get_logger
        from workers.review import UsersFileError
        from workers.review.service import ReviewService
        from workers.review.web import build_app

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
        web.run_app(
            build_app(service), host=settings.review_host, port=settings.review_port, print=None, access_log=None
        )

    @review.command("add-user")
    def add_user(
        name: str = typer.Argument(..., help="Log-in name (lower case letters, digits, '.', '_', '-')."),
        role: str = typer.Option(..., help="moderator, analyst or admin."),
        users_file: Path | None = typer.Option(None, help="Users file (default CIVICWATCH_REVIEW_USERS)."),
        password_stdin: bool = typer.Option(False, help="Read the password from standard input (for scripts)."),
    ) -> None:
        """Create or update a user; only a scrypt hash of the password is stored."""
        from workers.config import Settings
        from workers.review import UsersFileError
        from workers.review.auth import add_user as store_user

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
