"""VADER's compound score (``vaderSentiment`` 3.3), computed the package's way in linear time.

The package lowercases every word of the comment again for each sentiment word it meets (in its
negation, idiom and "but" checks) and rebuilds the text character by character to translate
emoji: quadratic in the length of a comment, and most of the time analytics spent per comment.
Here the words are lowercased once, emoji are translated only when the text holds one, and the
"but" rule visits only the words that carry sentiment. Every rule, constant and quirk is the
package's own (its lexicons and helpers are used directly), so the score is the same number;
``tests/test_analytics_batch.py`` compares the two on generated text.
"""

from __future__ import annotations

import string
from functools import lru_cache

from vaderSentiment import vaderSentiment as vs

_NEGATE = frozenset(vs.NEGATE)
_PUNCTUATION = string.punctuation


def _negated(word: str) -> bool:
    """``vs.negated([word])`` for a word already lowercased."""
    return word in _NEGATE or "n't" in word


def _negation_check(valence: float, lower: list[str], start_i: int, i: int) -> float:
    if start_i == 0 and _negated(lower[i - 1]):
        valence = valence * vs.N_SCALAR
    if start_i == 1:
        if lower[i - 2] == "never" and (lower[i - 1] == "so" or lower[i - 1] == "this"):
            valence = valence * 1.25
        elif lower[i - 2] == "without" and lower[i - 1] == "doubt":
            pass
        elif _negated(lower[i - 2]):
            valence = valence * vs.N_SCALAR
    if start_i == 2:
        # The package's precedence: "never so/this" two words back, or "so/this" just before.
        if (lower[i - 3] == "never" and (lower[i - 2] == "so" or lower[i - 2] == "this")) or (
            lower[i - 1] == "so" or lower[i - 1] == "this"
        ):
            valence = valence * 1.25
        elif lower[i - 3] == "without" and (lower[i - 2] == "doubt" or lower[i - 1] == "doubt"):
            pass
        elif _negated(lower[i - 3]):
            valence = valence * vs.N_SCALAR
    return valence


def _special_idioms_check(valence: float, lower: list[str], i: int) -> float:
    onezero = f"{lower[i - 1]} {lower[i]}"
    twoonezero = f"{lower[i - 2]} {lower[i - 1]} {lower[i]}"
    twoone = f"{lower[i - 2]} {lower[i - 1]}"
    threetwoone = f"{lower[i - 3]} {lower[i - 2]} {lower[i - 1]}"
    threetwo = f"{lower[i - 3]} {lower[i - 2]}"
    for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
        if seq in vs.SPECIAL_CASES:
            valence = vs.SPECIAL_CASES[seq]
            break
    if len(lower) - 1 > i:
        zeroone = f"{lower[i]} {lower[i + 1]}"
        if zeroone in vs.SPECIAL_CASES:
            valence = vs.SPECIAL_CASES[zeroone]
    if len(lower) - 1 > i + 1:
        zeroonetwo = f"{lower[i]} {lower[i + 1]} {lower[i + 2]}"
        if zeroonetwo in vs.SPECIAL_CASES:
            valence = vs.SPECIAL_CASES[zeroonetwo]
    for n_gram in (threetwoone, threetwo, twoone):
        if n_gram in vs.BOOSTER_DICT:
            valence = valence + vs.BOOSTER_DICT[n_gram]
    return valence


def _least_check(valence: float, lower: list[str], i: int, lexicon: dict[str, float]) -> float:
    if i > 1 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
        if lower[i - 2] != "at" and lower[i - 2] != "very":
            valence = valence * vs.N_SCALAR
    elif i > 0 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
        valence = valence * vs.N_SCALAR
    return valence


def _but_check(lower: list[str], sentiments: list[float]) -> None:
    """The package's rule, quirk included: it rescales the *first* sentiment equal to each one.

    Words without sentiment (0) stay 0 whatever the rule does to them, and a word with sentiment
    never becomes 0, so only the positions holding sentiment are visited.
    """
    if "but" not in lower:
        return
    bi = lower.index("but")
    carrying = [k for k, value in enumerate(sentiments) if value != 0]
    for k in carrying:
        sentiment = sentiments[k]
        si = next(p for p in carrying if sentiments[p] == sentiment)
        if si < bi:
            sentiments[si] = sentiment * 0.5
        elif si > bi:
            sentiments[si] = sentiment * 1.5


class Vader:
    """``SentimentIntensityAnalyzer().polarity_scores(text)["compound"]``, faster."""

    def __init__(self) -> None:
        self.analyzer = vs.SentimentIntensityAnalyzer()
        self.lexicon: dict[str, float] = self.analyzer.lexicon
        self.emojis: dict[str, str] = self.analyzer.emojis
        self._emoji_chars = frozenset(e for e in self.emojis if len(e) == 1)

    def _without_emoji(self, text: str) -> str:
        if self._emoji_chars.isdisjoint(text):
            return text
        out: list[str] = []
        prev_space = True
        for char in text:
            description = self.emojis.get(char) if char in self._emoji_chars else None
            if description is not None:
                if not prev_space:
                    out.append(" ")
                out.append(description)
                prev_space = False
            else:
                out.append(char)
                prev_space = char == " "
        return "".join(out)

    def compound(self, text: str) -> float:
        text = self._without_emoji(text).strip()
        # SentiText: words with their punctuation stripped, unless that leaves two letters or less.
        words = [w if len(stripped := w.strip(_PUNCTUATION)) <= 2 else stripped for w in text.split()]
        lower = [w.lower() for w in words]
        capitals = sum(map(str.isupper, words))
        is_cap_diff = 0 < len(words) - capitals < len(words)
        # A word outside the lexicon, a booster or "kind" of "kind of" carries no sentiment.
        sentiments: list[float] = [0] * len(words)
        last = len(words) - 1
        lexicon = self.lexicon
        for i in [i for i, word in enumerate(lower) if word in lexicon]:
            if lower[i] in vs.BOOSTER_DICT or (i < last and lower[i] == "kind" and lower[i + 1] == "of"):
                continue
            sentiments[i] = self._valence(words, lower, i, words[i], is_cap_diff)
        _but_check(lower, sentiments)
        if not sentiments:
            return 0.0
        # score_valence, for the compound alone.
        total = float(sum(sentiments))
        emphasis = self.analyzer._punctuation_emphasis(text)
        if total > 0:
            total += emphasis
        elif total < 0:
            total -= emphasis
        return float(round(vs.normalize(total), 4))

    def _valence(self, words: list[str], lower: list[str], i: int, item: str, is_cap_diff: bool) -> float:
        """``sentiment_valence`` of a lexicon word."""
        lexicon = self.lexicon
        item_lowercase = lower[i]
        valence = lexicon[item_lowercase]
        if item_lowercase == "no" and i != len(words) - 1 and lower[i + 1] in lexicon:
            valence = 0.0
        if (
            (i > 0 and lower[i - 1] == "no")
            or (i > 1 and lower[i - 2] == "no")
            or (i > 2 and lower[i - 3] == "no" and lower[i - 1] in ("or", "nor"))
        ):
            valence = lexicon[item_lowercase] * vs.N_SCALAR
        if item.isupper() and is_cap_diff:
            if valence > 0:
                valence += vs.C_INCR
            else:
                valence -= vs.C_INCR
        for start_i in range(0, 3):
            if i > start_i and lower[i - (start_i + 1)] not in lexicon:
                s = vs.scalar_inc_dec(words[i - (start_i + 1)], valence, is_cap_diff)
                if start_i == 1 and s != 0:
                    s = s * 0.95
                if start_i == 2 and s != 0:
                    s = s * 0.9
                valence = valence + s
                valence = _negation_check(valence, lower, start_i, i)
                if start_i == 2:
                    valence = _special_idioms_check(valence, lower, i)
        return _least_check(valence, lower, i, lexicon)


@lru_cache(maxsize=1)
def vader() -> Vader:
    return Vader()
