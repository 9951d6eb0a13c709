"""A perception score per comment, English and French, for analysts only (clause 2.2.3).

English uses VADER (``vaderSentiment``: a rule-based model tuned on social media text whose lexicon
ships inside the package, so nothing is downloaded at run time), computed by
``workers.analytics.vader`` in linear time. VADER has no French, and Windsor receives French
comments, so French is scored by a small lexicon written for comments to a city
(``lexicon_fr.txt``) with VADER's own rules in miniature: negation flips and dampens, boosters
strengthen, ``mais`` shifts the weight to what follows, exclamation marks add emphasis, and the sum
is squashed to [-1, 1] with VADER's normalisation. Other languages are not scored (``None``): a
score from the wrong lexicon would be noise presented as a measure.

Scores only ever leave this module inside averages and counts; the per-comment value is not kept.
Only the head of a comment is scored (``workers.analytics.text.head``): a resident's perception is
in the first paragraphs, and hostile megabyte comments must not cost more than an ordinary one.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pipelines.normalize import fold_accents as fold
from workers.analytics.text import head
from workers.analytics.vader import vader

LEXICON_FR = Path(__file__).with_name("lexicon_fr.txt")
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05
"""VADER's published thresholds for calling a compound score positive or negative."""

Perception = Literal["positive", "negative", "neutral"]

_NEGATORS_FR = frozenset({"ne", "n", "pas", "jamais", "rien", "aucun", "aucune", "guere", "sans", "non", "ni"})
_BOOSTERS_FR = {
    "tres": 0.293,
    "vraiment": 0.293,
    "trop": 0.293,
    "tellement": 0.293,
    "extremement": 0.293,
    "totalement": 0.293,
    "completement": 0.293,
    "vachement": 0.293,
    "si": 0.2,
    "peu": -0.293,
    "plutot": -0.15,
    "assez": -0.1,
    "presque": -0.15,
}
_NEGATION_SCALAR = -0.74
_WORD = re.compile(r"[a-z]+(?:-[a-z]+)*")


def classify(score: float) -> Perception:
    if score >= POSITIVE_AT:
        return "positive"
    if score <= NEGATIVE_AT:
        return "negative"
    return "neutral"


@lru_cache(maxsize=1)
def french_lexicon() -> dict[str, float]:
    lexicon: dict[str, float] = {}
    for number, line in enumerate(LEXICON_FR.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        word, _, value = line.partition("\t")
        try:
            lexicon[fold(word.strip().lower())] = float(value)
        except ValueError:
            raise ValueError(f"{LEXICON_FR.name}:{number}: expected 'word<TAB>valence'") from None
    return lexicon


def _normalise(total: float, alpha: float = 15.0) -> float:
    return max(-1.0, min(1.0, total / math.sqrt(total * total + alpha)))


def score_french(text: str) -> float:
    """Compound score in [-1, 1] for French text (0.0 when no word of the lexicon occurs)."""
    lexicon = french_lexicon()
    text = head(text)
    folded = fold(text.lower()).replace("'", " ").replace("\u2019", " ")
    tokens = _WORD.findall(folded)
    valences: list[float] = []
    for i, token in enumerate(tokens):
        valence = lexicon.get(token, 0.0)
        if valence == 0.0:
            valences.append(0.0)
            continue
        for distance, before in enumerate(reversed(tokens[max(0, i - 3) : i])):
            boost = _BOOSTERS_FR.get(before)
            if boost is not None:
                valence += math.copysign(boost, valence) * (1.0 - 0.05 * distance)
        if any(t in _NEGATORS_FR for t in tokens[max(0, i - 3) : i]):
            valence *= _NEGATION_SCALAR
        valences.append(valence)
    if "mais" in tokens:
        pivot = tokens.index("mais")
        valences = [v * (0.5 if j < pivot else 1.5) for j, v in enumerate(valences)]
    total = sum(valences)
    if total:
        total += math.copysign(min(text.count("!"), 4) * 0.292, total)
    return _normalise(total)


def score_english(text: str) -> float:
    return vader().compound(head(text))


def score(text: str, language: str) -> float | None:
    """Compound perception score in [-1, 1], or ``None`` for a language we cannot score honestly."""
    lang = language.split("-")[0].lower()
    if lang == "en":
        return score_english(text)
    if lang == "fr":
        return score_french(text)
    return None
