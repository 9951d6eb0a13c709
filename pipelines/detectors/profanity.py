"""5.7.2 Profane language or content, English and French.

A severity lexicon matched on normalised text (so f*ck, f.u.c.k, fuuuck, sh!t and Cyrillic
look-alikes all match) with word boundaries and an allowlist of innocent phrases (Scunthorpe, Dick
Street, "hell of a"), so the Scunthorpe problem does not arise. In the policy's sense "profane"
covers abusive language: slurs and insults count, mild words ("hell", "damn") stay below the
default threshold on their own. When the shipped text model is available its probability is
blended in, which catches abusive phrasing no list holds.

Settings: ``extra_terms`` (mapping term -> label, or list of terms labelled ``severe``),
``allow_terms`` (list of phrases), ``min_severity`` (``mild``, ``insult``, ``moderate``, ``severe``).
"""

from __future__ import annotations

import re
from typing import Any

from pipelines.base import ClauseDetector, Comment, register
from pipelines.lexicons import read_labeled, read_list
from pipelines.normalize import Lexicon, NormalizedText, normalize
from pipelines.textmodel import model_score, prime
from pipelines.types import Evidence, Tag

SEVERITY_SCORE = {
    "slur": 0.92,
    "severe": 0.9,
    "moderate": 0.72,
    "insult": 0.62,
    "insult_adj": 0.4,
    "mild": 0.3,
}
SEVERITY_RANK = {"mild": 0, "insult_adj": 1, "insult": 1, "moderate": 2, "severe": 3, "slur": 3}
EMOJI = {
    "🖕": "severe",
    "🖕🏻": "severe",
    "🖕🏼": "severe",
    "🖕🏽": "severe",
    "🖕🏾": "severe",
    "🖕🏿": "severe",
}
_TARGETED = re.compile(
    r"\b(you|you're|youre|ur|u|your|he's|she's|they're|hes|shes|is|are|such|what|bunch|these|those|"
    r"t'es|tu es|vous êtes|espèce|gang de|mayor|councillor|maire)\W+(\w+\W+)?$"
)
_PERSON_AFTER = re.compile(r"^\W+(people|person|man|woman|guy|guys|men|women|idiot|mayor|councillors?|bitch|kid)\b")


@register
class ProfanityDetector(ClauseDetector):
    name = "profanity"
    version = "1"
    clause = "5.7.2"
    category = "profane"

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        terms: dict[str, str] = {}
        self.french_only: set[str] = set()
        for term, label in read_labeled("profanity.txt"):
            if term.endswith("@fr"):
                term = term[:-3]
                self.french_only.add(term)
            terms[term] = label
        extra = self.settings.get("extra_terms") or {}
        if isinstance(extra, list):
            extra = dict.fromkeys(extra, "severe")
        terms.update({str(k): str(v) for k, v in extra.items()})
        floor = SEVERITY_RANK.get(str(self.settings.get("min_severity", "mild")), 0)
        self.lexicon = Lexicon({t: lab for t, lab in terms.items() if SEVERITY_RANK.get(lab, 0) >= floor})
        allow = list(read_list("profanity_allow.txt")) + [str(a) for a in self.settings.get("allow_terms") or []]
        self.allow = Lexicon(dict.fromkeys(allow, "allow"))

    def detect_batch(self, comments: list[Comment]) -> list[list[Tag]]:
        prime(comments)
        return [self.detect(c) for c in comments]

    def detect(self, comment: Comment) -> list[Tag]:
        norm: NormalizedText = comment.view("norm", normalize)
        hits = self.lexicon.find(norm)
        spans: list[Evidence] = []
        excused = 0
        if hits:
            allowed = [(s, e) for s, e, _, _ in self.allow.find(norm)]
            low = norm.text
            for start, end, label, term in hits:
                if any(a <= start and end <= b for a, b in allowed) or (
                    term in self.french_only and comment.language != "fr"
                ):
                    excused += 1
                    continue
                if label == "insult_adj":
                    label = self._aim(comment.text, start, end, low)
                spans.append(Evidence(start, end, label))
        for emoji, label in EMOJI.items():
            i = comment.text.find(emoji)
            if i >= 0:
                spans.append(Evidence(i, i + len(emoji), label))
        lexical = 0.0
        for span in spans:
            lexical = 1 - (1 - lexical) * (1 - SEVERITY_SCORE.get(span.label, 0.5) * 0.9)
        if spans:
            lexical = max(lexical, max(SEVERITY_SCORE.get(s.label, 0.5) for s in spans))
        learned = model_score(comment, "profane")
        if learned is None:
            score = lexical
        elif spans:
            score = max(lexical, 0.5 * lexical + 0.5 * learned)
        else:
            score = learned**2  # no lexicon hit: only a confident model flags (sub-word artefacts)
            if excused:
                score = min(score, 0.4)  # the words the model reacts to were excused (Dick Street)
        if score < 0.05:
            return []
        detail = ", ".join(sorted({s.label for s in spans})) or "abusive phrasing (model)"
        return [self.tag(score, spans[:20], detail=detail)]

    @staticmethod
    def _aim(text: str, start: int, end: int, _low: str) -> str:
        """An insulting adjective is abusive when aimed at a person, not at a decision or a road."""
        before = text[max(0, start - 40) : start].lower()
        after = text[end : end + 20].lower()
        if _TARGETED.search(before) and not re.match(r"^\W+(decision|idea|plan|policy|bylaw|road|budget)", after):
            return "insult"
        if _PERSON_AFTER.match(after):
            return "insult"
        return "insult_adj"
