"""The worker process: runs the faust agents until stopped, all of them or the ones named.

``python -m workers`` runs it alone; ``civicwatch worker`` is the same command in the CLI.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import typer


def worker(
    policy: Path | None = typer.Option(None, help="Policy file (default: CIVICWATCH_POLICY or the bundled one)."),
    loglevel: str = typer.Option("info", help="Log level."),
    web_port: int | None = typer.Option(None, help="Port of faust's web server; 0 disables it."),
    agents: str | None = typer.Option(
        None,
        help="Agents to run, comma-separated: comments, decisions, posts, analytics (default: "
        "CIVICWATCH_AGENTS, else all). Analytics alone is its own faust app, <app id>-analytics.",
    ),
) -> None:
    """Ingest, classify and route every comment; turn decisions into actions; keep analytics.

    Run classification and analytics apart with ``--agents comments,decisions,posts`` and
    ``--agents analytics``: each then scales and fails on its own.
    """
    if policy is not None:
        os.environ["CIVICWATCH_POLICY"] = str(policy)
    if web_port is not None:
        os.environ["CIVICWATCH_WEB_PORT"] = str(web_port)
    if agents is not None:
        os.environ["CIVICWATCH_AGENTS"] = agents
    from pipelines.policy import PolicyError
    from runtime.logs import configure_logging, logging_config
    from runtime.settings import Settings

    try:
        settings = Settings.from_env()
    except ValueError as exc:
        typer.echo(f"civicwatch worker: {exc}", err=True)
        raise typer.Exit(2) from exc
    configure_logging(loglevel)
    import structlog
    from faust import Worker

    from workers.app import app as faust_app

    if "comments" in settings.agents:
        from workers.agents import comments

        try:
            comments.pipeline()  # a bad policy file stops start-up here, naming the line
        except PolicyError as exc:
            typer.echo(f"civicwatch worker: {exc}", err=True)
            raise typer.Exit(2) from exc
    for name in settings.agents:
        importlib.import_module(f"workers.agents.{name}")
    structlog.get_logger("civicwatch.worker").info(
        "worker_starting", agents=list(settings.agents), app_id=settings.faust_app_id
    )
    Worker(
        faust_app,
        loglevel=loglevel,
        quiet=True,
        redirect_stdouts=False,
        logging_config=logging_config(loglevel),
    ).execute_from_commandline()


app = typer.Typer(name="worker", add_completion=False, pretty_exceptions_enable=False)
app.command()(worker)
