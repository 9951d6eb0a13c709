"""Builders of test events and results, in one place so that a schema change is made once.

Every field has a plain default; a test names only what it is about.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pipelines.pipeline import Classification
from pipelines.types import Evidence, Tag
from schemas import Comment

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def comment(
    comment_id: str = "c1",
    text: str = "Text",
    *,
    platform: str = "x",
    post: str = "p1",
    author: str = "a1",
    handle: str | None = None,
    at: datetime = NOW,
    language: str | None = None,
    deleted: bool = False,
) -> Comment:
    return Comment(
        platform=platform,  # type: ignore[arg-type]
        comment_id=comment_id,
        post_id=post,
        author_id=author,
        author_handle=handle,
        text=text,
        language=language,
        created_at=at,
        deleted=deleted,
    )


def tag(clause: str, category: str, score: float = 0.9, **extra: str) -> Tag:
    """A detector's finding with one span over the first four characters."""
    return Tag(clause, category, score, (Evidence(0, 4, category),), category, "1", extra=dict(extra))


def classification(*tags: Tag, flags: tuple[str, ...] = (), action: str | None = None) -> Classification:
    return Classification("en", tags, flags, action)
