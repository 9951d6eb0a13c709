"""The single ``civicwatch`` command. Each module in ``civicwatch.commands`` adds its own subcommands."""

from __future__ import annotations

import importlib
import pkgutil

import typer

import civicwatch.commands as _commands

app = typer.Typer(
    name="civicwatch",
    help="Moderates a city's social media comments under the City of Windsor Social Media Policy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _info in sorted(pkgutil.iter_modules(_commands.__path__), key=lambda i: i.name):
    if not _info.name.startswith("_"):
        importlib.import_module(f"{_commands.__name__}.{_info.name}").register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
