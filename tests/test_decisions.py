"""A moderator's decision becomes at most one platform action and always one audit record."""

from __future__ import annotations

import pytest

from schemas import Decision
from workers.agents.decisions import plan


def decision(kind: str, hidden: bool = False, decision_id: str = "d-1") -> Decision:
    return Decision(
        decision_id=decision_id,
        review_id="r-1",
        platform="facebook",
        comment_id="c-1",
        post_id="p-1",
        decision=kind,  # type: ignore[arg-type]
        clauses=["5.7.9"],
        reason="checked",
        moderator="mod-a",
        hidden=hidden,
    )


@pytest.mark.parametrize(
    ("kind", "hidden", "expected"),
    [
        ("keep", False, None),
        ("keep", True, "unhide"),  # auto-hidden under 5.7.9, then judged fine: restore it
        ("hide", False, "hide"),
        ("hide", True, None),  # already hidden by policy: nothing to do on the platform
        ("delete", False, "delete"),
        ("delete", True, "delete"),
        ("forward", False, None),
        ("escalate", True, None),
    ],
)
def test_decision_to_action(kind: str, hidden: bool, expected: str | None) -> None:
    action, audit = plan(decision(kind, hidden))
    assert (action.action if action else None) == expected
    assert audit.verb == f"decision.{kind}" and audit.actor == "mod-a" and audit.reason == "checked"
    assert audit.subject == "facebook:c-1"
    assert audit.details["action_id"] == (action.action_id if action else None)


def test_ids_are_stable_per_decision_for_redelivery() -> None:
    first, again, other = (
        plan(decision("delete")),
        plan(decision("delete")),
        plan(decision("delete", decision_id="d-2")),
    )
    assert first[0] and again[0] and other[0]
    assert first[0].action_id == again[0].action_id != other[0].action_id
    assert first[1].audit_id == again[1].audit_id != other[1].audit_id
