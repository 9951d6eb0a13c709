"""5.7.6 Content related to non-city sales, advertising or promotions.

Spam on a city's page is mostly links to shops, crypto and giveaway scams, "DM me" and "check my
profile" bait, and promotional text pasted under many posts. Signals add up: one link alone is a
resident sharing a news story; a link plus an offer is an ad. The city's own links and programmes
are allowed (settings ``allow_domains``, ``allow_terms``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pipelines.base import Comment, register
from pipelines.detectors._learned import LearnedDetector
from pipelines.normalize import NormalizedText, compile_folded
from pipelines.types import Evidence, Tag

_URL = compile_folded(
    r"(?i)\b((?:https?://|www\.)[^\s<>\"]+|[a-z0-9-]+\.(?:com|net|shop|store|xyz|io|biz|info|ly|co|me)(?:/\S*)?)"
)
_OFFER = compile_folded(
    r"\b(buy now|order now|shop now|limited (time )?offer|\d+\s?% off|discount code|promo code|coupon|"
    r"free (gift|trial|shipping|iphone|money)|giveaway|give away|win (a|an|free|cash)|you (have )?won|claim your|"
    r"prize|cash prize|earn \$?\d+|make \$?\d+|\$\d+[k]?\s?(a|per)\s?(day|week|hour)|work from home|"
    r"passive income|financial freedom|investment (opportunity|plan)|bitcoin|btc|crypto|forex|nft|binary options|"
    r"dm me|message me|inbox me|pm me|text me at|whatsapp|telegram|check (out )?my (profile|bio|page|channel)|"
    r"follow me|link in (my )?bio|subscribe to my|for sale|best price|cheap(est)?|wholesale|call now|"
    r"livraison gratuite|rabais|code promo|gagnez|gagner de l'argent|à vendre|écrivez-moi|contactez-moi)\b"
)
_SHORTENER = compile_folded(r"(?i)\b(bit\.ly|tinyurl\.com|goo\.gl|t\.me|wa\.me|linktr\.ee|cutt\.ly|rb\.gy|is\.gd)\b")


@register
class CommercialDetector(LearnedDetector):
    name = "commercial"
    version = "1"
    clause = "5.7.6"
    category = "commercial"
    rule_scores: ClassVar[dict[str, float]] = {"offer": 0.55, "link": 0.3, "shortener": 0.6}
    model_weight = 0.9

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        domains = self.settings.get("allow_domains") or [
            "citywindsor.ca",
            "windsor.ca",
            "ontario.ca",
            "canada.ca",
        ]
        self.allow_domains = tuple(str(d).lower() for d in domains)
        self.allow_terms = tuple(str(t).lower() for t in self.settings.get("allow_terms") or [])

    def rules(self, comment: Comment, norm: NormalizedText) -> list[Evidence]:
        text = comment.text
        spans: list[Evidence] = []
        for m in _URL.finditer(text):
            url = m.group().lower()
            if any(d in url for d in self.allow_domains):
                continue
            spans.append(Evidence(m.start(), m.end(), "shortener" if _SHORTENER.search(url) else "link"))
        for m in _OFFER.finditer(norm.text):
            s, e = norm.to_original(m.start(), m.end())
            spans.append(Evidence(s, e, "offer"))
        return spans

    def adjust(self, comment: Comment, norm: NormalizedText, score: float, spans: list[Evidence]) -> float:
        kinds = {s.label for s in spans}
        offers = sum(1 for s in spans if s.label == "offer")
        if offers >= 2 or (offers and kinds & {"link", "shortener"}):
            score = max(score, 0.85)
        if self.allow_terms and any(t in norm.text for t in self.allow_terms):
            score = min(score, 0.3)
        return score

    def detect(self, comment: Comment) -> list[Tag]:
        return super().detect(comment)
