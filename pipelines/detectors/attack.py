"""5.7.7 (first half): a specific attack on groups or individuals.

An attack is abuse aimed at someone: "you are an idiot", "the councillor is a crook". Criticism of
the city, its services or its decisions is neither an attack nor a violation: residents may say
the city is wrong, loudly ("this decision is a disgrace", "worst snow removal ever"). So insults
count only when aimed at a person, and a comment whose only target is an institution or a decision
is capped below the threshold however angry it is.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import Any, ClassVar

from pipelines.base import Comment, register
from pipelines.detectors._learned import LearnedDetector
from pipelines.gate import compile_gated
from pipelines.lexicons import read_terms
from pipelines.normalize import NormalizedText, compile_folded
from pipelines.types import Evidence

_PERSON = (
    r"(you|u|ya|you're|youre|ur|your|yourself|he|she|they|him|her|them|he's|she's|hes|shes|they're|"
    r"this guy|that guy|this woman|that woman|this man|that man|the mayor|mayor \w+|councillor \w+|"
    r"the councillor|these people|you people|those people|t'es|tu es|vous êtes|toi|espèce d[e']|ce gars|cette femme)"
)
_AIMED = compile_folded(
    rf"\b{_PERSON}\s+(are|is|r|re|'re|were|was|sont|est)?\s*(just\s+|only\s+|juste\s+|rien qu'un\s+)?"
    rf"(such\s+|a\s+|an\s+|the\s+|un\s+|une\s+|des\s+|de\s+|d')?(\w+\s+)?$"
)
_DIRECT = compile_gated(
    r"\b(shut up|shut your|go to hell|go die|drop dead|get lost|nobody (cares|asked) (what you|about you|you|for your)|you make me sick|"
    r"screw you|eat shit|kiss my|f\*?off|piss off|ferme[- ]la|ta gueule|va chier|mange (de la )?marde|"
    r"you should be (ashamed|fired|in jail)|should be (fired|jailed|locked up)|resign you)\b"
)
_INSTITUTION = compile_gated(
    r"\b(city|council|decision|plan|budget|bylaw|by-law|policy|service|services|department|administration|"
    r"road|roads|snow removal|plowing|transit|bus|project|idea|system|process|ville|décision|conseil|projet|"
    r"service|déneigement|budget)\b"
)
ABUSE = {"insult", "severe", "slur", "moderate"}


@register
class AttackDetector(LearnedDetector):
    name = "attack"
    version = "1"
    clause = "5.7.7"
    category = "attack"
    rule_scores: ClassVar[dict[str, float]] = {"aimed_insult": 0.8, "direct": 0.75}

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)

    def terms(self) -> dict[str, str]:
        vocabulary = read_terms("profanity.txt")
        return {t: label for t, label in vocabulary.terms.items() if label in ABUSE or label == "insult_adj"}

    def rules(self, comment: Comment, norm: NormalizedText) -> list[Evidence]:
        text = norm.text
        spans: list[Evidence] = []
        vocabulary = read_terms("profanity.txt")
        for s, e, label, term in self.lexicon.find(norm):
            if not vocabulary.counts(term, comment.language):
                continue
            # position in normalised text of this original span: search backwards window
            ns = bisect_left(norm.offsets, s)
            before = text[max(0, ns - 45) : ns]
            if _AIMED.search(before) or (label in ("slur", "severe") and re.search(r"\b(you|u|ur)\b", before)):
                spans.append(Evidence(s, e, "aimed_insult"))
        for m in _DIRECT.finditer(text):
            s, e = norm.to_original(m.start(), m.end())
            spans.append(Evidence(s, e, "direct"))
        return spans

    def adjust(self, comment: Comment, norm: NormalizedText, score: float, spans: list[Evidence]) -> float:
        if not spans and _INSTITUTION.search(norm.text):
            return min(score, 0.35)  # criticism of the city is not an attack
        return score
