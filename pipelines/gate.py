"""A keyword gate in front of a regular expression: cheap stage first, the pattern only where it can match.

Most comments hold none of a clause's trigger words, yet a large alternation (``buy now|order
now|...``) still costs several microseconds per comment to rule out, and every detector runs
several. ``gated`` reads the compiled pattern's own syntax tree for literal strings that every
match must contain (``"buy now"``, ``"order now"``, ...), and the pattern runs only on texts where
one Aho-Corasick pass finds one of them. The strings come from the pattern itself, never from a
hand-kept list, so editing a pattern cannot leave its gate behind, and a pattern with no such
strings (``\\d{3}``) is simply never gated. Results are the pattern's own: the gate only skips
searches that cannot succeed.

Case-insensitive patterns are gated on ASCII texts only (lowercased): Unicode case folding has
cases (the Kelvin sign, the long s) a lowercase comparison would miss, so other texts always go
to the pattern.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from itertools import product
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import ahocorasick

from pipelines.normalize import compile_folded

_MAX_SET = 256
"""Largest set of alternative strings followed while concatenating (``(a|b)(c|d)`` is four)."""
_NOCASE = re.IGNORECASE

_Info = tuple[frozenset[str] | None, frozenset[str] | None]
"""For a piece of pattern: the exact strings it can match (when finite and small), and a set of
strings one of which every match contains (when known)."""


def required_literals(pattern: re.Pattern[str]) -> tuple[frozenset[str] | None, bool]:
    """Strings one of which occurs in every match of ``pattern`` (None when none can be read off),
    and whether they are to be compared in lowercase (the pattern ignores case somewhere)."""
    parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    nocase = [bool(parsed.state.flags & _NOCASE)]
    _, needed = _sequence(list(parsed), nocase)
    if needed is None or "" in needed:
        return None, nocase[0]
    if nocase[0]:
        needed = frozenset(s.lower() for s in needed)
        if any(_folds_to_ascii(ch) for s in needed for ch in s if not ch.isascii()):
            return None, True
    # A string that contains another one adds nothing: wherever it occurs, the shorter one does.
    shortest_first = sorted(needed, key=len)
    kept: list[str] = []
    for s in shortest_first:
        if not any(k in s for k in kept):
            kept.append(s)
    return frozenset(kept), nocase[0]


def _folds_to_ascii(ch: str) -> bool:
    """Whether a non-ASCII character matches some ASCII character when case is ignored (K, ſ)."""
    rx = re.compile(re.escape(ch), re.IGNORECASE)
    return any(rx.fullmatch(chr(c)) for c in range(128))


def _better(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    """The more selective of two candidate sets: longer shortest string, then fewer strings."""
    if a is None or "" in a:
        return None if b is None or "" in b else b
    if b is None or "" in b:
        return a
    ka, kb = (min(map(len, a)), -len(a)), (min(map(len, b)), -len(b))
    return a if ka >= kb else b


def _sequence(items: list[tuple[Any, Any]], nocase: list[bool]) -> _Info:
    run: frozenset[str] | None = frozenset({""})  # exact strings of the items since the last break
    whole = True  # no break yet: ``run`` is everything the sequence can match
    best: frozenset[str] | None = None
    for op, av in items:
        exact, needed = _item(op, av, nocase)
        best = _better(best, needed)
        if exact is not None and run is not None and len(run) * len(exact) <= _MAX_SET:
            run = frozenset(a + b for a, b in product(run, exact))
            continue
        best = _better(best, run)
        run, whole = exact, False
    best = _better(best, run)
    return (run if whole else None), best


def _item(op: Any, av: Any, nocase: list[bool]) -> _Info:
    if op is sre.LITERAL:
        s = frozenset({chr(av)})
        return s, s
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
        return frozenset({""}), None  # zero width: the match string is unaffected
    if op is sre.IN:
        chars = [chr(v) for o, v in av if o is sre.LITERAL]
        if len(chars) == len(av) and chars:
            s = frozenset(chars)
            return s, s
        return None, None
    if op is sre.SUBPATTERN:
        _, add_flags, _, p = av
        if add_flags & _NOCASE:
            nocase[0] = True
        return _sequence(list(p), nocase)
    if op is sre.ATOMIC_GROUP:
        return _sequence(list(av), nocase)
    if op is sre.BRANCH:
        infos = [_sequence(list(alt), nocase) for alt in av[1]]
        exacts = [e for e, _ in infos]
        exact = None
        if all(e is not None for e in exacts):
            union = frozenset().union(*(e for e in exacts if e is not None))
            exact = union if len(union) <= _MAX_SET else None
        needs = [n if n is not None and "" not in n else e for e, n in infos]
        needed = None
        if all(n is not None and "" not in n for n in needs):
            needed = frozenset().union(*(n for n in needs if n is not None))
        return exact, needed
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        lo, hi, p = av
        exact, needed = _sequence(list(p), nocase)
        if lo == 0:
            return (exact | {""} if exact is not None and hi == 1 else None), None
        return (exact if lo == hi == 1 else None), needed
    return None, None  # any character, a class with ranges or categories, a back-reference


class GatedPattern:
    """A compiled pattern behind its keyword gate, with the ``re.Pattern`` calls the detectors use."""

    __slots__ = ("_auto", "_nocase", "pattern")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        needles, self._nocase = required_literals(pattern)
        self._auto: ahocorasick.Automaton | None = None
        if needles:
            self._auto = ahocorasick.Automaton()
            for needle in needles:
                self._auto.add_word(needle, None)
            self._auto.make_automaton()

    @property
    def keywords(self) -> frozenset[str] | None:
        """The gate's strings (None: the pattern runs on every text)."""
        return None if self._auto is None else frozenset(self._auto.keys())

    def possible(self, text: str) -> bool:
        """False only when no match can exist in ``text``."""
        if self._auto is None:
            return True
        if self._nocase:
            if not text.isascii():
                return True
            text = text.lower()
        return next(self._auto.iter(text), None) is not None

    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        if not self.possible(string):
            return None
        return self.pattern.search(string, pos, endpos)

    def finditer(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> Iterator[re.Match[str]]:
        if not self.possible(string):
            return iter(())
        return self.pattern.finditer(string, pos, endpos)


def gated(pattern: re.Pattern[str]) -> GatedPattern:
    """``pattern`` behind a gate of the literal strings its matches must contain."""
    return GatedPattern(pattern)


def compile_gated(pattern: str, flags: int = 0) -> GatedPattern:
    """``compile_folded`` behind a keyword gate: for the patterns a detector runs on every comment."""
    return GatedPattern(compile_folded(pattern, flags))
