"""Value types shared by every detector, the worker and the offline tools.

A ``Tag`` is the unit a moderator checks: which clause, how sure, and where in the text as the
resident wrote it. Offsets are Python string indices (code points) into the original text, end
exclusive, so any consumer can slice the evidence without re-running normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Evidence:
    """One span of original text that made a detector fire."""

    start: int
    end: int
    label: str

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "label": self.label}


@dataclass(frozen=True, slots=True)
class Tag:
    """A detector's finding against one policy clause (e.g. ``5.7.9``)."""

    clause: str
    category: str
    score: float
    spans: tuple[Evidence, ...]
    detector: str
    version: str
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "clause": self.clause,
            "category": self.category,
            "score": round(self.score, 4),
            "spans": [s.as_dict() for s in self.spans],
            "detector": f"{self.detector}@{self.version}",
        }
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass(frozen=True, slots=True)
class CommentInput:
    """What a detector may look at: the text, and the post it answers when known (5.7.1).

    ``source_id`` (``platform:id`` in the worker) says which comment this is: one read again after a
    rebalance or a restart is the same comment, not the same text posted again (5.7.6 campaigns).
    """

    text: str
    context: str | None = None
    language: str | None = None
    source_id: str | None = None
