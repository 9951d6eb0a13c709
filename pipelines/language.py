"""Per-comment language identification for English and French (Canada).

A stop-word vote is enough to choose between the two languages the city publishes in, costs a few
microseconds, and needs no model download; anything else is reported as ``und`` (undetermined).
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-zà-ÿœæ']+")

_EN = frozenset(
    "the and is are was were you your this that with for not have has of to in it on be they we "
    "what why how when who will would should can could do does did just my our their there here "
    "from but all about at an or as so if no yes".split()
)
_FR = frozenset(
    "le la les des est sont et vous votre nous notre ils elles pour pas avec dans une un du de "
    "que qui quoi pourquoi comment quand ce cette ces mais ou donc très sur au aux je tu il elle "
    "mon ma mes ton ta leur leurs été être avoir fait c'est j'ai n'est qu'il ville maire conseil".split()
)


def detect_language(text: str) -> str:
    """Return ``en``, ``fr`` or ``und`` from a stop-word vote over the first 2,000 characters."""
    words = _WORD.findall(text[:2000].lower())
    en = sum(1 for w in words if w in _EN)
    fr = sum(1 for w in words if w in _FR)
    if en == fr == 0:
        return "und"
    if fr > en:
        return "fr"
    if en > fr:
        return "en"
    accents = sum(1 for ch in text[:2000] if ch in "éèêàçùâîôûëïœ")
    return "fr" if accents else "en"
