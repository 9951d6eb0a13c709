"""The part of a comment that analytics reads.

A perception score and a comment's topics are about what a resident says in the first paragraphs,
so both read the head of the text only: a megabyte of hostile text then costs what an ordinary
comment does, and ordinary comments (a few hundred characters) are read whole.
"""

from __future__ import annotations

import re

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
