"""Text normalisation that keeps a map back to the original offsets.

Obfuscation is the first thing a determined commenter tries (``f*ck``, ``f u c k``, ``fuuuck``,
Cyrillic look-alikes, zero-width joiners). Detectors match on the normalised text, and every match
is mapped back through ``NormalizedText.to_original`` so the evidence a moderator sees is the text
as the resident wrote it.

One pass, linear in the input: NFKC per character, invisible and bidi controls and combining marks
dropped, homoglyphs and accents folded, lowercase, leetspeak inside words, an emoji or symbol between
letters read as a masked letter, runs of a letter capped at two, and spaced or dotted single letters
joined.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

import ahocorasick

INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
    "\ufe0e\ufe0f"
)
HOMOGLYPHS = {
    # Cyrillic and Greek letters that render like Latin ones.
    "а": "a",
    "в": "b",
    "е": "e",
    "ё": "e",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "і": "i",
    "ј": "j",
    "ѕ": "s",
    "ԁ": "d",
    "ɡ": "g",
    "ӏ": "l",
    "α": "a",
    "β": "b",
    "ε": "e",
    "η": "n",
    "ι": "i",
    "κ": "k",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "ω": "w",
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "ø": "o",
    "ł": "l",
    "đ": "d",
}
LEET = {
    "0": "o",
    "1": "i",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "@": "a",
    "$": "s",
    "!": "i",
    "|": "l",
    "€": "e",
}
MASKS = frozenset("*#%")
"""Characters that stand for hidden letters (f*ck, sh#t); kept as ``*`` for wildcard matching."""


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """Normalised text plus, for each of its characters, the index of its source character."""

    original: str
    text: str
    offsets: tuple[int, ...]
    squeezed: str = ""
    squeeze_map: tuple[int, ...] = ()
    """``text`` with every run of a letter cut to one, and its indices into ``text`` (empty when
    ``text`` has no doubled letter)."""
    matches: dict[str, tuple[int, list[tuple[int, int, str]]]] = field(default_factory=dict, compare=False, repr=False)
    """Memo of ``_TERMS.scan``: every lexicon's whole-word matches in ``text`` and ``squeezed``, found
    in one pass shared by all lexicons instead of one pass each."""

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map ``text[start:end]`` to the smallest original span covering the same characters."""
        if not self.text or start >= end:
            pos = self.offsets[min(start, len(self.offsets) - 1)] if self.offsets else 0
            return pos, pos
        start = max(0, min(start, len(self.text) - 1))
        end = max(start + 1, min(end, len(self.text)))
        return self.offsets[start], self.offsets[end - 1] + 1


def _fold_char(ch: str) -> str:
    if ch in HOMOGLYPHS:
        return HOMOGLYPHS[ch]
    if ch.isascii():
        return ch.lower()
    folded = unicodedata.normalize("NFKC", ch)
    out = []
    for c in unicodedata.normalize("NFKD", folded):
        if unicodedata.combining(c):
            continue
        c = c.lower()
        out.append(HOMOGLYPHS.get(c, c))
    return "".join(out)


_CANDIDATE = re.compile(r"[013457@$!|€*#%]|[^\x00-\x7f]")
_SPACED = re.compile(r"(?<![^\W_])[^\W\d_]([ .\-_*])[^\W\d_]\1[^\W\d_](?![^\W_])")
_RUN = re.compile(r"([^\W\d_])\1+")


def normalize(text: str) -> NormalizedText:
    """Normalise for matching; never raises, and every output character maps into ``text``.

    Each pass runs only where a cheap regular expression says it can change something, so plain
    comments (most of them) cost a few string operations rather than a loop per character.
    """
    if text.isascii():
        chars = list(text.lower())
        offs = list(range(len(text)))
    else:
        chars, offs = _fold(text)
    folded = "".join(chars)
    if _CANDIDATE.search(folded):
        _leet_and_masks(chars)
        folded = "".join(chars)
    runs = [m.span() for m in _RUN.finditer(folded)]  # maximal runs of a repeated letter
    changed = False
    if any(e - s > 2 for s, e in runs):
        keep_c: list[str] = []
        keep_o: list[int] = []
        pos = 0
        for s, e in runs:
            if e - s > 2:
                cut = s + 2  # cap runs of the same letter at two
                keep_c.extend(chars[pos:cut])
                keep_o.extend(offs[pos:cut])
                pos = e
        keep_c.extend(chars[pos:])
        keep_o.extend(offs[pos:])
        chars, offs = keep_c, keep_o
        folded = "".join(chars)
        changed = True
    if _SPACED.search(folded):
        chars, offs = _join_spaced(chars, offs)
        folded = "".join(chars)
        changed = True
    if changed:
        runs = [m.span() for m in _RUN.finditer(folded)]
    # a letter typed again stretches a word ("fuuck"); one that accent folding doubled ("nuée" -> "nuee") does not
    runs = [(s, e) for s, e in runs if len({text[offs[i]].lower() for i in range(s, e)}) == 1]
    if not runs:
        return NormalizedText(text, folded, tuple(offs))
    squeezed, mapping = _squeeze(folded, runs)
    return NormalizedText(text, folded, tuple(offs), squeezed, tuple(mapping))


_ASCII_RUN = re.compile(r"[\x00-\x7f]+")
_FOLDED: dict[str, str] = {}
"""What each non-ASCII character becomes (``""`` when dropped), filled as characters are met."""


def _fold(text: str) -> tuple[list[str], list[int]]:
    """NFKC, homoglyphs, accents and case, one source character at a time (offsets kept).

    Runs of ASCII (most of any comment) are lowercased whole; other characters go through
    ``_FOLDED``."""
    chars: list[str] = []
    offs: list[int] = []
    pos = 0
    for m in _ASCII_RUN.finditer(text):
        start, end = m.span()
        if pos < start:
            _fold_each(text, pos, start, chars, offs)
        chars += m.group().lower()
        offs += range(start, end)
        pos = end
    if pos < len(text):
        _fold_each(text, pos, len(text), chars, offs)
    return chars, offs


def _fold_each(text: str, start: int, end: int, chars: list[str], offs: list[int]) -> None:
    for i in range(start, end):
        ch = text[i]
        folded = _FOLDED.get(ch)
        if folded is None:
            folded = _fold_one(ch)
            if len(_FOLDED) < 65536:
                _FOLDED[ch] = folded
        for c in folded:
            chars.append(c)
            offs.append(i)


def _fold_one(ch: str) -> str:
    """One non-ASCII character folded: invisible and combining characters vanish, a lone surrogate
    becomes a space."""
    if ch in INVISIBLE or unicodedata.combining(ch):
        return ""
    if "\ud800" <= ch <= "\udfff":
        return " "
    return _fold_char(ch)


def _leet_and_masks(chars: list[str]) -> None:
    """Leetspeak and masks only between letters: "sh!t", "f*ck", "b1tch"; not "$50" or "2024".

    "!" and "|" after a word are punctuation unless a letter follows their run: "sh!!t" is a word,
    "shit!!!" a word and its exclamation marks (read as "shitii", it matched no term at all). A run of
    one leet character that starts as a letter stays letters to its end: "a$$" is "ass", not "as$".
    In place: a replacement never changes the length, so offsets stay aligned."""
    n = len(chars)
    text = "".join(chars)
    for m in _CANDIDATE.finditer(text):
        j = m.start()
        c = chars[j]
        prev_alpha = j > 0 and chars[j - 1].isalpha()
        nxt = chars[j + 1] if j + 1 < n else ""
        if c in "!|" and prev_alpha and not _letter_after_run(text, j):
            continue
        if c in LEET and prev_alpha and text[j - 1] == c and chars[j - 1] != c:
            chars[j] = LEET[c]  # the run's first one was read as a letter: so is the rest ("a$$")
        elif (c in LEET and prev_alpha and (nxt.isalpha() or nxt in LEET or nxt in MASKS)) or (
            c in LEET and not prev_alpha and nxt.isalpha() and c not in "!|$" and not (j and chars[j - 1].isdigit())
        ):
            chars[j] = LEET[c]
        elif c in MASKS or (prev_alpha and not c.isascii() and nxt.isalpha() and unicodedata.category(c)[0] == "S"):
            chars[j] = "*"  # a symbol or emoji standing in for letters: f🦆ck, sh💩t


def _letter_after_run(text: str, j: int) -> bool:
    """Whether the run of leet and mask characters starting at ``j`` is followed by a letter."""
    k = j
    while k < len(text) and (text[k] in LEET or text[k] in MASKS):
        k += 1
    return k < len(text) and text[k].isalpha()


def _join_spaced(chars: list[str], offs: list[int]) -> tuple[list[str], list[int]]:
    """Join runs of 3+ single letters separated by one and the same space, dot, dash, underscore or
    asterisk: "f u c k" -> "fuck", "f.u.c.k" -> "fuck"."""
    n = len(chars)
    if n < 5:
        return chars, offs
    out_c: list[str] = []
    out_o: list[int] = []
    i = 0
    while i < n:
        if chars[i].isalpha() and (i == 0 or not chars[i - 1].isalnum()):
            j = i
            letters = [i]
            sep = chars[i + 1] if i + 1 < n else ""
            while (
                j + 2 < n
                and chars[j + 1] in " .-_*"
                and chars[j + 1] == sep  # one separator per run: "x f.u.c.k y" joins only "f.u.c.k"
                and chars[j + 2].isalpha()
                and (j + 3 >= n or not chars[j + 3].isalnum())
            ):
                j += 2
                letters.append(j)
            if len(letters) >= 3 and (i + 1 >= n or not chars[i + 1].isalnum()):
                for k in letters:
                    out_c.append(chars[k])
                    out_o.append(offs[k])
                i = j + 1
                continue
        out_c.append(chars[i])
        out_o.append(offs[i])
        i += 1
    return out_c, out_o


def fold_accents(text: str) -> str:
    """Strip accents the way ``normalize`` does, for patterns that run on normalised text.

    The combining marks of the NFKD form are dropped, each distinct mark with one ``str.replace``
    rather than a Python step per character (analytics folds every comment); ASCII has none.
    """
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    for mark in {c for c in set(decomposed) if unicodedata.combining(c)}:
        decomposed = decomposed.replace(mark, "")
    return decomposed


def compile_folded(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """Compile a pattern meant for normalised text: its French accents are folded like the text's."""
    return re.compile(fold_accents(pattern), flags)


def squeeze(word: str) -> str:
    """Collapse every run of a repeated letter to one ("fuuck" -> "fuck") for a second lookup."""
    out: list[str] = []
    for c in word:
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


SPELLED_DOUBLE = frozenset(
    "baisse baisses baisser baissent baissez baissons baissait baissaient baissera baisserait baisseront baissant "
    "baissiez bitte bittes bette bettes cull culls culled culling null bidden goop laddie laddies pollack "
    "pollacks".split()
)
"""Words whose double letter is their spelling, not a stretched word: the squeezed pass would read French
"baisse" (a decrease) as "baise", English "cull" as French "cul", "pollack" as a slur. Found by squeezing
every word of the Debian French, American and Canadian English word lists against the lexicons."""


class Lexicon:
    """Word-boundary matching of many terms over normalised text, with original-text spans.

    Three passes: the normalised text as is; the text with repeated letters squeezed, against
    terms that have no double letter (so "fuuuck" finds "fuck" but "as" never matches "ass"); and
    masked words ("f*ck", "sh**") against terms of the same length and first letter.
    """

    def __init__(self, terms: dict[str, str], masks: bool = True) -> None:
        """``terms`` maps a term (any spelling) to its label; ``masks=False`` turns off the masked-word
        pass (an allowlist must not excuse "sh**" as "shia")."""
        self._terms: dict[str, tuple[str, str]] = {}
        self._single: dict[str, tuple[str, str]] = {}
        self._by_shape: dict[tuple[int, str], list[tuple[str, str, str]]] = {}
        self.size = 0
        for term, label in terms.items():
            norm = normalize(term).text.strip()
            if not norm:
                continue
            self._terms[norm] = (label, term)  # a later spelling of the same term wins
            if squeeze(norm) == norm:
                self._single[norm] = (label, term)
            if masks and " " not in norm and len(norm) >= 3:
                self._by_shape.setdefault((len(norm), norm[0]), []).append((norm, label, term))
            self.size += 1
        _TERMS.add(self._terms)

    def find(self, norm: NormalizedText) -> list[tuple[int, int, str, str]]:
        """Matches as ``(original_start, original_end, label, term)``, sorted by position."""
        if not self.size:
            return []
        text = norm.text
        hits: dict[tuple[int, int], tuple[str, str]] = {}
        terms = self._terms
        for start, end, key in _TERMS.scan(norm, "text"):
            entry = terms.get(key)
            if entry is not None:
                hits[norm.to_original(start, end)] = entry
        if self._single and norm.squeezed:
            mapping = norm.squeeze_map
            single = self._single
            for start, end, key in _TERMS.scan(norm, "squeezed"):
                entry = single.get(key)
                if entry is None:
                    continue
                stop = mapping[end] if end < len(mapping) else len(text)  # through the word's last run
                if text[mapping[start] : stop] not in SPELLED_DOUBLE:
                    hits.setdefault(norm.to_original(mapping[start], stop), entry)
        if "*" in text:
            for start, end, label, term in self._masked(text):
                hits.setdefault(norm.to_original(start, end), (label, term))
        if not hits:
            return []
        return sorted(((s, e, lab, t) for (s, e), (lab, t) in hits.items()), key=lambda h: (h[0], -h[1]))

    def _masked(self, text: str) -> list[tuple[int, int, str, str]]:
        """A self-censored word takes the mildest reading its visible letters allow ("s***" is
        "shit" before it is a slur), so masking never makes a comment look worse than it is."""
        found = []
        for m in _MASKED_WORD.finditer(text):
            word = m.group()
            fits = [
                (self.mask_preference(label), cand, label, term)
                for cand, label, term in self._by_shape.get((len(word), word[0]), ())
                if all(w == "*" or w == c for w, c in zip(word, cand, strict=True))
            ]
            if fits:
                _, _, label, term = min(fits)
                found.append((m.start(), m.end(), label, term))
        return found

    @staticmethod
    def mask_preference(label: str) -> int:
        return MASK_PREFERENCE.get(label, len(MASK_PREFERENCE))


MASK_PREFERENCE = {"mild": 0, "moderate": 1, "severe": 2, "insult": 3, "insult_adj": 4, "slur": 5}
_MASKED_WORD = re.compile(r"(?<![\w*])[a-z][a-z*]*\*[a-z*]*(?![\w*])")


class _TermIndex:
    """One Aho-Corasick automaton over the terms of every lexicon, so a comment's normalised text is
    scanned once, not once per lexicon (ten or so per comment); each lexicon then keeps the matched
    terms that are its own. Match order is the automaton's (by end, longer first), the order a
    lexicon's own automaton would give, so which spelling wins a span is unchanged."""

    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._index: tuple[int, ahocorasick.Automaton | None] = (0, None)

    def add(self, keys: Iterable[str]) -> None:
        new = set(keys) - self._keys
        if not new:
            return
        self._keys |= new
        auto = ahocorasick.Automaton()
        for key in self._keys:
            auto.add_word(key, (len(key), key))
        auto.make_automaton()
        self._index = (self._index[0] + 1, auto)  # one assignment: a reader sees a consistent pair

    def scan(self, norm: NormalizedText, which: str) -> list[tuple[int, int, str]]:
        """Whole-word matches ``(start, end, term)`` in ``norm.text`` or ``norm.squeezed``: neither
        neighbour of a match is a letter or a digit."""
        generation, auto = self._index
        memo = norm.matches.get(which)
        if memo is not None and memo[0] == generation:
            return memo[1]
        text = norm.text if which == "text" else norm.squeezed
        n = len(text)
        found = (
            []
            if auto is None
            else [
                (end - length + 1, end + 1, key)
                for end, (length, key) in auto.iter(text)
                if not ((end >= length and text[end - length].isalnum()) or (end + 1 < n and text[end + 1].isalnum()))
            ]
        )
        norm.matches[which] = (generation, found)
        return found


_TERMS = _TermIndex()


def _squeeze(text: str, runs: list[tuple[int, int]]) -> tuple[str, list[int]]:
    """``text`` with each of its letter ``runs`` cut to one letter, and the index in ``text`` of each
    character kept."""
    parts: list[str] = []
    mapping: list[int] = []
    pos = 0
    for s, e in runs:
        parts.append(text[pos : s + 1])
        mapping.extend(range(pos, s + 1))
        pos = e
    parts.append(text[pos:])
    mapping.extend(range(pos, len(text)))
    return "".join(parts), mapping
