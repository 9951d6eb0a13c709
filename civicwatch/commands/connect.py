"""``civicwatch connect ...``: the connector processes (``connectors.main``, also ``python -m connectors``)."""

from __future__ import annotations

import typer

from connectors.main import app as connect


def register(app: typer.Typer) -> None:
    app.add_typer(connect, name="connect")
