"""``civicwatch worker``: runs the faust agents until stopped."""

from __future__ import annotations

import os
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("worker")
    def worker(
        policy: Path | None = typer.Option(None, help="Policy file (default: CIVICWATCH_POLICY or the bundled one)."),
        loglevel: str = typer.Option("info", help="Log level."),
        web_port: int | None = typer.Option(None, help="Port of faust's web server; 0 disables it."),
    ) -> None:
        """Ingest, classify and route every comment; turn decisions into actions; keep analytics."""
        if policy is not None:
            os.environ["CIVICWATCH_POLICY"] = str(policy)
        if web_port is not None:
            os.environ["CIVICWATCH_WEB_PORT"] = str(web_port)
        from pipelines.policy import PolicyError
        from workers.logs import configure_logging, logging_config

        configure_logging(loglevel)
        from faust import Worker

        from workers.agents import comments, load_all
        from workers.app import app as faust_app

        try:
            comments.pipeline()  # a bad policy file stops start-up here, naming the line
        except PolicyError as exc:
            typer.echo(f"civicwatch worker: {exc}", err=True)
            raise typer.Exit(2) from exc
        load_all()
        Worker(
            faust_app,
            loglevel=loglevel,
            quiet=True,
            redirect_stdouts=False,
            logging_config=logging_config(loglevel),
        ).execute_from_commandline()
