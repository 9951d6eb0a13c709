"""5.7.6 Content related to non-city sales, advertising or promotions.

Spam on a city's page is mostly links to shops, crypto-recovery and giveaway scams, "DM me" and
"check my profile" bait, and promotional text pasted under many posts. Signals add up: one link
alone is a resident sharing a news story; a link plus an offer is an ad; the same long text seen
``repeat_min`` times among the last ``repeat_window`` comments is a campaign (a bounded memory of
text fingerprints, kept per process). The city's own links and programmes are allowed (settings
``allow_domains``, ``allow_terms``: "citywindsor.ca", "Windsor Rec Connect", ...).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, ClassVar

from pipelines.base import Comment, register
from pipelines.detectors._learned import LearnedDetector
from pipelines.gate import compile_gated
from pipelines.normalize import NormalizedText, compile_folded, fold_accents
from pipelines.types import Evidence

_URL = compile_gated(
    r"(?i)\b((?:https?://|www\.)[^\s<>\"]+|[a-z0-9-]+\.(?:com|net|shop|store|xyz|io|biz|info|ly|co|me)(?:/\S*)?)"
)
_OFFER = compile_gated(
    r"\b(buy now|order now|shop now|limited (time )?offer|\d+\s?% off|discount code|promo code|coupon|use code|"
    r"free (gift|trial|shipping|iphone|money|consultation|quote|estimate)|giveaway|give away|giving away|"
    r"win (a|an|free|cash)|you (have )?won|claim your|first \d+ (people|followers)|"
    r"prize|cash prize|earn \$?\d+|make \$?\d+|\$\d+[k]?\s?(a|per|/)\s?(day|week|hour|month)|work from home|"
    r"passive income|financial freedom|investment (opportunity|plan|manager)|account manager|trading (expert|platform|signals)|"
    r"bitcoin|btc|crypto|cryptocurrency|forex|nft|binary options|usdt|ethereum|"
    r"recover(ed)? (my|your|lost|stolen) (funds|money|crypto|account)|recovery expert|hacker who helped|"
    r"dm me|message me|inbox me|pm me|text me at|whatsapp|telegram|check (out )?my (profile|bio|page|channel|store|shop)|"
    r"follow me|link in (my )?bio|subscribe to my|for sale|best price|cheap(est)?|wholesale|call now|book now|"
    r"check out (my|our) (new )?(business|shop|store|bakery|salon|restaurant|website|site|services?|products?|menu)|"
    r"visit (our|my) (store|shop|website|site)|now open|grand opening|(hiring|hire) (now|today)|"
    r"we buy houses|cash for (your )?(house|home|car)|payday loans?|no credit check|"
    r"livraison gratuite|rabais|code promo|gagnez|gagner de l'argent|à vendre|écrivez-moi|contactez-moi|"
    r"achetez|promotion|profitez|argent facile|revenu passif|investissement|cryptomonnaie|"
    r"abonnez-vous|lien dans (ma )?bio|en privé|texte-moi|textez-moi|tirage|concours)\b"
)
_REPEAT_MIN_CHARS = 40
_SHORTENER = compile_folded(r"(?i)\b(bit\.ly|tinyurl\.com|goo\.gl|t\.me|wa\.me|linktr\.ee|cutt\.ly|rb\.gy|is\.gd)\b")


@register
class CommercialDetector(LearnedDetector):
    name = "commercial"
    version = "1"
    clause = "5.7.6"
    category = "commercial"
    rule_scores: ClassVar[dict[str, float]] = {"offer": 0.55, "link": 0.3, "shortener": 0.6, "repeated": 0.45}
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
        self.allow_terms = tuple(fold_accents(str(t)).lower() for t in self.settings.get("allow_terms") or [])
        self.repeat_window = int(self.settings.get("repeat_window", 5000))
        self.repeat_min = int(self.settings.get("repeat_min", 3))
        self._seen: OrderedDict[int, int] = OrderedDict()

    def _repeats(self, norm: NormalizedText) -> int:
        """How many times this long text has been seen recently, this time included."""
        key = " ".join(norm.text.split())
        if len(key) < _REPEAT_MIN_CHARS or self.repeat_window <= 0:
            return 0
        h = hash(key)
        count = self._seen.pop(h, 0) + 1
        self._seen[h] = count
        if len(self._seen) > self.repeat_window:
            self._seen.popitem(last=False)
        return count

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
        if self._repeats(norm) >= self.repeat_min:
            spans.append(Evidence(0, len(text), "repeated"))
        return spans

    def adjust(self, comment: Comment, norm: NormalizedText, score: float, spans: list[Evidence]) -> float:
        kinds = {s.label for s in spans}
        offers = sum(1 for s in spans if s.label == "offer")
        if offers >= 2 or (offers and kinds & {"link", "shortener"}):
            score = max(score, 0.85)
        if "repeated" in kinds and (kinds & {"link", "shortener", "offer"}):
            score = max(score, 0.9)
        if self.allow_terms and any(t in norm.text for t in self.allow_terms):
            score = min(score, 0.3)
        return score
