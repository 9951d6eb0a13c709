"""5.7.4 Sexual content or links to sexual content.

Explicit terms, solicitation ("hot singles", "send nudes", "plan cul") and adult sites or their
domains, in English and French. Health, education and everyday phrases stay clean: "sexual health
clinic", "breast cancer screening", "police escort", "cul-de-sac", "naked eye" and "Essex" are not
sexual content, so anatomy words count only outside such a phrase, and weakly (two of them, or one
with an explicit term, are needed). A term marked ``@fr`` (``@en``) in the list counts only in French (outside French) comments.
"""

from __future__ import annotations

from typing import ClassVar

from pipelines.base import Comment, SettingsIn, register
from pipelines.detectors._learned import LearnedDetector
from pipelines.detectors._targets import animal_sense, place_name
from pipelines.gate import compile_gated
from pipelines.lexicons import read_terms
from pipelines.normalize import NormalizedText
from pipelines.types import Evidence

_ADULT_LINK = compile_gated(
    r"(?i)\b(?:[\w-]+\.)*(?:pornhub|xvideos|xhamster|onlyfans|chaturbate|redtube|youporn|xnxx|brazzers|fansly|livejasmin|stripchat|[\w-]*(?:porn|xxx|sex|nude|camgirl)[\w-]*)\.(?:com|net|org|tv|xxx|me|io|ca)\b"
)
_HEALTH = compile_gated(
    r"\b(sexual (health|assault|harassment|education|orientation|violence)|breast (cancer|feeding|screening|milk)|"
    r"sex(ual)? offender registry|same-sex|safe sex education|sex trafficking|human trafficking|"
    r"santé sexuelle|agression sexuelle|harcèlement sexuel|cancer du sein|allaitement|"
    r"police escort|escort(ed|ing)? (the|them|him|her|students|kids|children|seniors|the parade|vehicles?)|"
    r"cul[- ]de[- ]sacs?|naked eye|(the )?naked truth|sexe (masculin|féminin)|strip (mall|plaza)|"
    r"dick (street|st|ave)|moby dick|pussy willows?|cock(tail|erel))\b"
)

_PICTURES_UNCLOTHED = compile_gated(
    r"\b(pics?|photos?|pictures?|selfies?|vids?|videos?|vidéos?)\s+(of|de)\s+(you|yourself|u|toi|vous)\s+"
    r"(\w+\s+){0,2}?(naked|nude|topless|in (your|ur) (underwear|bra|panties)|nue?s?|à poil|en sous-vêtements)\b"
)
"""A request for pictures of the person addressed, unclothed ("send me a pic of yourself naked", "des photos
de toi toute nue"): solicitation without a listed phrase; bare trees in a picture are not a person."""


@register
class SexualContentDetector(LearnedDetector):
    name = "sexual"
    version = "5"
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
        return dict(read_terms("sexual.txt").terms)

    def __init__(self, settings: SettingsIn = None, **rule: str) -> None:
        self.vocabulary = read_terms("sexual.txt")
        super().__init__(settings, **rule)

    def rules(self, comment: Comment, norm: NormalizedText) -> list[Evidence]:
        spans = [
            Evidence(s, e, label)
            for s, e, label, term in self.lexicon.find(norm)
            if self.vocabulary.counts(term, comment.language)
            and not animal_sense(comment.text, s, e)
            and not place_name(comment.text, s, e)
        ]
        if spans and _HEALTH.search(norm.text):
            spans = [s for s in spans if s.label not in ("anatomy", "explicit") or not self._in_health(norm, s)]
        for m in _ADULT_LINK.finditer(comment.text):
            spans.append(Evidence(m.start(), m.end(), "adult_link"))
        for m in _PICTURES_UNCLOTHED.finditer(norm.text):
            s, e = norm.to_original(m.start(), m.end())
            spans.append(Evidence(s, e, "solicitation"))
        return spans

    @staticmethod
    def _in_health(norm: NormalizedText, span: Evidence) -> bool:
        for m in _HEALTH.finditer(norm.text):
            s, e = norm.to_original(m.start(), m.end())
            if s <= span.start and span.end <= e:
                return True
        return False

    def adjust(self, comment: Comment, norm: NormalizedText, score: float, spans: list[Evidence]) -> float:
        kinds = [s.label for s in spans]
        if kinds.count("anatomy") >= 2 or ("anatomy" in kinds and "explicit" in kinds):
            score = max(score, 0.7)
        return score
