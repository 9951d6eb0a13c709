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

from pipelines.lexicons import LanguageTerms, read_labeled, read_terms
from pipelines.normalize import compile_folded, fold_accents


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a pattern for normalised text: accents folded like the text's, and a straight apostrophe
    also matches a curly one ("I’ll", "j’vais"), inside a character class or out of one."""
    out: list[str] = []
    in_class = escaped = False
    for ch in pattern:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            out.append(ch)
            escaped = True
        elif ch == "'":
            out.append("'’" if in_class else "['’]")
        else:
            if ch == "[" and not in_class:
                in_class = True
            elif ch == "]" and in_class and out and out[-1] != "[":
                in_class = False
            out.append(ch)
    return compile_folded("".join(out))


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


@lru_cache(maxsize=1)
def insult_terms() -> LanguageTerms:
    """``insults.txt`` with regular plurals added (bound to the singular's language): term -> noun,
    adj or dehumanise."""
    vocabulary = read_terms("insults.txt")
    terms = dict(vocabulary.terms)
    only = dict(vocabulary.only)
    for term, label in vocabulary.terms.items():
        if label != "adj" and " " not in term and not term.endswith(("s", "x", "z", "ch", "sh")):
            terms.setdefault(term + "s", label)
            if term in vocabulary.only:
                only.setdefault(term + "s", vocabulary.only[term])
    return LanguageTerms(terms, only)


@lru_cache(maxsize=1)
def people_words() -> str:
    """Any word for a person or a group of people: people.txt, protected groups, names to call
    someone and slurs, each with an optional plural ending, as one alternation. Dehumanising words
    are left out: "poison the rats" and "burn the trash" are about rats and trash."""
    words = [t for t, _ in read_labeled("people.txt")]
    words += [t for t, _ in read_labeled("discrimination_groups.txt")]
    words += [t for t, label in insult_terms().terms.items() if label == "noun"]
    words += [t for t, label in read_terms("profanity.txt").terms.items() if label == "slur"]
    return alternation(words) + r"(?:e?s)?"


@lru_cache(maxsize=1)
def people_set() -> frozenset[str]:
    """The words of ``people_words`` as a set of folded phrases, for checking the words before a verb
    without scanning a long alternation at every position."""
    words = [t for t, _ in read_labeled("people.txt")]
    words += [t for t, _ in read_labeled("discrimination_groups.txt")]
    words += [t for t, label in insult_terms().terms.items() if label == "noun"]
    words += [t for t, label in read_terms("profanity.txt").terms.items() if label == "slur"]
    return frozenset(" ".join(fold_accents(w.lower()).split()) for w in words)


_PRONOUNS = frozenset(
    "you u ya y'all yall y’all he she they him her them whoever t'es t’es tu toi vous il elle ils elles".split()
)
_AFTER_PEOPLE = frozenset("here there downtown today nowadays lately now again too also all both".split())
_TOKENS = re.compile(r"[\w'’*-]+")


def is_person_phrase(words: list[str]) -> bool:
    """Whether ``words`` (normalised tokens) end with a pronoun or a word for people, allowing what
    may stand between them and a verb: "the protesters downtown", "ces gens-là", "the guy who runs
    parking enforcement", "landlords in this city"."""
    words = [w.removesuffix("-la").removesuffix("-ci") for w in words[-10:]]
    for rel in ("who", "that", "qui"):
        if rel in words[-8:]:
            i = len(words) - 1 - words[::-1].index(rel)
            if i and _ends_with_person(words[:i]):
                return True
    while words and words[-1] in _AFTER_PEOPLE:
        words.pop()
    if _ends_with_person(words):
        return True
    for k in (3, 4, 5):  # "landlords in this city", "the councillors at city hall"
        if len(words) > k and words[-k] in ("in", "at", "on", "from", "of", "around", "a", "au", "de", "du"):
            return _ends_with_person(words[:-k])
    return False


_FR_COLOURS = frozenset("noir noire noirs noires blanc blanche blancs blanches".split())
_FR_DETERMINERS = frozenset("les des ces aux un une le la du de d l tous toutes".split())


def colour_of_a_thing(words: list[str]) -> bool:
    """Whether ``words`` (normalised tokens) end with a French colour that describes the noun before it
    ("les poubelles noires", "des sacs noirs"): after a determiner ("les Noirs") or a word for people
    ("une femme noire") the same word names a group of people."""
    return (
        len(words) >= 2
        and words[-1] in _FR_COLOURS
        and words[-2] not in _FR_DETERMINERS
        and words[-2] not in people_set()
    )


def _ends_with_person(words: list[str]) -> bool:
    if not words or colour_of_a_thing(words):
        return False
    if words[-1] in _PRONOUNS or words[-2:] in (["you", "guys"], ["you", "people"], ["you", "lot"], ["those", "who"]):
        return True
    people = people_set()
    for k in (3, 2, 1):
        phrase = " ".join(words[-k:])
        if len(words) >= k and (
            phrase in people
            or (phrase.endswith("s") and phrase[:-1] in people)
            or (phrase.endswith("es") and phrase[:-2] in people)
        ):
            return True
    return False


def tokens(text: str) -> list[str]:
    """The word tokens of normalised text."""
    return _TOKENS.findall(text)


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


_NAME_END = re.compile(r"(?<![\w'’-])([A-Z][a-zà-ÿ'’-]+)\s*,?\s*$")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n]|\s-)\s*$")
NOT_NAMES = _NOT_NAMES = frozenset(
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


_PERSON_WORDS = _PRONOUNS | frozenset(
    "your yours yourself yourselves ur his himself hers herself their theirs themselves ton ta tes votre vos "
    "lui leur leurs human humans individual".split()
)
_NAME_MID = re.compile(r"(?<=[\w,;)] )([A-Z][a-zà-ÿ'’-]{2,})")


def mentions_person(text: str, words: list[str]) -> bool:
    """Whether a comment speaks of or to anyone: a pronoun, a word for people, or a capitalised
    name inside a sentence in the original ``text``. A personal attack needs someone to attack."""
    if any(w in _PERSON_WORDS or _ends_with_person(words[max(0, i - 2) : i + 1]) for i, w in enumerate(words)):
        return True
    return any(m.group(1).lower() not in _NOT_NAMES for m in _NAME_MID.finditer(text))


_ANIMAL_SENSE = {
    "cock": compile_pattern(
        r"\b(?:roosters?|hens?|chickens?|crows?|crowed|crowing|coops?|barnyard|poultry|coq|poules?|poulailler)\b"
    ),
    "chatte": compile_pattern(
        r"\b(?:perdue|disparue|egaree|retrouvee|tigree|sterilisee|miaule|litiere|veterinaire|refuge|adopter|adoption|"
        r"croquettes|chatons?|minou|minet|spa|collier)\b"
    ),
}
"""Vulgar words that are also a farmyard's or a household's animal (a rooster, a female cat), with the words that
make them the animal. Not "pussy": beside "cat" it is mostly the pun, in the tweets of the dev data."""


def animal_sense(text: str, start: int, end: int) -> bool:
    """Whether the word at ``text[start:end]`` is the animal ("the cock crows", "ma chatte est perdue"):
    one of its animal words stands in the same sentence, within 80 characters."""
    word = fold_accents(text[start:end]).lower()
    context = _ANIMAL_SENSE.get(word[:-1] if word.endswith("s") else word)
    if context is None:
        return False
    left = max(text.rfind(c, 0, start) for c in ".!?\n") + 1
    right = min((i for i in (text.find(c, end) for c in ".!?\n") if i >= 0), default=len(text))
    return bool(context.search(fold_accents(text[max(left, start - 80) : min(right, end + 80)]).lower()))


_STREET_AFTER = re.compile(
    r"[ \t]+(?:Rd|Road|St|Street|Ave|Av|Avenue|Blvd|Boulevard|Dr|Drive|Ln|Lane|Cres|Crescent|Ct|Court|Way|Pl|Place|"
    r"Pkwy|Parkway|Hwy|Highway|Trail|Terr?|Terrace|Line|Sideroad|Creek|Lake|Hill|Bay|Point|Park|Island|Falls)\b"
)
_STREET_BEFORE = re.compile(
    r"\b(?:rue|chemin|boulevard|boul|avenue|av|promenade|croissant|route)\.?[ \t]+$", re.IGNORECASE
)


def place_name(text: str, start: int, end: int) -> bool:
    """Whether the word at ``text[start:end]`` is part of a place's name: capitalised and followed by a
    street or place type ("Hooker Rd", "Dyke Road", "Butts Lane"), or after a French street type ("rue
    Hooker"). Residents name the street a problem is on; a surname in a street name is no vulgarity."""
    if not text[start : start + 1].isupper():
        return False
    return bool(_STREET_AFTER.match(text, end) or _STREET_BEFORE.search(text, max(0, start - 20), start))
