"""5.7.5 Conduct or encouragement of illegal activity.

Selling or buying drugs and weapons, fraud, vandalism, theft, evading taxes or fares, illegal
dumping, piracy: an offer or an encouragement (English and French), not a report. Residents reporting a crime to the city ("someone is dumping
illegally on my street, please send by-law") or discussing legal cannabis retail are not
encouraging anything, so a report or question framing lowers the score.
"""

from __future__ import annotations

import re
from typing import ClassVar

from pipelines.base import Comment, register
from pipelines.detectors._learned import LearnedDetector
from pipelines.gate import compile_gated
from pipelines.normalize import NormalizedText
from pipelines.types import Evidence

_DRUGS_WEAPONS = (
    r"(weed|coke|cocaine|crack|meth|crystal|heroin|fentanyl|fent|oxy|oxys|oxycodone|xanax|xans|percs|percocet|molly|"
    r"mdma|ecstasy|lsd|acid tabs|shrooms|ketamine|pills|dope|cannabis|edibles|pot(?!\s*-?\s*holes?\b)|hash|gummies|opioids|"
    r"guns?|glock|pistols?|handguns?|ammo|rifles?|switchblades?|brass knuckles|"
    r"fake ids?|counterfeit \w+|stolen \w+|cloned cards|cc dumps|fullz|"
    r"herbe|cocaïne|héroïne|pilules|fusils?|armes?|munitions|faux papiers)"
)
_AMBIGUOUS = (
    r"(?:(?:pot|crack|coke|acid tabs|crystal|dope|hash|pills|gummies|edibles|weed|cannabis|molly|fent|oxy|"
    r"guns?|pistols?|rifles?|ammo|handguns?|stolen \w+|herbe|armes?|fusils?|pilules|munitions)(?!\s*-?\s*holes?\b))"
)
"""Words that are also everyday or legal things ("pot holes", "started to crack", "have stolen items", a
hunting rifle): an offer only with a selling verb, not with "have" or "got"."""
_OFFER = compile_gated(
    rf"\b((selling|sell|sells|buying|buy|plug for|plug|hmu for|hmu|dm for|dm me for|text me for|"
    rf"hit me up for|delivery of|delivering|connect for|vendre|vends|vend|achète|j'ai du|j'ai de la|livraison de)"
    rf"\s+(\w+['\s]+){{0,2}}{_DRUGS_WEAPONS}\b|"
    rf"(got|have)\s+(\w+['\s]+){{0,2}}(?!{_AMBIGUOUS}\b){_DRUGS_WEAPONS}\b|"
    rf"{_DRUGS_WEAPONS}\s+(for sale|available|à vendre|dispo|disponible|delivered|delivery|livré|livraison)\b|"
    rf"(who wants|who needs|anyone want|anybody want|qui veut|qui a besoin d[e'])\s+(some\s+|du\s+|de la\s+|des\s+)?"
    rf"{_DRUGS_WEAPONS}\b)"
)
_ENCOURAGE = compile_gated(
    r"\b((let's|lets|we should|you should|go|everyone should|y'all should|just|someone should|on devrait|allez|"
    r"il faut|faudrait|tout le monde devrait)\s+(all\s+)?(\w+\s+){0,2}"
    r"(vandali[sz]e|steal|rob|loot|shoplift|spray ?paint|tag|slash (the |their )?tires|smash|trash the|break into|"
    r"break in|dodge|evade|not pay|refuse to pay|stop paying|squat|torch|dump (it|your \w+|them)|hack|"
    r"voler|casser|vandaliser|piller|défoncer|squatter|frauder|ne pas payer|arrêter de payer)\b)"
)
_SCHEMES = compile_gated(
    r"\b(how to (cheat|evade|dodge) (on )?(your )?taxes|tax evasion tips|free movies at|pirated|cracked software|"
    r"torrent (link|site)|money laundering|launder money|cash only no receipt|under the table to avoid tax|"
    r"fake ((drivers?'?s? |driving )?(ids?|licen[cs]es?)|documents|passports|doctor'?s notes?)|counterfeit (bills|money)|"
    r"faux (permis|passeports|documents|diplômes)|fausses? (cartes? d'identité|pièces d'identité)|"
    r"stolen (cards|credit cards|goods|bikes|catalytic converters) for sale|"
    r"drive drunk|drink and drive|street racing tonight|how to (hotwire|pick a lock|make a fake|get away with)|"
    r"skip (the )?(bus|transit) fare|fare evasion|free rides? if you|jump the turnstile|"
    r"dump (it|your (garbage|trash|tires|mattress)) (in|at|behind|on) (the )?(river|park|alley|lot|field)|"
    r"buy (followers|likes|votes)|sell (my|your) vote|"
    r"faux papiers|fausse monnaie|fausses cartes|conduire en état d'ébriété|frauder l'impôt|travail au noir|"
    r"pay(er|ez) au noir|travaill(er|ez) au noir|cartes volées)\b"
)
_CHARGED_BEFORE = re.compile(
    r"\b(arrested|charged|convicted|accused|caught|busted|sentenced|jailed|fined|indicted|ticketed|suspected|"
    r"investigated|pleaded guilty|pled guilty|arrêtés?|accusés?|condamnés?|inculpés?)"
    r"(\s+[\w'-]+){0,4}?\s+(for|with|of|pour|de)\s+$"
)
"""Just before an offer, the news of someone's arrest or charge for it ("police arrested two men for
selling stolen converters"): a report of the act, not the act."""
_REPORT = compile_gated(
    r"\b(report(ed|ing)?|please (send|check|investigate|enforce|do something)|call (the )?(police|bylaw|by-law|311|cops)|"
    r"someone (is|was|has been|keeps)|there (is|are) people|is anyone doing anything|should be (fined|charged|arrested)|"
    r"illegal(ly)? (dumping|parking)|got (robbed|broken into)|was stolen|were stolen|stole my|"
    r"signaler|dénoncer|appelez la police|quelqu'un (a|est)|on m'a volé|s'est fait voler)\b"
)


@register
class IllegalActivityDetector(LearnedDetector):
    name = "illegal"
    version = "4"
    clause = "5.7.5"
    category = "illegal"
    rule_scores: ClassVar[dict[str, float]] = {"offer": 0.85, "encouragement": 0.8, "scheme": 0.8}
    model_weight = 0.0

    def rules(self, comment: Comment, norm: NormalizedText) -> list[Evidence]:
        spans = []
        for rx, label in ((_OFFER, "offer"), (_ENCOURAGE, "encouragement"), (_SCHEMES, "scheme")):
            for m in rx.finditer(norm.text):
                if label == "offer" and _CHARGED_BEFORE.search(norm.text, max(0, m.start() - 80), m.start()):
                    continue
                s, e = norm.to_original(m.start(), m.end())
                spans.append(Evidence(s, e, label))
        return spans

    def adjust(self, comment: Comment, norm: NormalizedText, score: float, spans: list[Evidence]) -> float:
        if spans and _REPORT.search(norm.text) and not any(s.label == "offer" for s in spans):
            return min(score, 0.3)
        return score
