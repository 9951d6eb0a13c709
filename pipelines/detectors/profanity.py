"""5.7.2 Profane language or content, English and French (Canada).

A severity lexicon matched on normalised text, so f*ck, f.u.c.k, fuuuck, sh!t, f🦆ck, spaced letters
and Cyrillic look-alikes all match, with word boundaries and an allowlist of innocent phrases: the
Scunthorpe problem does not arise (Scunthorpe, assessment, cocktail, Essex, Sussex, Dick Street,
"Dick Smith"), and "hell of a job" is a mild hit. Compounds and endings no list holds
("fucktard", "muthaf***in", "shitface") count through the profane parts of
``profanity_stems.txt``. In the policy's sense "profane" covers abusive language, so slurs count,
and insults count when aimed at someone ("you idiot", "the councillors are clowns") rather than at a
decision ("what a stupid plan": criticism of the city is allowed).

Severity levels are score bands (``SEVERITY_SCORE``): the policy chooses what reaches review with
its threshold (0.5 by default: aimed insults and worse; 0.3 adds mild language) or drops levels
with ``min_severity``. The tag's ``severity`` extra names the worst level found. When the shipped
text model is available its probability is blended in, which catches abusive phrasing no list holds.

Settings: ``extra_terms`` (mapping term -> label, or list of terms labelled ``severe``),
``allow_terms`` (list of phrases), ``min_severity`` (``mild``, ``insult_adj``, ``insult``,
``moderate``, ``severe``).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import Any, Literal

from pydantic import Field, field_validator

from pipelines.base import ClauseDetector, Comment, DetectorSettings, SettingsIn, register
from pipelines.detectors._learned import model_evidence
from pipelines.detectors._targets import animal_sense, insult_terms, place_name
from pipelines.detectors.attack import aimed
from pipelines.lexicons import read_labeled, read_list, read_terms
from pipelines.normalize import Lexicon, NormalizedText, normalize, squeeze
from pipelines.textmodel import active_model, model_score, prime
from pipelines.types import Evidence, Tag

SEVERITY_SCORE = {
    "slur": 0.92,
    "severe": 0.9,
    "moderate": 0.72,
    "insult_aimed": 0.62,
    "insult_adj_aimed": 0.55,
    "insult": 0.45,
    "insult_adj": 0.3,
    "mild": 0.3,
}
"""Score bands per severity: with the default threshold of 0.5 an insult flags only when aimed at
someone; a policy that wants mild language reviewed sets its threshold to 0.3."""
SEVERITY_RANK = {"mild": 0, "insult_adj": 1, "insult": 2, "moderate": 3, "severe": 4, "slur": 4}
EMOJI = {"🖕": "severe", "🤬": "mild"}
_PRONOUN_BEFORE = re.compile(
    r"(?:\b(?:you|you're|youre|ur|u|ya|yo|your|you are|you r|he's|hes|she's|shes|they're|theyre|he is|she is|"
    r"they are|you guys are|you people are|t'es|tu es|t'es rien qu'un|vous êtes|espèce d[e']|gang de|bande d[e']|"
    r"maudit|mayor|councillor|maire|conseiller)|@\w+)\W+(?:\w+\W+)?$"
)
_NOUN_AIM_BEFORE = re.compile(
    r"\b(?:is an?|are|was an?|were|such an?|what an?|bunch of|total|complete|absolute|utter|big|fat|little|"
    r"lying|corrupt|pathetic|stupid|sont des|c'est un|c'est une|un gros|une grosse|des|les|ces|gang de|bande de)"
    r"\W+(?:\w+\W+)?$"
)
_PERSON_AFTER = re.compile(
    r"^\W+(?:people|person|man|woman|men|women|guy|guys|idiot|idiots|mayor|councillors?|council|politicians?|"
    r"bitch|kid|clown|liberals?|tories|conservatives?|voters|residents|drivers|gens|monde|maire|conseillers?)\b"
)
_THING_AFTER = re.compile(
    r"^\W+(?:decision|idea|plan|policy|bylaw|by-law|road|budget|article|column|comment|piece|editorial|post|"
    r"argument|law|move|question|thing|statement|remark|rule|system|program|design|project|situation|mistake|"
    r"choice|excuse|spending|tax|traffic|light|construction|process|décision|idée|projet|règlement)\b"
)
_NAME_DICK = re.compile(r"Dick\s+[A-Z]")
_UNAIMED = frozenset({"mild", "insult", "insult_adj"})
_KINDS = insult_terms().terms
"""How insults.txt reads a word (noun, adj, dehumanise or thing), for the words both lists hold."""


Severity = Literal["mild", "insult_adj", "insult", "moderate", "severe", "slur"]
"""The levels of ``SEVERITY_RANK``, which a setting must name exactly (a misspelt one would count as mild)."""


class ProfanitySettings(DetectorSettings):
    extra_terms: dict[str, Severity] = Field(default_factory=dict)
    """More terms: term -> level, or a list of terms taken as ``severe``."""
    allow_terms: list[str] = Field(default_factory=list)
    """Innocent phrases added to ``profanity_allow.txt``."""
    min_severity: Severity = "mild"
    """Levels below this one are not looked for."""

    @field_validator("extra_terms", mode="before")
    @classmethod
    def _list_is_severe(cls, value: Any) -> Any:
        return dict.fromkeys(value, "severe") if isinstance(value, list) else value


class Stems:
    """Words built on a profane part (``profanity_stems.txt``): "fucktard", "muthaf***in", "niggaz",
    "shitface". A list of whole words never holds every compound and ending, and a part matched
    inside a word is only safe for parts no innocent word contains, so each part says where in a
    word it counts and innocent words that start with one are listed as allowed."""

    def __init__(self, rows: tuple[tuple[str, str], ...], floor: int) -> None:
        self.parts: list[tuple[str, str, str]] = []
        self.allowed: set[str] = set()
        for part, rest in rows:
            where, _, label = rest.partition("\t")
            if label == "allow":
                self.allowed.add(part)
            elif SEVERITY_RANK.get(label, 0) >= floor:
                self.parts.append((part, where, label))
        words = sorted({p for p, _, _ in self.parts}, key=len, reverse=True)
        self._any = re.compile("|".join(map(re.escape, words))) if words else None

    def find(self, norm: NormalizedText) -> list[tuple[int, int, str]]:
        """``(original_start, original_end, label)`` of each word with a part where it counts."""
        if self._any is None or not (
            self._any.search(norm.text) or (norm.squeezed and self._any.search(norm.squeezed))
        ):
            return []  # "fuuckwad" holds "fuck" only once squeezed, "nigglet" holds "nigg" only unsqueezed
        found = []
        names = [m.span() for m in _NAME.finditer(norm.original)]
        for m in _WORD.finditer(norm.text):
            word = m.group()
            single = squeeze(word)
            if word in self.allowed or single in self.allowed:
                continue  # "shiitake" squeezes to "shitake"
            label = self._label(word) or self._label(single)
            if label:
                start, end = norm.to_original(m.start(), m.end())
                if not any(a <= start < b for a, b in names):
                    found.append((start, end, label))
        return found

    def _label(self, word: str) -> str | None:
        for part, where, label in self.parts:
            if (
                (where == "within" and part in word)
                or (where == "prefix" and word.startswith(part))
                or (where == "suffix" and word.endswith(part))
            ):
                return label
        return None


_WORD = re.compile(r"[^\W\d_][\w*]*")
_NAME = re.compile(r"(?:https?://|www\.)\S+|@\w+")
"""A link or a user name: an account called "@FuckTraffic" or a video ID that starts "twaT" is
nobody's language in this comment."""


@register
class ProfanityDetector(ClauseDetector):
    name = "profanity"
    version = "6"
    clause = "5.7.2"
    category = "profane"
    settings_model = ProfanitySettings
    settings: ProfanitySettings

    def __init__(self, settings: SettingsIn = None, **rule: str) -> None:
        super().__init__(settings, **rule)
        self.vocabulary = read_terms("profanity.txt")
        terms = dict(self.vocabulary.terms)
        terms.update(self.settings.extra_terms)
        floor = SEVERITY_RANK[self.settings.min_severity]
        self.floor = floor
        self.lexicon = Lexicon({t: lab for t, lab in terms.items() if SEVERITY_RANK.get(lab, 0) >= floor})
        allow = list(read_list("profanity_allow.txt")) + self.settings.allow_terms
        self.allow = Lexicon(dict.fromkeys(allow, "allow"), masks=False)
        self.stems = Stems(read_labeled("profanity_stems.txt"), floor)

    def detect_batch(self, comments: list[Comment]) -> list[list[Tag]]:
        prime(comments)
        return [self.detect(c) for c in comments]

    def detect(self, comment: Comment) -> list[Tag]:
        norm: NormalizedText = comment.view("norm", normalize)
        hits = self.lexicon.find(norm)
        spans: list[Evidence] = []
        names: set[str] = set()
        excused = 0
        if hits:
            allowed = [(s, e) for s, e, _, _ in self.allow.find(norm)]
            for start, end, label, term in hits:
                if (
                    any(a <= start and end <= b for a, b in allowed)
                    or not self.vocabulary.counts(term, comment.language)
                    or _NAME_DICK.match(comment.text, start)
                    or animal_sense(comment.text, start, end)
                    or place_name(comment.text, start, end)
                ):
                    excused += 1
                    continue
                if label in ("insult", "insult_adj"):
                    label = self._aim(comment.text, norm, start, end, label, term)
                    if label in ("insult", "insult_adj") and _KINDS.get(term) not in ("thing", "animal"):
                        names.add(term)
                spans.append(Evidence(start, end, label))
        for start, end, label in self.stems.find(norm):
            if not any(s.start <= start and end <= s.end for s in spans) and not any(
                h[0] <= start and end <= h[1] for h in hits
            ):
                spans.append(Evidence(start, end, label))
        for emoji, label in EMOJI.items():
            i = comment.text.find(emoji)
            if i >= 0 and SEVERITY_RANK[label] >= self.floor:
                spans.append(Evidence(i, i + len(emoji), label))
        lexical = 0.0
        if spans:
            ranked = sorted((SEVERITY_SCORE.get(s.label, 0.5) for s in spans), reverse=True)
            lexical = ranked[0]
            if len(ranked) > 1:
                lexical += (1 - lexical) * 0.25 * ranked[1]  # a second hit adds a little, never a sum
        learned = model_score(comment, "profane")
        mild_only = bool(spans) and all(s.label == "mild" for s in spans)
        unaimed_only = bool(spans) and all(s.label in _UNAIMED for s in spans) and len(names) < 2
        if unaimed_only:
            # a word of abuse nobody is called ("trash on the curb", "so many idiots on this road")
            # stays under the threshold however often it occurs; only a confident model lifts it.
            # Two different words of abuse ("useful idiots to shill for ...") add up as before.
            lexical = min(lexical, 0.45)
        if learned is None:
            score = lexical
        elif spans:
            score = max(lexical, 0.5 * lexical + 0.5 * learned)
            if mild_only:
                score = min(score, 0.45)  # mild language stays mild, so a policy's severity choice holds
            elif unaimed_only:
                score = max(min(score, 0.45), learned**2)
        else:
            score = learned**2  # no lexicon hit: only a confident model flags (sub-word artefacts)
            if excused:
                score = min(score, 0.4)  # the words the model reacts to were excused (Dick Street)
        if score < 0.05:
            return []
        if not spans and learned is not None and score >= 0.5:
            spans = model_evidence(comment, "profane")
        detail = ", ".join(sorted({s.label for s in spans} - {"model"})) or "abusive phrasing (model)"
        model = active_model() if learned is not None else None
        version = model.version if model else ""
        return [self.tag(score, spans[:20], detail=detail, model=version, severity=self._severity(spans))]

    @staticmethod
    def _severity(spans: list[Evidence]) -> str:
        """The worst severity among the evidence, for moderators and for policies that route by it."""
        order = ["slur", "severe", "moderate", "insult_aimed", "insult_adj_aimed", "insult", "insult_adj", "mild"]
        labels = {s.label for s in spans}
        return next((lab for lab in order if lab in labels), "model")

    @staticmethod
    def _aim(text: str, norm: NormalizedText, start: int, end: int, label: str, term: str) -> str:
        """An insult is abusive when aimed at a person ("you idiot", "the mayor is a clown",
        "stupid people"), not at a decision, an article or a road ("what a stupid plan"). A word
        that also names a thing or an animal ("trash", "garbage", "rats") is aimed only when a
        person is said to be one, by 5.7.7's test (``attack.aimed``): "Trash in front of 6 Elm St"
        and "a bunch of garbage bags" call nobody anything."""
        kind = _KINDS.get(term)
        if kind in ("thing", "animal"):
            ns, ne = bisect_left(norm.offsets, start), bisect_left(norm.offsets, end)
            if aimed(text, norm, ns, ne, kind):
                return label + "_aimed" if label == "insult" else "insult_adj_aimed"
            return label
        before = text[max(0, start - 40) : start].lower()
        after = text[end : end + 25].lower()
        if _THING_AFTER.match(after):
            return label
        if _PRONOUN_BEFORE.search(before) or _PERSON_AFTER.match(after):
            return label + "_aimed" if label == "insult" else "insult_adj_aimed"
        if label == "insult" and (_NOUN_AIM_BEFORE.search(before) or not before.strip(" ,.!-")):
            return "insult_aimed"  # "he is an idiot", "what a clown", or the insult opens the comment
        return label
