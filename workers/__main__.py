"""``python -m workers [--agents ...]``: the worker process alone, without the rest of the CLI."""

from workers.main import app

app(prog_name="python -m workers")
