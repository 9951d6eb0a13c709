"""``civicwatch worker``: the worker process (``workers.main``, also ``python -m workers``)."""

from __future__ import annotations

import typer

from workers.main import worker


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
