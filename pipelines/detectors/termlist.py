"""5.7.10-5.7.12: moderator-maintained term lists.

Ownership claims (5.7.10), other city policies (5.7.11) and what Corporate Communications deems
inappropriate (5.7.12) cannot be read from text alone; the policy file carries the terms so a new
issue can be acted on the same day, without a release. One class serves the three rules: the
clause and category come from the rule that binds it.

Settings: ``terms``: a list of plain terms (matched case- and accent-insensitively at word
boundaries) or mappings ``{term: ..., score: ..., label: ...}`` / ``{pattern: regex, label: ...}``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from pipelines.base import ClauseDetector, Comment, register
from pipelines.types import Evidence, Tag


def _fold(text: str) -> str:
    """Lowercase and strip accents one character at a time, so offsets are preserved."""
    out = []
    for ch in text:
        base = unicodedata.normalize("NFKD", ch)
        kept = "".join(c for c in base if not unicodedata.combining(c))
        out.append(kept[:1].lower() if len(kept) >= 1 else ch.lower()[:1] or " ")
    return "".join(c if c else " " for c in out)


@register
class TermListDetector(ClauseDetector):
    name = "termlist"
    version = "1"
    clause = "5.7.12"
    category = "inappropriate"

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.rules: list[tuple[re.Pattern[str], float, str]] = []
        for entry in self.settings.get("terms", []) or []:
            if isinstance(entry, str):
                entry = {"term": entry}
            if not isinstance(entry, dict):
                raise ValueError(f"terms entries must be strings or mappings, got {type(entry).__name__}")
            score = float(entry.get("score", 0.9))
            if "pattern" in entry:
                rx = re.compile(str(entry["pattern"]), re.IGNORECASE)
                self.rules.append((rx, score, str(entry.get("label", "pattern"))))
            else:
                term = _fold(str(entry["term"]).strip())
                words = r"\s+".join(re.escape(w) for w in term.split())
                self.rules.append((re.compile(rf"(?<!\w){words}(?!\w)"), score, str(entry.get("label", "term"))))

    def detect(self, comment: Comment) -> list[Tag]:
        if not self.rules:
            return []
        folded = comment.view("folded", _fold)
        spans: list[Evidence] = []
        best = 0.0
        for rx, score, label in self.rules:
            for m in rx.finditer(folded if label != "pattern" else comment.text):
                spans.append(Evidence(m.start(), m.end(), label))
                best = max(best, score)
        if not spans:
            return []
        return [self.tag(best, spans[:20], detail=f"{len(spans)} listed term(s)")]
