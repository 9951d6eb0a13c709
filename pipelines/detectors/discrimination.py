"""5.7.3 Content that promotes, fosters or perpetuates discrimination on a protected ground.

The tag names the ground the clause lists (race, creed, colour, age, religion, gender, marital
status, public assistance, national origin, disability, sexual orientation): a group term is only
evidence together with a dehumanising or exclusionary pattern or a slur, because residents talk
about seniors, immigrants and women all the time without discriminating. The shipped model adds
what patterns miss; its held-out numbers are in docs/QUALITY.md.
"""

from __future__ import annotations

from typing import ClassVar

from pipelines.base import Comment, register
from pipelines.detectors._learned import LearnedDetector
from pipelines.gate import compile_gated
from pipelines.lexicons import read_labeled, read_terms
from pipelines.normalize import Lexicon, NormalizedText
from pipelines.types import Evidence

GROUNDS = (
    "race",
    "creed",
    "colour",
    "age",
    "religion",
    "gender",
    "marital_status",
    "public_assistance",
    "national_origin",
    "disability",
    "sexual_orientation",
    "unspecified",
)
"""The grounds clause 5.7.3 lists, as tag labels."""

_DEHUMANISE = compile_gated(
    r"\b(are|is|r|sont|c'est des|ce sont des)\s+(all\s+|just\s+|nothing but\s+|tous\s+des\s+|toutes\s+des\s+|des\s+|juste\s+des\s+)?"
    r"(animals?|vermin|parasites?|subhuman|savages?|rats?|cockroaches|disease|plague|scum|trash|"
    r"garbage|filth|criminals|terrorists|rapists|inferior|a disease|a cancer|the problem|a burden|leeches|lazy|"
    r"freeloaders|dirty|stupid|invaders|perverts|degenerates|sick in the head|animaux|vermine|parasites|sauvages|déchets|criminels|terroristes|"
    r"inférieur(e)?s?|violeurs|profiteurs|paresseux|sales|envahisseurs|une plaie|un fardeau|le problème|malades|"
    r"pervers|dégénérés|fous)\b"
)
_EXCLUDE = compile_gated(
    r"\b(go back (to|where)|send (them|em) (all )?back|deport (them|all|every)|should(n't| not) be allowed|"
    r"don't belong|do not belong|get (them|those \w+) out|ban (all|every|them)|kick (them|all) out|keep (them|\w+) out|"
    r"should be (banned|deported|sterili[sz]ed|exterminated|shot|gassed|removed|locked up|fired)|"
    r"(is|are) (ruining|destroying|taking over|invading|replacing|stealing)|no \w+ (allowed|wanted|welcome)|"
    r"(i|we) hate|(i|we) can't stand|don't deserve|shouldn't (vote|drive|work|have kids|be hired)|"
    r"belong in the kitchen|stay in the kitchen|can't (drive|think|be trusted)|"
    r"retourne(z)? (dans|chez)|renvoyez[- ]les|dehors les|(je|on) (déteste|hait|haïs)|on ne veut pas d[e']|pas de \w+ ici|"
    r"(doivent|devraient) (partir|retourner|être (expulsés|bannis|renvoyés))|"
    r"ne (devraient|doivent) pas (conduire|voter|travailler|avoir|être)|(retourner|renvoyer) chez (eux|vous)|"
    r"(volent|prennent) nos (jobs|emplois)|steal(ing)? our (jobs|benefits))\b"
)


@register
class DiscriminationDetector(LearnedDetector):
    name = "discrimination"
    version = "2"
    clause = "5.7.3"
    category = "discrimination"
    rule_scores: ClassVar[dict[str, float]] = {"pattern": 0.8, **{f"slur_{g}": 0.75 for g in GROUNDS}}

    def __init__(self, settings: dict[str, object] | None = None) -> None:
        super().__init__(settings)
        grounds = dict(read_labeled("slur_grounds.txt"))
        self.vocabulary = read_terms("profanity.txt")
        slurs = {
            t: "slur_" + grounds.get(t, "unspecified") for t, label in self.vocabulary.terms.items() if label == "slur"
        }
        self.slurs = Lexicon(slurs)

    def terms(self) -> dict[str, str]:
        return dict(read_labeled("discrimination_groups.txt"))

    def rules(self, comment: Comment, norm: NormalizedText) -> list[Evidence]:
        groups = self.lexicon.find(norm)
        text = norm.text
        spans: list[Evidence] = []
        if groups:
            patterns = [m.span() for m in _DEHUMANISE.finditer(text)] + [m.span() for m in _EXCLUDE.finditer(text)]
            for gs, ge, ground, _ in groups:
                near = [p for p in patterns if abs(p[0] - ge) < 60 or abs(gs - p[1]) < 60]
                if near:
                    spans.append(Evidence(gs, ge, ground))
                    for ps, pe in near[:2]:
                        s, e = norm.to_original(ps, pe)
                        spans.append(Evidence(s, e, "pattern"))
        spans.extend(
            Evidence(s, e, label)
            for s, e, label, term in self.slurs.find(norm)
            if self.vocabulary.counts(term, comment.language)
        )
        return spans

    def detail(self, spans: list[Evidence]) -> str:
        grounds = sorted(
            {s.label.removeprefix("slur_") for s in spans if s.label not in ("pattern", "model")} - {"unspecified"}
        )
        return "ground: " + (", ".join(grounds) if grounds else "unspecified")
