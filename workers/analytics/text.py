"""The part of a comment that analytics reads, and accent folding as ``pipelines.normalize`` folds.

A perception score and a comment's topics are about what a resident says in the first paragraphs,
so both read the head of the text only: a megabyte of hostile text then costs what an ordinary
comment does, and ordinary comments (a few hundred characters) are read whole.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache

MAX_READ_CHARS = 1_000
_THROUGH_LAST_SPACE = re.compile(r".*\s", re.DOTALL)


def head(text: str, limit: int = MAX_READ_CHARS) -> str:
    """The first ``limit`` characters, without a word cut in two (it could read as another word)."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if text[limit].isspace():
        return cut
    through_space = _THROUGH_LAST_SPACE.match(cut)
    return through_space.group() if through_space else cut


@lru_cache(maxsize=1)
def combining_marks() -> frozenset[str]:
    """Every character ``unicodedata`` gives a combining class: what ``fold_accents`` drops."""
    return frozenset(c for c in map(chr, range(sys.maxunicode + 1)) if unicodedata.combining(c))


def fold(text: str) -> str:
    """Exactly ``pipelines.normalize.fold_accents(text)``, without a Python step per character.

    ASCII text has no accent to fold (NFKD leaves it as is); otherwise each combining mark present
    is removed with one ``str.replace``. Several times faster on French comments.
    """
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    for mark in combining_marks().intersection(decomposed):
        decomposed = decomposed.replace(mark, "")
    return decomposed
