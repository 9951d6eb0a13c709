"""Routing decisions, without a broker: which outputs one classified comment produces, with stable ids."""

from __future__ import annotations

from tests.factories import classification as result
from tests.factories import comment, tag
from workers.routing import council_persons, route

POLICY = "windsor@test"


def test_clean_comment_goes_only_to_tagged() -> None:
    routed = route(comment(), result(tag("5.7.2", "profane", 0.2)), POLICY)
    assert routed.review is None and routed.council is None
    assert routed.tagged.routes == ["tagged"] and routed.tagged.flags == []
    assert routed.tagged.tags[0].score == 0.2 and routed.tagged.policy == POLICY


def test_flagged_comment_goes_to_review_with_its_removal_clauses() -> None:
    c = comment(text="Some profane text")
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
    routed = route(comment(text="Mayor, when will you answer?"), r, POLICY)
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
    first, again = route(comment(text="a"), r, POLICY), route(comment(text="a"), r, POLICY)
    edited, other = route(comment(text="b"), r, POLICY), route(comment("c2", "a"), r, POLICY)
    assert first.review and again.review and edited.review and other.review
    assert first.council and again.council
    assert first.review.review_id == again.review.review_id
    assert first.council.forward_id == again.council.forward_id
    assert len({first.review.review_id, edited.review.review_id, other.review.review_id}) == 3


def test_council_persons_are_unique_and_fall_back_to_council() -> None:
    tags = (tag("5.5", "council", person="Mayor"), tag("5.5", "council", person="Mayor"), tag("5.5", "council"))
    assert council_persons(tags) == ["Mayor", "Council"]
