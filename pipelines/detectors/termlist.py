"""5.7.10-5.7.12: moderator-maintained term lists.

Ownership claims (5.7.10), other city policies (5.7.11) and what Corporate Communications deems
inappropriate (5.7.12) cannot be read from text alone; the policy file carries the terms so a new
issue can be acted on the same day, without a release. One class serves the three rules, so it
states no clause or category of its own (``per_rule``): each rule that binds it states them.

Settings: ``terms``: a list of plain terms (matched case- and accent-insensitively at word
boundaries) or mappings ``{term: ..., score: ..., label: ...}`` / ``{pattern: regex, label: ...}``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from pydantic import Field, model_validator

from pipelines.base import ClauseDetector, Comment, DetectorSettings, SettingsIn, register
from pipelines.types import Evidence, Tag


def _fold(text: str) -> str:
    """Lowercase and strip accents one character at a time, so offsets are preserved."""
    out = []
    for ch in text:
        base = unicodedata.normalize("NFKD", ch)
        kept = "".join(c for c in base if not unicodedata.combining(c))
        out.append(kept[:1].lower() if len(kept) >= 1 else ch.lower()[:1] or " ")
    return "".join(c if c else " " for c in out)


class Entry(DetectorSettings):
    """One listed term (a plain string in the file is ``{term: ...}``) or one regular expression."""

    term: str | None = Field(None, min_length=1)
    pattern: str | None = Field(None, min_length=1)
    score: float = Field(0.9, ge=0.0, le=1.0)
    label: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _plain_term(cls, value: Any) -> Any:
        return {"term": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_of_term_or_pattern(self) -> Entry:
        if (self.term is None) == (self.pattern is None):
            raise ValueError("give either term or pattern")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern is not a regular expression: {exc}") from exc
        return self


class TermListSettings(DetectorSettings):
    terms: list[Entry] = Field(default_factory=list)


@register
class TermListDetector(ClauseDetector):
    name = "termlist"
    version = "1"
    clause = ""
    category = ""
    per_rule = True
    settings_model = TermListSettings
    settings: TermListSettings

    def __init__(self, settings: SettingsIn = None, **rule: str) -> None:
        super().__init__(settings, **rule)
        self.rules: list[tuple[re.Pattern[str], float, str]] = []
        for entry in self.settings.terms:
            if entry.pattern is not None:
                rx = re.compile(entry.pattern, re.IGNORECASE)
                self.rules.append((rx, entry.score, entry.label or "pattern"))
            else:
                term = _fold((entry.term or "").strip())
                words = r"\s+".join(re.escape(w) for w in term.split())
                self.rules.append((re.compile(rf"(?<!\w){words}(?!\w)"), entry.score, entry.label or "term"))

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
