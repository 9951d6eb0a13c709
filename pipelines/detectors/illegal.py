"""5.7.5 Conduct or encouragement of illegal activity.

Selling or buying drugs and weapons, fraud, vandalism, theft, evading taxes, piracy: an offer or an
encouragement, not a report. Residents reporting a crime to the city ("someone is dumping
illegally on my street, please send by-law") or discussing legal cannabis retail are not
encouraging anything, so a report or question framing lowers the score.
"""

from __future__ import annotations

from typing import ClassVar

from pipelines.base import Comment, register
from pipelines.detectors._learned import LearnedDetector
from pipelines.normalize import NormalizedText, compile_folded
from pipelines.types import Evidence

_OFFER = compile_folded(
    r"\b((selling|sell|buy|got|have|plug for|hmu for|dm for|vendre|vends|achète)\s+(\w+\s+){0,2}"
    r"(weed|coke|cocaine|crack|meth|heroin|fentanyl|oxy|oxys|xanax|percs|molly|mdma|lsd|shrooms|ketamine|"
    r"guns?|glock|pistol|ammo|fake ids?|counterfeit|stolen|pills|dope|cannabis|pot)\b)"
)
_ENCOURAGE = compile_folded(
    r"\b((let's|lets|we should|you should|go|everyone should|just|on devrait|allez)\s+(\w+\s+){0,2}"
    r"(vandali[sz]e|steal|rob|loot|shoplift|spray ?paint|slash (the )?tires|smash|trash the|break into|"
    r"dodge|evade|not pay|refuse to pay|stop paying|squat|torch|voler|casser|vandaliser|piller)\b)"
)
_SCHEMES = compile_folded(
    r"\b(how to (cheat|evade|dodge) (on )?(your )?taxes|tax evasion tips|free movies at|pirated|cracked software|"
    r"torrent (link|site)|money laundering|launder money|cash only no receipt|under the table to avoid tax|"
    r"fake (ids?|documents|passports)|counterfeit (bills|money)|stolen (cards|credit cards|goods) for sale|"
    r"drive drunk|drink and drive|street racing tonight|faux papiers|fausse monnaie)\b"
)
_REPORT = compile_folded(
    r"\b(report(ed|ing)?|please (send|check|investigate|enforce)|call (the )?(police|bylaw|by-law|311)|"
    r"someone (is|was|has been)|there (is|are) people|is anyone doing anything|should be (fined|charged|arrested)|"
    r"illegal(ly)? (dumping|parking)|signaler|dénoncer)\b"
)


@register
class IllegalActivityDetector(LearnedDetector):
    name = "illegal"
    version = "1"
    clause = "5.7.5"
    category = "illegal"
    rule_scores: ClassVar[dict[str, float]] = {"offer": 0.85, "encouragement": 0.8, "scheme": 0.8}
    model_weight = 0.0

    def rules(self, comment: Comment, norm: NormalizedText) -> list[Evidence]:
        spans = []
        for rx, label in ((_OFFER, "offer"), (_ENCOURAGE, "encouragement"), (_SCHEMES, "scheme")):
            for m in rx.finditer(norm.text):
                s, e = norm.to_original(m.start(), m.end())
                spans.append(Evidence(s, e, label))
        return spans

    def adjust(self, comment: Comment, norm: NormalizedText, score: float, spans: list[Evidence]) -> float:
        if spans and _REPORT.search(norm.text) and not any(s.label == "offer" for s in spans):
            return min(score, 0.3)
        return score
