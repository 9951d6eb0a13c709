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
from pipelines.lexicons import read_labeled
from pipelines.normalize import Lexicon, NormalizedText, compile_folded
from pipelines.types import Evidence

_DEHUMANISE = compile_folded(
    r"\b(are|is|r|sont|c'est des)\s+(all\s+|just\s+|nothing but\s+|tous\s+des\s+|des\s+)?"
    r"(animals?|vermin|parasites?|subhuman|savages?|rats?|cockroaches|disease|plague|scum|trash|"
    r"garbage|filth|criminals|terrorists|rapists|inferior|a disease|a cancer|the problem|"
    r"animaux|vermine|parasites|sauvages|déchets|criminels|terroristes|inférieurs?)\b"
)
_EXCLUDE = compile_folded(
    r"\b(go back (to|where)|send (them|em) (all )?back|deport (them|all|every)|should(n't| not) be allowed|"
    r"don't belong|do not belong|get (them|those \w+) out|ban (all|every)|kick (them|all) out|"
    r"should be (banned|deported|sterili[sz]ed|exterminated|shot|gassed|removed)|"
    r"retourne(z)? (dans|chez)|renvoyez[- ]les|dehors les)\b"
)
_GENERALISE = compile_folded(r"\b(all|these|those|every|most|tous les|toutes les|ces)\s+(\w+\s+)?$")


@register
class DiscriminationDetector(LearnedDetector):
    name = "discrimination"
    version = "1"
    clause = "5.7.3"
    category = "discrimination"
    rule_scores: ClassVar[dict[str, float]] = {"pattern": 0.8, "slur": 0.75}

    def __init__(self, settings: dict[str, object] | None = None) -> None:
        super().__init__(settings)
        slurs = {t.removesuffix("@fr"): "slur" for t, label in read_labeled("profanity.txt") if label == "slur"}
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
        spans.extend(Evidence(s, e, "slur") for s, e, _, _ in self.slurs.find(norm))
        return spans

    def detail(self, spans: list[Evidence]) -> str:
        grounds = sorted({s.label for s in spans if s.label not in ("pattern", "slur", "model")})
        return "ground: " + (", ".join(grounds) if grounds else "unspecified")
