"""Who a comment is aimed at: the vocabulary 5.7.3, 5.7.7 and 5.7.8 share.

A threat, an insult and a generalisation all need a target that is a person or a group of people:
"kill the cops" is a threat and "kill the bill" is not; "the mayor is a clown" is an attack and "the
plan is a joke" is criticism of the city. The words are data (``people.txt``,
``discrimination_groups.txt``, ``insults.txt`` and the slurs of ``profanity.txt``); this module turns
them into pattern fragments for normalised text and finds names, which only the original text's
capitals show.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from pipelines.lexicons import read_labeled, read_terms
from pipelines.normalize import fold_accents

PRONOUN_OBJECT = (
    r"(?:you|u|ya|y'all|yall|you all|you guys|you people|him|her|them|em|'em|yourself|yourselves|whoever|whomever|"
    r"everyone|everybody|every (?:last |single )?one of (?:you|them|those|these)|all of (?:you|them|those|these))"
)
"""People as the object of a verb ("kill them", "hurt you")."""
PRONOUN_SUBJECT = (
    r"(?:you|u|ya|y'all|yall|you all|you guys|you people|you lot|he|she|they|him|her|them|whoever|those who|"
    r"t'es|tu es|tu|toi|vous|il|elle|ils|elles)"
)
"""People as the subject of a clause ("you are", "they should", "il est")."""


def alternation(terms: Iterable[str]) -> str:
    """A regex alternation of ``terms`` for normalised text: folded, longest first, any space between words."""
    folded = sorted({fold_accents(t.strip().lower()) for t in terms if t.strip()}, key=len, reverse=True)
    return "(?:" + "|".join(re.escape(t).replace(r"\ ", r"\s+") for t in folded) + ")"


def insult_terms() -> dict[str, str]:
    """``insults.txt`` with regular plurals added: term -> noun, adj or dehumanise."""
    vocabulary = read_terms("insults.txt")
    terms = dict(vocabulary.terms)
    for term, label in vocabulary.terms.items():
        if label != "adj" and " " not in term and not term.endswith(("s", "x", "z", "ch", "sh")):
            terms.setdefault(term + "s", label)
    return terms


@lru_cache(maxsize=1)
def people_words() -> str:
    """Any word for a person or a group of people: people.txt, protected groups, names to call
    someone and slurs, each with an optional plural ending, as one alternation. Dehumanising words
    are left out: "poison the rats" and "burn the trash" are about rats and trash."""
    words = [t for t, _ in read_labeled("people.txt")]
    words += [t for t, _ in read_labeled("discrimination_groups.txt")]
    words += [t for t, label in insult_terms().items() if label == "noun"]
    words += [t for t, label in read_terms("profanity.txt").terms.items() if label == "slur"]
    return alternation(words) + r"(?:e?s)?"


@lru_cache(maxsize=1)
def group_words() -> str:
    """A group a clause of 5.7.3 protects, or a slur for one, with an optional plural ending."""
    words = [t for t, _ in read_labeled("discrimination_groups.txt")]
    words += [t for t, label in read_terms("profanity.txt").terms.items() if label == "slur"]
    return alternation(words) + r"(?:e?s)?\b"


@lru_cache(maxsize=1)
def target_pattern() -> str:
    """A person or a group as the object of a verb: a pronoun, or an optional determiner and up to
    two words before a word for people ("them", "the cops", "all the fucking liberals")."""
    determiner = (
        r"(?:all|all the|all those|all these|every|each|the|that|this|these|those|some|any|more|"
        r"your|his|her|their|our|ur|les|ces|tous les|toutes les|le|la|l')"
    )
    return rf"(?:{PRONOUN_OBJECT}|(?:{determiner}\s+)?(?:[\w-]+\s+){{0,2}}?{people_words()})\b"


_NAME_END = re.compile(r"([A-Z][a-zà-ÿ'’-]+)(?:\s+[A-Z][a-zà-ÿ'’-]+)?\s*,?\s*$")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n]|\s-)\s*$")
_NOT_NAMES = frozenset(
    "this that these those it its the a an he she they we i you what who why how when where which there here "
    "everyone everybody nobody someone somebody anyone honestly seriously yes no well oh and but so or if then "
    "also just maybe probably lol lmao omg wow sorry thanks thank please city council windsor canada ontario "
    "government police staff traffic today tomorrow tonight yesterday ce cette il elle ils elles la le les "
    "on oui non bon ben merci".split()
)


def name_before(text: str, end: int, mid_sentence: bool = False) -> bool:
    """Whether the original ``text`` has a capitalised name ending at ``end`` ("Harper", "Mr Smith").

    With ``mid_sentence`` a name that opens a sentence does not count, since any word does there
    ("Traffic is stupid")."""
    window = text[max(0, end - 40) : end]
    m = _NAME_END.search(window)
    if not m or m.group(1).lower() in _NOT_NAMES:
        return False
    return not (mid_sentence and _SENTENCE_START.search(window[: m.start()]))
