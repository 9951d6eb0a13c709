"""5.7.7 (second half): content inherently political in nature or cause.

Partisan content: campaigning, party promotion, partisan slogans. Mentioning a party or a premier is
not enough (residents discuss provincial funding); asking the city about a by-law is not political.
A party, politician or election term together with a call to vote, support or oppose is; so is a
known slogan, an ideological call ("smash capitalism", "close the borders"), and municipal
campaigning ("vote Smith for Ward 3", "I'm running for council").
Calls to vote the current council out are criticism of the city and stay clean. The shipped model,
trained on partisan versus neutral posts, covers the rest, but only for a comment that speaks of
politics at all (a word of ``political_topics.txt``, shown as its evidence): on residents' requests
about potholes and taxes an unsure model is no judge of partisanship (``MODEL_ALONE``).
"""

from __future__ import annotations

from typing import ClassVar

from pipelines.base import Comment, SettingsIn, register
from pipelines.detectors._learned import LearnedDetector
from pipelines.gate import compile_gated
from pipelines.lexicons import read_labeled, read_list
from pipelines.normalize import Lexicon, NormalizedText
from pipelines.types import Evidence

_CAMPAIGN = compile_gated(
    r"\b((vote|votez|votons|elect|re-?elect|élisez|réélisez)\s+(for\s+|pour\s+)?[a-z][\w'-]+(\s+[a-z][\w'-]+)?\s+"
    r"(for|as|in|pour|comme|dans le|au)\s+(mayor|council|councillor|ward \d+|maire|conseill\w+|quartier \d+|mpp|mp|député)|"
    r"[a-z][\w'-]+ for (mayor|council|ward \d+)( \d{4})?!|"
    r"(my|our) campaign|join (my|our) campaign|campaign office|donate to (my|our|the) campaign|"
    r"(i'm|i am) running for|je me présente|ma campagne|notre campagne)\b"
)
_CALL = compile_gated(
    r"\b(vote|voting|votez|votons|re-?elect|réélire|elect|élire|support|donate|donnez|campaign|campagne|"
    r"canvass|sign up|join (us|the)|rally|ballot|#\w*elxn\w*|lawn sign|pancarte|get out the vote|"
    r"throw (them|the \w+) out|kick (them|the \w+) out|defeat|oust|impeach|appuyez|soutenez|militez|"
    r"chassons|dehors les)\b"
)

_BLAME = compile_gated(
    r"\b(ruined|ruining|destroyed|destroying|wrecked|wrecking|bankrupted|bankrupting|sold (us|canada|this country) out|"
    r"lied to (us|you|canadians|americans)|are liars|are corrupt|are traitors|"
    r"ont ruiné|ruinent|vont ruiner|ont détruit|détruisent|vont détruire|ont vendu|nous mentent|ont menti|"
    r"sont (des )?(menteurs|corrompus|vendus|traîtres|traitres))\b"
)
"""What is said of a party to run it down ("the Liberals ruined this country", "les conservateurs nous
mentent"): read only just after a party's name, the one said to have done it."""

_IDEOLOGY = compile_gated(
    r"\b((smash|abolish|overthrow|destroy|dismantle|defund|down with|fight|resist|crush|end|stop|ban|outlaw|legali[sz]e|"
    r"abolir|renverser|détruire|à bas|combattre|interdire|légaliser)\s+(the\s+|all\s+|le\s+|la\s+|les\s+|l')?"
    r"(capitalism|socialism|communism|globalism|the state|patriarchy|establishment|elites?|liberals|"
    r"conservatives|leftists|the left|the right|woke|wokeness|invasion|immigration|abortions?|borders?|regime|war(?! on)|"
    r"capitalisme|socialisme|communisme|patriarcat|système|élites?|gauchistes|immigration|avortement|frontières|régime|"
    r"guerre)\b)"
)
"""An ideological call: an order to overthrow, abolish or ban an ideology, a class or a cause ("smash
capitalism", "abolish the state", "ban abortion", "stop the invasion"), never a road or a service."""

MODEL_ALONE = 0.6
"""The score the model needs to flag a comment that names nothing political (no party, slogan,
campaign call or word of political_topics.txt): residents' complaints about services reach 0.5
("still no action on this issue"), partisan posts that name no party rarely stay under 0.6."""


@register
class PoliticalDetector(LearnedDetector):
    name = "political"
    version = "2"
    clause = "5.7.7"
    category = "political"
    rule_scores: ClassVar[dict[str, float]] = {
        "party": 0.3,
        "campaign": 0.85,
        "slogan": 0.85,
        "ideology": 0.8,
        "blame": 0.8,
        "topic": 0.0,
    }
    model_weight = 0.85

    def __init__(self, settings: SettingsIn = None, **rule: str) -> None:
        super().__init__(settings, **rule)
        words = read_list("political_topics.txt")
        self.topics = Lexicon({**dict.fromkeys(words, "topic"), **{w + "s": "topic" for w in words if " " not in w}})

    def terms(self) -> dict[str, str]:
        return dict(read_labeled("political.txt"))

    def rules(self, comment: Comment, norm: NormalizedText) -> list[Evidence]:
        hits = self.lexicon.find(norm)
        spans = [Evidence(s, e, label) for s, e, label, _ in hits]
        # a topic word is no evidence of partisanship: it shows what the model read as political
        spans += [Evidence(s, e, "topic") for s, e, _, _ in self.topics.find(norm)]
        for rx, label in ((_CAMPAIGN, "campaign"), (_IDEOLOGY, "ideology")):
            for m in rx.finditer(norm.text):
                s, e = norm.to_original(m.start(), m.end())
                spans.append(Evidence(s, e, label))
        parties = [s.end for s in spans if s.label == "party"]
        if parties:
            for m in _CALL.finditer(norm.text):
                s, e = norm.to_original(m.start(), m.end())
                spans.append(Evidence(s, e, "campaign"))
            for m in _BLAME.finditer(norm.text):
                s, e = norm.to_original(m.start(), m.end())
                if any(0 <= s - end <= 40 for end in parties):  # the party is who did it
                    spans.append(Evidence(s, e, "blame"))
        return spans

    def adjust(self, comment: Comment, norm: NormalizedText, score: float, spans: list[Evidence]) -> float:
        if not spans and 0.45 < score < MODEL_ALONE:
            return 0.45  # nothing political named: an unsure model does not make a request partisan
        return score

    def detail(self, spans: list[Evidence]) -> str:
        return "partisan: " + (", ".join(sorted({s.label for s in spans})) or "model")
