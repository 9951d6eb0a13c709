"""Where a classified comment goes: pure functions, so routing is tested without a broker.

Every comment goes to ``comments.tagged``; a comment with a 5.7 category over its threshold also
goes to ``moderation.review``; one that refers to the Mayor or Council (5.5) also goes to
``council.forward``. Ids are derived from the comment key and text, so a redelivered comment
produces the same review and forward ids and consumers can drop repeats.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.pipeline import Classification
from pipelines.types import Tag
from schemas import Comment, CouncilForward, ReviewItem, SpanModel, TaggedComment, TagModel
from schemas.events import Route
from schemas.ids import stable_id, text_digest

__all__ = ["Routed", "council_persons", "route", "stable_id", "tag_model", "text_digest"]


def tag_model(tag: Tag) -> TagModel:
    return TagModel(
        clause=tag.clause,
        category=tag.category,
        score=round(tag.score, 4),
        spans=[SpanModel(start=s.start, end=s.end, label=s.label) for s in tag.spans],
        detector=f"{tag.detector}@{tag.version}",
        detail=tag.detail,
    )


@dataclass(frozen=True)
class Routed:
    tagged: TaggedComment
    review: ReviewItem | None
    council: CouncilForward | None


def council_persons(tags: tuple[Tag, ...]) -> list[str]:
    persons: list[str] = []
    for tag in tags:
        if tag.category != "council":
            continue
        person = tag.extra.get("person") or tag.detail or "Council"
        if person not in persons:
            persons.append(str(person))
    return persons


def route(comment: Comment, result: Classification, policy: str, post_text: str | None = None) -> Routed:
    """Decide every output of one classified comment."""
    tags = [tag_model(t) for t in result.tags]
    routes: list[Route] = ["tagged"]
    review = council = None
    digest = text_digest(comment.text)
    if result.flagged:
        routes.append("review")
        removal = [t for t in result.tags if t.category in result.flags and t.clause.startswith("5.7")]
        review = ReviewItem(
            review_id=stable_id("review", comment.key, digest),
            comment=comment,
            post_text=post_text,
            tags=tags,
            flags=list(result.flags),
            clauses=sorted({t.clause for t in removal}),
            action=result.action or "review",
        )
    if result.council:
        routes.append("council")
        council = CouncilForward(
            forward_id=stable_id("council", comment.key, digest),
            comment=comment,
            persons=council_persons(result.tags),
            tags=[t for t in tags if t.category == "council"],
        )
    tagged = TaggedComment(
        comment=comment,
        language=result.language,
        tags=tags,
        flags=list(result.flags),
        action=result.action,
        routes=routes,
        policy=policy,
        truncated=result.truncated,
    )
    return Routed(tagged, review, council)
