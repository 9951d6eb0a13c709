"""One module per agent; ``load_all`` registers them on the app."""

from __future__ import annotations


def load_all() -> None:
    from workers.agents import analytics, comments, decisions, posts  # noqa: F401
