"""Routing decisions, without a broker: which outputs one classified comment produces, with stable ids."""

from __future__ import annotations

from datetime import UTC, datetime

from pipelines.pipeline import Classification
from pipelines.types import Evidence, Tag
from schemas import Comment
from workers.routing import council_persons, route

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
POLICY = "windsor@test"


def comment(text: str = "Text", comment_id: str = "c1") -> Comment:
    return Comment(platform="x", comment_id=comment_id, post_id="p1", author_id="a1", text=text, created_at=NOW)


def tag(clause: str, category: str, score: float = 0.9, **extra: str) -> Tag:
    return Tag(clause, category, score, (Evidence(0, 4, category),), category, "1", extra=dict(extra))


def result(*tags: Tag, flags: tuple[str, ...] = (), action: str | None = None) -> Classification:
    return Classification("en", tags, flags, action)


def test_clean_comment_goes_only_to_tagged() -> None:
    routed = route(comment(), result(tag("5.7.2", "profane", 0.2)), POLICY)
    assert routed.review is None and routed.council is None
    assert routed.tagged.routes == ["tagged"] and routed.tagged.flags == []
    assert routed.tagged.tags[0].score == 0.2 and routed.tagged.policy == POLICY


def test_flagged_comment_goes_to_review_with_its_removal_clauses() -> None:
    c = comment("Some profane text")
    r = result(
        tag("5.7.2", "profane"), tag("5.7.9", "private_info"), flags=("private_info", "profane"), action="auto_hide"
    )
    routed = route(c, r, POLICY, post_text="Snow clearing update")
    assert routed.review is not None
    assert routed.tagged.routes == ["tagged", "review"]
    assert routed.review.clauses == ["5.7.2", "5.7.9"]
    assert routed.review.action == "auto_hide" and routed.review.post_text == "Snow clearing update"
    assert routed.review.comment == c


def test_council_reference_is_forwarded_not_reviewed() -> None:
    """Clause 5.5 is a route, not a violation: the comment is acknowledged and forwarded."""
    r = result(tag("5.5", "council", person="Mayor"), flags=("council",), action="forward")
    routed = route(comment("Mayor, when will you answer?"), r, POLICY)
    assert routed.review is None
    assert routed.council is not None and routed.council.persons == ["Mayor"]
    assert routed.tagged.routes == ["tagged", "council"]
    assert [t.category for t in routed.council.tags] == ["council"]


def test_flagged_and_council_reaches_both() -> None:
    r = result(tag("5.7.2", "profane"), tag("5.5", "council", person="Ward 3 councillor"), flags=("council", "profane"))
    routed = route(comment(), r, POLICY)
    assert routed.tagged.routes == ["tagged", "review", "council"]
    assert routed.review is not None and routed.review.clauses == ["5.7.2"]


def test_ids_are_stable_for_redelivery_and_change_with_an_edit() -> None:
    r = result(tag("5.7.2", "profane"), tag("5.5", "council", person="Mayor"), flags=("council", "profane"))
    first, again = route(comment("a"), r, POLICY), route(comment("a"), r, POLICY)
    edited, other = route(comment("b"), r, POLICY), route(comment("a", "c2"), r, POLICY)
    assert first.review and again.review and edited.review and other.review
    assert first.council and again.council
    assert first.review.review_id == again.review.review_id
    assert first.council.forward_id == again.council.forward_id
    assert len({first.review.review_id, edited.review.review_id, other.review.review_id}) == 3


def test_council_persons_are_unique_and_fall_back_to_council() -> None:
    tags = (tag("5.5", "council", person="Mayor"), tag("5.5", "council", person="Mayor"), tag("5.5", "council"))
    assert council_persons(tags) == ["Mayor", "Council"]
