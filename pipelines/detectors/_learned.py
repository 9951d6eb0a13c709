"""Shared shape of detectors that blend the shipped text model with precise rules.

Rules give evidence a moderator can check and catch what the model never saw (French, new spam);
the model generalises phrasing no list holds. The score is the larger of the two, so a precise rule
can flag on its own and the model can flag without a rule hit (its evidence is then the words that
pushed its score up).

The model's scores arrive calibrated (0.5 is each category's operating point, see
``pipelines.textmodel``), so they are used as they are: raising them to a power or scaling them
here would move every clause's operating point by a different amount and break the promise that
one threshold means the same thing across clauses.
"""

from __future__ import annotations

from typing import ClassVar

from pipelines.base import ClauseDetector, Comment, SettingsIn
from pipelines.normalize import Lexicon, NormalizedText, normalize
from pipelines.textmodel import active_model, encoder_spans, model_score, model_spans, prime
from pipelines.types import Evidence, Tag

FRENCH_MODEL_DISCOUNT = 0.6
"""The shipped model learned from English data; on French its guesses count for less and the
French lexicons and rules carry the decision."""


class LearnedDetector(ClauseDetector):
    """Subclasses set ``lexicon`` (term -> label) scores in ``rule_scores`` and may refine ``rules``."""

    rule_scores: ClassVar[dict[str, float]] = {}
    model_weight: float = 1.0
    """Trust in the model for this clause: 0 turns it off; below 1 the model alone needs a score of
    ``0.5 / model_weight`` to flag (a stricter operating point than the calibrated one)."""

    def __init__(self, settings: SettingsIn = None, **rule: str) -> None:
        super().__init__(settings, **rule)
        self.lexicon = Lexicon(self.terms())

    def terms(self) -> dict[str, str]:
        return {}

    def detect_batch(self, comments: list[Comment]) -> list[list[Tag]]:
        prime(comments)
        return [self.detect(c) for c in comments]

    def rules(self, comment: Comment, norm: NormalizedText) -> list[Evidence]:
        """Rule evidence; the default is the lexicon's hits."""
        return [Evidence(s, e, label) for s, e, label, _ in self.lexicon.find(norm)]

    def adjust(self, comment: Comment, norm: NormalizedText, score: float, spans: list[Evidence]) -> float:
        """Last word on the score (e.g. criticism of the city is not an attack)."""
        return score

    def detail(self, spans: list[Evidence]) -> str:
        return ", ".join(sorted({s.label for s in spans}))

    def detect(self, comment: Comment) -> list[Tag]:
        norm: NormalizedText = comment.view("norm", normalize)
        spans = self.rules(comment, norm)
        rule = max((self.rule_scores.get(s.label, 0.6) for s in spans), default=0.0)
        learned = model_score(comment, self.category) if self.model_weight > 0 else None
        if learned is not None and comment.language == "fr":
            learned *= FRENCH_MODEL_DISCOUNT
        model_part = (learned or 0.0) * self.model_weight
        score = max(rule, model_part, min(1.0, rule + 0.25 * model_part)) if rule else model_part
        score = self.adjust(comment, norm, score, spans)
        if score < 0.05:
            return []
        if learned is not None and score >= 0.5 and (not spans or model_part >= max(0.5, rule)):
            spans = [*spans, *model_evidence(comment, self.category)]
        model = active_model() if learned is not None else None
        return [self.tag(score, spans[:20], detail=self.detail(spans) or "model", model=model.version if model else "")]


def model_evidence(comment: Comment, category: str) -> list[Evidence]:
    """The words of the original text that carried the model's score: the linear model's (``model_spans``,
    never empty) and, when the encoder re-scored the comment, the words its head credits."""
    spans = model_spans(comment.text, category)
    if comment._views.get("encoder"):
        spans += [s for s in encoder_spans(comment.text, category) if not any(s[0] < e and b < s[1] for b, e in spans)]
    return [Evidence(s, e, "model") for s, e in sorted(spans)]
