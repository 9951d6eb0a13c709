"""5.7.4 Sexual content or links to sexual content.

Explicit terms, solicitation ("hot singles", "send nudes") and adult sites or their domains, in
English and French. Health and education stay clean: "sexual health clinic", "breast cancer
screening" and "Essex" are not sexual content, so anatomy words count only outside a medical or
civic phrase.
"""

from __future__ import annotations

from typing import ClassVar

from pipelines.base import Comment, register
from pipelines.detectors._learned import LearnedDetector
from pipelines.lexicons import read_labeled
from pipelines.normalize import NormalizedText, compile_folded
from pipelines.types import Evidence

_ADULT_LINK = compile_folded(
    r"(?i)\b(?:[\w-]+\.)*(?:pornhub|xvideos|xhamster|onlyfans|chaturbate|redtube|youporn|xnxx|brazzers|fansly|livejasmin|stripchat|[\w-]*(?:porn|xxx|sex|nude|camgirl)[\w-]*)\.(?:com|net|org|tv|xxx|me|io|ca)\b"
)
_HEALTH = compile_folded(
    r"\b(sexual (health|assault|harassment|education|orientation)|breast (cancer|feeding|screening|milk)|sex(ual)? offender registry|same-sex|safe sex education|santé sexuelle|agression sexuelle|cancer du sein|allaitement)\b"
)


@register
class SexualContentDetector(LearnedDetector):
    name = "sexual"
    version = "1"
    clause = "5.7.4"
    category = "sexual"
    rule_scores: ClassVar[dict[str, float]] = {
        "explicit": 0.85,
        "solicitation": 0.85,
        "anatomy": 0.45,
        "adult_link": 0.95,
    }
    model_weight = 0.0

    def terms(self) -> dict[str, str]:
        return dict(read_labeled("sexual.txt"))

    def rules(self, comment: Comment, norm: NormalizedText) -> list[Evidence]:
        spans = super().rules(comment, norm)
        if spans and _HEALTH.search(norm.text):
            spans = [s for s in spans if s.label not in ("anatomy", "explicit") or not self._in_health(norm, s)]
        for m in _ADULT_LINK.finditer(comment.text):
            spans.append(Evidence(m.start(), m.end(), "adult_link"))
        return spans

    @staticmethod
    def _in_health(norm: NormalizedText, span: Evidence) -> bool:
        for m in _HEALTH.finditer(norm.text):
            s, e = norm.to_original(m.start(), m.end())
            if s <= span.start and span.end <= e:
                return True
        return False

    def adjust(self, comment: Comment, norm: NormalizedText, score: float, spans: list[Evidence]) -> float:
        if sum(1 for s in spans if s.label == "anatomy") >= 2:
            score = max(score, 0.7)
        return score
