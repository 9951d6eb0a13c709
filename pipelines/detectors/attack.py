"""5.7.7 (first half): a specific attack on groups or individuals.

An attack is abuse aimed at someone: name-calling ("you are a moron", "what an idiot", "Harper is a
pathetic loser", "espèce de cave"), dehumanising ("these people are parasites"), insults said of a
person ("you're so stupid", "stupid people") and abuse addressed to someone ("shut up", "get a
life", "ferme ta gueule"). Criticism of the city, its services or its decisions is neither an attack
nor a violation: residents may say the city is wrong, loudly ("this decision is a disgrace", "worst
snow removal ever", "what a stupid plan"). So a word of abuse counts only when it is aimed at a
person or a group of people (a pronoun, a word for people, a name), and a comment whose only target
is an institution or a decision is capped below the threshold however angry it is.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import ClassVar

from pipelines.base import Comment, SettingsIn, register
from pipelines.detectors._learned import LearnedDetector
from pipelines.detectors._targets import (
    compile_pattern,
    insult_terms,
    is_person_phrase,
    mentions_person,
    name_before,
    people_words,
    tokens,
)
from pipelines.lexicons import LanguageTerms, read_terms
from pipelines.normalize import NormalizedText, compile_folded
from pipelines.types import Evidence

_rx = compile_pattern

_PEOPLE = people_words()
_COPULA = (
    r"(?:\s+(?:is|are|r|was|were|be|being|been|am|has been|have been|had been|sont|est|es|etes|etait|etaient|"
    r"sounds like|looks like|acts like|seems like|sound like|look like|act like|seem like|remains|became|become|"
    r"turned into|must be|has to be|will always be|"
    r"has always been|have always been)|'(?:re|m)|'s(?=\s+(?:a|an|the|such|just|one|nothing|so|really|truly|fucking|un|"
    r"une)\b))"
)
"""Between a subject and what it is called: "is", "are", "'s", "'re", "est", "sont"."""
_WORD = (
    r"(?!(?:not|never|no|pas|jamais|nt|and|or|but|with|in|on|for|about|by|from|to|because|when|if|who|which|while|"
    r"after|before|into|at|than|et|ou|mais|avec|dans|pour|par|quand|si|qui)\b)"
    r"(?!(?!(?:fuck|fuk|freak|eff|frigg|frick|fck|f\*ck|f\*\*k)in)[\w\x27\u2019*-]*ing\b)[\w\x27\u2019*-]+"
)
"""A word between a target and the insult ("a", "complete", "fucking"): not a negation, a conjunction, a
preposition or a verb in -ing ("they are investigating infections and diseases")."""
_START = r"(?:^|[^\w\x27\u2019])"
_INTENSIFIER = (
    r"(?:stupid|fucking|fuckin|freaking|effing|dumb|little|big|fat|ignorant|pathetic|lying|old|absolute|complete|total|"
    r"utter|damn|goddamn|bloody|miserable|sorry|gros|grosse|maudit|maudite|sale|pauvre)"
)
_ADVERB = r"(?:so|such|really|very|too|completely|totally|utterly|incredibly|fucking|just|simply|truly|pretty|extremely|tellement|vraiment|trop|ben|bin|full)"
_ARTICLE = (
    r"(?:a|an|the|just|all|such|nothing but|no better than|worse than|like|des|de la|du|la|le|les|un|une|comme|"
    rf"juste|rien que|{_INTENSIFIER})"
)
_AND_A = rf"(?:(?:and|et|or|ou)\s+(?:a|an|un|une|des)\s+(?:{_WORD}\s+){{0,2}})?"
"""A second name in the same breath: "... is a hack and a", "... est un incompétent et un"."""
_NOUN_TAIL = _rx(rf"{_COPULA}\s+(?:{_WORD}\s+){{0,4}}{_AND_A}$")
"""A subject is called a name: "... is a complete", "... 're such", "... sont des"."""
_ADJ_TAIL = _rx(rf"{_COPULA}\s+(?:{_ADVERB}\s+){{0,2}}$")
"""A subject is said to be something: "... are so", "... est tellement"."""
_DEHUMANISE_TAIL = _rx(rf"{_COPULA}\s+(?:{_ARTICLE}\s+){{0,3}}$")
"""A subject is said to be less than human: "... are", "... are nothing but", "... sont des"."""
_YOU = _rx(
    rf"{_START}(?:(?:you|u|ya|y'all|yall|you guys|you people|you lot|toi)\b|espece d(?:e\b|'))\s*"
    rf"(?:(?:a|an|the|such|one|{_INTENSIFIER})\s+){{0,2}}$"
)
"""you idiot; you fucking moron; espèce de cave"""
_YOU_ARE = _rx(
    rf"{_START}(?:youre|ur|hes|shes|theyre|t'es|tes|tu es|vous etes|t'etais|t'as l'air d'une?)\s+(?:{_WORD}\s+){{0,3}}$"
)
"""youre a loser; t'es juste un gros cave; vous êtes des abrutis"""
_BUNCH_OF = _rx(
    rf"{_START}(?:bunch|pack|gang|band|group|herd|nest|bande|troupeau|tas)\s+(?:of|de|d')\s*(?:{_WORD}\s+){{0,2}}$"
)
"""a bunch of idiots; quelle bande de caves"""
_AIMED_NOUN = (
    _YOU,
    _YOU_ARE,
    _BUNCH_OF,
    # what an idiot; such a moron; the biggest liar; this clown; c'est un cave; maudit cave
    _rx(rf"{_START}(?:what|such|quel|quelle|quels|quelles)\s+(?:{_WORD}\s+){{0,3}}$"),
    _rx(
        rf"{_START}(?:biggest|greatest|worst|dumbest|stupidest|ultimate|number one|#1|plus gros|pire)\s+(?:{_WORD}\s+)?$"
    ),
    _rx(rf"{_START}(?:this|that|these|those|ce|cet|cette|ces)\s+(?:{_WORD}\s+){{0,2}}$"),
    _rx(rf"{_START}c'est\s+(?:un|une|des|vraiment une?|juste une?|rien qu'une?)\s+(?:{_WORD}\s+){{0,2}}$"),
    _rx(
        rf"{_START}(?:maudite?s?|ostie d(?:e|')|esti d(?:e|')|crisse d(?:e|')|tabarnak d(?:e|')|sacrament d(?:e|')|"
        r"gros|grosse|sale)\s*$"
    ),
)
_AIMED_ADJ = (
    # t'es tellement nul; you stupid ...
    _rx(rf"{_START}(?:youre|ur|hes|shes|theyre|t'es|tes|tu es|vous etes)\s+(?:{_ADVERB}\s+){{0,2}}$"),
    _rx(rf"{_START}(?:(?:you|u|ya|toi)\b|espece d(?:e\b|'))\s*$"),
    # imagine being this dumb: said to whoever the reply answers
    _rx(rf"{_START}imagine\s+(?:being|bein|havin[g']? to be)\s+(?:this|that|so)\s+(?:{_ADVERB}\s+)?$"),
)
_NAME_COPULA_END = _rx(
    rf"(?:\s+(?:is|was|has always been|will always be|remains|sounds like|looks like|acts like|seems like|became|est|"
    rf"etait)|'s(?=\s+(?:a|an|such|so|just|really|pretty|truly|fucking|one)\b))\s+(?:{_WORD}\s+){{0,4}}{_AND_A}$"
)
"""What follows a name that is being called something: "Harper is a", "Smith's a", "Tremblay est un"."""
_SELF = _rx(
    r"\b(?:i'm|i am|im|i was|i feel like|i felt like|i look like|we're|we are|we were|je suis|j'suis|chu|je me sens)\s+"
    r"(?:(?!(?:you|u|he|she|they|him|her|them|this|that|these|those|tu|il|elle|ils)\b)[\w\x27\u2019-]+\s+){0,3}$"
)
"""Said of oneself ("I'm such an idiot", "I feel like a fool"): not an attack."""
_DENIED = _rx(
    r"\b(?:not|never|n't|nobody is|no one is)\s+(?:calling|saying|said|implying|suggesting|think)\b[^.!?]{0,30}$"
)
"""Said to be no insult: "I'm not calling you an idiot", "nobody is saying he's a liar"."""
_PERSON_AFTER = _rx(
    rf"^\s+(?:(?:fucking|little|old|fat|ass|lazy|lying|ignorant|arrogant|white|black|ugly|[\w-]+ing)\s+){{0,2}}"
    rf"{_PEOPLE}\b"
)
"""An insulting adjective before a word for people: "stupid people", "pathetic loser", "dumb fucking idiot"."""
_LIKE_AFTER = _rx(
    r"^\s+(?:like\s+(?:you|u|him|her|them|yourself|that)\b|(?:who|whom|whose|qui)\b|that\s+(?:\w+\s+){0,3}?"
    r"(?:approved|designed|wrote|voted|thinks?|runs?|said|did|made|decided|came up|keeps?|park|parks|drive|drives)\b)"
)
"""A name followed by who it means: "idiots like you", "the clown who approved this"."""
_SO_ARE_YOU = _rx(r"^\W*(?:and|,)?\s*(?:so|as)\s+(?:are|is|r)\s+(?:you|u|ya|y'all|he|she|they)\b")
"""The thing said of someone by ellipsis: "your edits are garbage and so are you"."""
_END_AFTER = _rx(r"^\s*(?:[.!?]|$)")
_PREDICATE_AFTER = _rx(
    r"^\s*(?:[.!?,;:)]|$|(?:and|or|but|for|to|if|as|like|because|when|lol|af|enough|beyond|too|it|that)\b|"
    r"[\w-]+ing\b)"
)
"""After an insulting adjective said of someone ("you're stupid.", "he's pathetic and"), not before the
noun it describes ("the Charter is a useless document")."""
_NOT_HUMAN_AFTER = _rx(r"^\s*-?\s*(?:free|risk|outbreak|control|carrier|research|season|cases?)\b")
"""A dehumanising word that is about the thing itself: "virus free", "a disease risk"."""
_VOCATIVE_BEFORE = _rx(rf"[,!:-]\s*(?:you\s+)?(?:{_INTENSIFIER}\s+){{0,2}}$")
_OPENING = _rx(rf"^\W*(?:(?:hey|oh|ok|okay|listen|look|well|yo|wow|lol|dear)\W+)?(?:{_INTENSIFIER}\s+){{0,2}}$")
_DIRECT_KEYS = (
    "shut|stfu|hell|fuck|f off|screw|piss|eat shit|kiss my|suck my|go die|drop dead|get a|grow a|cares|asked|sick|"
    "you suck|joke|embarrassment|disgrace|no brain|no brains|no life|no friends|iq|i.q.|learn|basement|rock|"
    "likes you|hates you|wants you|needs you|ashamed|swallowed|ferme|gueule|yeule|chier|marde|foutre|diable|decrisse|crisse|casse|demande|cerveau|"
    "tete|cervelle|nique|ta mere|get lost|comprehension"
).split("|")
"""Words the abuse addressed to someone needs ("shut up", "get a life"): most comments have none."""
_DIRECT = _rx(
    r"\b(?:shut (?:the fuck |the hell )?up|shut your (?:mouth|trap|face|pie ?hole|hole|yap)|stfu|go to hell|"
    r"go fuck yourself|(?<!the )fuck (?:you|u)\b|fuck off|f off|screw you|piss off|eat shit|kiss my (?:ass|arse)|"
    r"suck my (?:dick|cock|balls)|go die|drop dead(?![- ](?:gorgeous|beautiful|stunning|sexy|hot|handsome|"
    r"pretty|cute|funny|hilarious|simple|easy|serious|amazing|brilliant|perfect|fabulous|delicious|date|deadline)\b)|"
    r"get a life|get a brain|grow a brain|"
    r"(?:nobody|no one|noone) (?:cares|asked) (?:what you think|about you|about your|for your)|who asked you|"
    r"you make me sick|you suck|you(?:'re| are) (?:a joke|an embarrassment|a disgrace)|"
    r"(?:you|u) (?:have|got|'ve got) no (?:brains?|life|friends)|(?:iq|i\.q\.) of a|"
    r"(?:you|u|go|pls|please|maybe) learn (?:how )?to read|"
    r"(?:you|u) (?:clearly |obviously |must have |must've )?(?:failed|flunked|skipped|never passed) reading comprehension|(?:go )?back to (?:your|the|ur) "
    r"(?:mom's |mothers |moms )?(?:basement|cave|hole)|crawl back under (?:your|a|the) rock|nobody likes you|"
    r"everyone hates you|(?:nobody|no one|noone) (?:wants|needs) you|you should be ashamed of yourself|"
    r"(?:your|ur|yo) (?:mom|mother|momma|mama) should(?:'ve| have) swallowed (?:you|u)|"
    r"ferme[- ]la|ferme ta (?:gueule|yeule|boite|trappe)|ta gueule|ta yeule|va chier|va donc chier|"
    r"mange (?:de la |d'la |un char de )?marde|va te faire foutre|va au diable|decrisse|crisse ton camp|casse[- ]toi|"
    r"personne (?:ne )?t'a (?:rien )?demande|t'as pas de (?:cerveau|tete|cervelle)|nique ta mere|ta mere la)\b|"
    r"(?:^|[.!?,;:]\s*|\b(?:just|now|so|go|and)\s+)get lost\b"
)
_INSTITUTION = compile_folded(
    r"\b(city|council|decision|plan|budget|bylaw|by-law|policy|service|services|department|administration|"
    r"road|roads|snow removal|plowing|transit|bus|project|idea|system|process|roundabout|intersection|traffic lights?|"
    r"streetlights?|sidewalks?|bike lanes?|potholes?|parking|pool|library|arena|recycling|garbage pickup|sewers?|"
    r"water bill|property tax(es)?|fees|construction|website|311|ville|décision|conseil|projet|service|déneigement|"
    r"budget|nids-de-poule|stationnement|piscine|bibliothèque|autobus|taxes)\b"
)


def _named(original: str, norm: NormalizedText, ns: int, before: str, mid_sentence: bool) -> bool:
    """A capitalised name, then "is" and the word: "Harper is a lunatic", "I think Smith is pathetic"."""
    m = _NAME_COPULA_END.search(before)
    if not m:
        return False
    at = ns - len(before) + m.start()
    return name_before(original, norm.offsets[at] if at < len(norm.offsets) else len(original), mid_sentence)


def _subject_before(before: str, tail: re.Pattern[str]) -> bool:
    """Whether ``before`` ends with a person or a group, a copula and what ``tail`` allows after it,
    in the same sentence ("Notify the owner. There is a rat issue" says nothing of the owner)."""
    m = tail.search(before)
    if m is None:
        return False
    head = before[: m.start()]
    return is_person_phrase(tokens(head[_sentence_start(head) :]))


_SENTENCE_END = re.compile(r"[.!?;\n](?=\s)|\n")


def _sentence_start(text: str) -> int:
    """Where the last sentence of ``text`` begins."""
    start = 0
    for m in _SENTENCE_END.finditer(text):
        start = m.end()
    return start


def aimed(original: str, norm: NormalizedText, ns: int, ne: int, kind: str) -> bool:
    """Whether the word of abuse at ``norm.text[ns:ne]`` is said of or to a person, not of a decision
    or a thing. ``kind`` is its label in insults.txt: ``noun``, ``adj``, ``dehumanise``, ``animal`` or
    ``thing`` (the last two, "rats", "trash", are abuse only when a person is said to be one)."""
    text = norm.text
    before = text[max(0, ns - 80) : ns]
    after = text[ne : ne + 60]
    if _SELF.search(before) or _DENIED.search(before):
        return False
    if kind == "adj":
        if _PERSON_AFTER.match(after):
            return True
        if not _PREDICATE_AFTER.match(after):
            return False
        return (
            any(rx.search(before) for rx in _AIMED_ADJ)
            or _subject_before(before, _ADJ_TAIL)
            or _named(original, norm, ns, before, mid_sentence=True)
        )
    if kind in ("dehumanise", "animal", "thing"):
        # a thing can be trash too ("the roads are trash", "a bunch of trash on the curb"): only a
        # person or a group said to be one counts
        if _NOT_HUMAN_AFTER.match(after):
            return False
        if kind != "dehumanise":
            return bool(_YOU.search(before) or _YOU_ARE.search(before) or _SO_ARE_YOU.match(after)) or _subject_before(
                before, _DEHUMANISE_TAIL
            )
        return bool(_BUNCH_OF.search(before)) or _subject_before(before, _DEHUMANISE_TAIL)
    if any(rx.search(before) for rx in _AIMED_NOUN) or _LIKE_AFTER.match(after):
        return True
    if (_VOCATIVE_BEFORE.search(before) and _END_AFTER.match(after)) or (
        _OPENING.match(before) and _PREDICATE_AFTER.match(after)
    ):
        return True  # "Shut up, idiot." "Idiots!"
    return _subject_before(before, _NOUN_TAIL) or _named(original, norm, ns, before, mid_sentence=False)


def attack_terms() -> LanguageTerms:
    """Words of abuse: insults.txt (names, insulting adjectives, dehumanising words) and the slurs of
    profanity.txt, which are names to call someone as well."""
    insults = insult_terms()
    profanity = read_terms("profanity.txt")
    terms = dict(insults.terms)
    only = dict(insults.only)
    for term, label in profanity.terms.items():
        if label == "slur":
            terms.setdefault(term, "noun")
            if term in profanity.only:
                only.setdefault(term, profanity.only[term])
    return LanguageTerms(terms, only)


_ABUSE = frozenset({"noun", "adj", "dehumanise", "direct_key"})
"""Lexicon labels that are words of abuse whatever they are said of ("trash" and "rats" are not)."""
MODEL_ALONE = 0.55
"""The score the model needs to flag a comment in which no word of abuse stands (not one insult,
slur or "shut up", aimed or not): on residents' reports it drifts just past 0.5 ("Damaged Fire
Hydrant", "overgrown bushes obstruct the view")."""


@register
class AttackDetector(LearnedDetector):
    name = "attack"
    version = "8"
    clause = "5.7.7"
    category = "attack"
    rule_scores: ClassVar[dict[str, float]] = {"aimed_insult": 0.8, "dehumanising": 0.85, "direct": 0.75}

    def __init__(self, settings: SettingsIn = None, **rule: str) -> None:
        self.vocabulary = attack_terms()
        super().__init__(settings, **rule)

    def terms(self) -> dict[str, str]:
        """Words of abuse, and the keys of abuse addressed to someone (one scan finds both)."""
        terms = dict.fromkeys(_DIRECT_KEYS, "direct_key")
        terms.update(self.vocabulary.terms)
        return terms

    def rules(self, comment: Comment, norm: NormalizedText) -> list[Evidence]:
        text = norm.text
        spans: list[Evidence] = []
        addressed = False
        for s, e, label, term in self.lexicon.find(norm):
            if label == "direct_key":
                addressed = True
                continue
            if not self.vocabulary.counts(term, comment.language):
                continue
            ns = bisect_left(norm.offsets, s)
            ne = bisect_left(norm.offsets, e)
            if aimed(comment.text, norm, ns, ne, label):
                spans.append(
                    Evidence(s, e, "dehumanising" if label in ("dehumanise", "animal", "thing") else "aimed_insult")
                )
        if addressed:
            for m in _DIRECT.finditer(text):
                s, e = norm.to_original(m.start(), m.end())
                spans.append(Evidence(s, e, "direct"))
        return spans

    def adjust(self, comment: Comment, norm: NormalizedText, score: float, spans: list[Evidence]) -> float:
        if spans or score <= 0.35:  # rule evidence, or already below both caps
            return score
        if _INSTITUTION.search(norm.text):
            return min(score, 0.35)  # criticism of the city is not an attack
        if score > 0.45 and not mentions_person(comment.text, tokens(norm.text)):
            return min(score, 0.45)  # the model alone, and nobody to attack ("Does the app show the detour?")
        if 0.45 < score < MODEL_ALONE and not any(h[2] in _ABUSE for h in self.lexicon.find(norm)):
            return 0.45  # the model alone, unsure, and not one word of abuse ("Missing Fire Hydrant")
        return score
