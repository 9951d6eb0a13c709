"""5.7.3 Content that promotes, fosters or perpetuates discrimination on a protected ground.

The tag names the ground the clause lists (race, creed, colour, age, religion, gender, marital
status, public assistance, national origin, disability, sexual orientation). A group term is only
evidence together with a statement against the group, because residents talk about seniors,
immigrants and women all the time without discriminating: dehumanising ("<group> are animals",
"subhuman", "breed like rats"), exclusion ("should be deported", "go back where you came from",
"women belong in the kitchen", "don't belong here"), a stereotype stated as fact ("<group> are lazy",
"can't drive"), an insult said of the group or fused with it ("muslims are idiots", "dirty jews",
"stupid women"), hostility ("I hate ...", "fuck ...") or violence against it ("kill all ...").
Slurs that name a group from outside are evidence on their own; the in-group and casual ones listed
in ``slur_context_only.txt`` count only beside such a statement (the file says why). The shipped
model adds what patterns miss, but only for a comment that names some identity: discrimination is
always about a group. French hostility often names "ils" and the mosque, the veil or the "bled" rather
than the group, so in French a trope (invasion, replacement, vermin, "retourne au bled") near the
group, its religion or its migration is evidence, unless the comment denies, quotes or refutes it.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache
from typing import ClassVar

from pipelines.base import Comment, SettingsIn, register
from pipelines.detectors._learned import LearnedDetector
from pipelines.detectors._targets import (
    alternation,
    colour_of_a_thing,
    compile_pattern,
    insult_terms,
    is_person_phrase,
    tokens,
)
from pipelines.lexicons import read_labeled, read_list, read_terms
from pipelines.normalize import Lexicon, NormalizedText, fold_accents
from pipelines.types import Evidence

GROUNDS = (
    "race",
    "creed",
    "colour",
    "age",
    "religion",
    "gender",
    "marital_status",
    "public_assistance",
    "national_origin",
    "disability",
    "sexual_orientation",
    "unspecified",
)
"""The grounds clause 5.7.3 lists, as tag labels."""

_rx = compile_pattern
_DEHUMANISE = _rx(
    r"(?:\b(?:are|is|r|sont|c'est|ce sont|ne sont (?:que|rien que) des|c'est (?:que|rien que) des|were|become|became)|"
    r"(?<=\s)=)\s+"
    r"(?:all\s+|just\s+|nothing but\s+|tous\s+des\s+|toutes\s+des\s+|des\s+|juste\s+des\s+|tous\s+|toutes\s+|"
    r"une\s+bande\s+de\s+|a bunch of\s+|such\s+|so\s+|really\s+|basically\s+|literally\s+)?"
    r"(?:animals?|vermin|parasites?|subhuman|sub-human|savages?|rats?|cockroaches|roaches|disease|plague|scum|trash|"
    r"garbage|filth|property|objects|livestock|breeders|baby machines|criminals|terrorists|rapists|thieves|pedophiles|paedophiles|groomers|inferior|a disease|a cancer|"
    r"a virus|the problem|a burden|a drain|leeches|lazy|freeloaders|dirty|filthy|smelly|stupid|dumb|ugly|disgusting|"
    r"invaders|perverts|degenerates|deviants|abominations?|an abomination|unnatural|mentally ill|sick in the head|"
    r"sick|evil|the enemy|a threat|dangerous|violent|barbaric|barbarians|primitive|uncivili[sz]ed|backwards|"
    r"not (?:human|people|real (?:men|women))|less than human|inhuman|worthless|useless|a waste|monkeys|apes|dogs|pigs|"
    r"animaux|vermine|parasites|sauvages|dechets|criminels|terroristes|inferieur(?:e)?s?|violeurs|voleurs|profiteurs|"
    r"paresseux|sales|envahisseurs|une plaie|un fardeau|le probleme|malades|pervers|degeneres|fous|des chiens|"
    r"des porcs|des singes|pas (?:humains|des humains)|barbares|escrocs|menteurs|faineants|assistes|racailles|"
    r"delinquants|fanatiques|arrieres|primitifs|hypocrites|sangsues|betes|sous-hommes|moins que rien|bons a rien|"
    r"inutiles|dangereux|violents|stupides|debiles|attardes|crasseux|puants|degoutants|incapables|inassimilables|"
    r"une menace|un danger|un cancer|une maladie|une honte|une vermine|une peste|nuisibles|predateurs|une race de \w+|"
    r"une catastrophe|un desastre|un fleau|contre[- ]nature|des brutes|detraques|"
    r"une sous-race|des sous-races|"
    r"incompatibles? avec (?:nos|notre|la|les|le)|demonic|satanic|devils|the devil|horrible|terrible|jokes|a joke|"
    r"scary|abnormal|cancerous|hell|superior|the worst (?:people|race|nation|religion|kind)|a (?:mental illness|sickness|"
    r"sin|perversion)|sinful|perverted|gross|anti[- ]human|a (?:horrible|terrible|evil|violent|backward|disgusting|sick|"
    r"cancerous|dangerous|hateful|stupid|filthy) (?:religion|cult|ideology|race|culture|people|disease|nation))\b|"
    r"\b(?:aren't|arent|isn't|ain't|are not|is not|ne sont pas)\s+(?:even\s+|really\s+)?(?:human|humans|people|persons|"
    r"real (?:men|women|people)|normal|natural|des humains|humains|normaux)\b"
)
_EXCLUDE = _rx(
    r"\b(?:go back to (?:your|their|where)|go back where|go (?:back )?home|send (?:them|em|'em) (?:all )?(?:back|home)|deport (?:them|all|every|the|these|"
    r"those)|should(?:n't| not|n't be| never) (?:be )?allowed|don't belong|do not belong|doesn't belong|get (?:them|"
    r"those \w+|these \w+) out|ban (?:all|every|them|the|these|those)|kick (?:them|all|every|the|these|those) out|"
    r"kick \w+ out of|keep (?:them|\w+) out|should be (?:banned|deported|sterili[sz]ed|exterminated|shot|gassed|"
    r"removed|locked up|segregated|expelled|sent back|put down|eliminated|wiped out)|(?:must|need to|needs to|have to|"
    r"has to|should all) be (?:annihilated|exterminated|eradicated|wiped out|killed|deported|banned|gassed|removed|"
    r"eliminated|enslaved|dead)|deserves? (?:to be (?:abused|raped|beaten|killed|shot|hanged|deported|enslaved|"
    r"exterminated)|to die|death)|should (?:all )?(?:fucking )?(?:die|burn|hang|rot)\b|(?:place|place is) (?:is )?"
    r"(?:in )?the (?:home|kitchen)|(?:are|is) not equal to|should be slaves|belongs? in (?:the kitchen|cages|camps|"
    r"zoos|chains)|need(?:s)? (?:a |to be )?"
    r"(?:ban|banned|deported)|(?:is|are) (?:ruining|destroying|taking over|invading|replacing|stealing|infesting|"
    r"outbreeding)\b(?!\s+(?:(?:small|local|family|the|this|that|our|my|a|an)\s+)?(?:businesses|business|shops|stores|"
    r"restaurants|market|industry|field|league|tech|sidewalks?|streets?|park|parks|corner|lot|alley|area|bridge|block|"
    r"bench(?:es)?|bus stop|lawn|yard|porch|steps|entrance|doorway|underpass|median|trail|path|playground|library)\b)|"
    r"take over (?:our|this) (?:country|city|town|neighbourhood|culture)|no \w+ (?:allowed|wanted|welcome)|(?:aren't|are not|not) welcome|"
    r"don't deserve|shouldn't (?:vote|drive|work|"
    r"have kids|be hired|exist|have rights)|should not (?:vote|drive|work|have kids|be hired|exist|have rights)|"
    r"belongs? in the kitchen|stay in the kitchen|back (?:in|to) the kitchen|can't (?:drive|think|be trusted|lead)|"
    r"(?:breed|multiply|reproduce) like (?:rats|rabbits|cockroaches|roaches|ants|vermin|animals|flies)|"
    r"retourne(?:z)? (?:dans|chez)|renvoyez[- ]les|dehors les|"
    r"(?:n'?)?ont rien a faire (?:ici|chez nous|au canada|au quebec|en france|dans (?:notre|ce|le) pays|a windsor|au conseil|"
    r"en politique|dans (?:la|les|nos) (?:police|armee|ecoles?|quartiers?))|"
    r"qu'?(?:ils|elles) (?:aillent|retournent|rentrent) (?:\w+ ){0,2}(?:dans leurs? pays|chez eux|chez elles|au bled)|"
    r"qu'?ils (?:retournent|rentrent|s'en retournent|s'en aillent) (?:chez eux|dans leur pays|d'ou ils viennent)|"
    r"(?:retournez|rentrez) chez vous|(?:nous )?envahissent|grand remplacement|"
    r"(?:veulent|vont) (?:nous )?imposer (?:la charia|leur religion|leur culture|leurs valeurs|leurs moeurs)|"
    r"(?:volent|voler|vole|prennent|prendre|piquent|piquer) nos (?:logements|places|aides|allocations|femmes|jobs|emplois)|"
    r"(?:je|on) (?:deteste|hait|hais)|on ne veut pas d(?:e|')|on veut pas d(?:e|')|pas de \w+ ici|"
    r"(?:doivent|devraient) (?:partir|retourner|etre (?:expulses|bannis|renvoyes|deportes|interdit(?:e)?s|chasse(?:e)?s|"
    r"exclu(?:e)?s|enferme(?:e)?s|sterilise(?:e)?s))|faut (?:tous )?les (?:chasser|expulser|renvoyer|deporter|"
    r"virer|bannir|enfermer|sterilis\w+)|(?:tous )?les (?:renvoyer|expulser|deporter) (?:tous|toutes|chez eux)|"
    r"(?:ne )?(?:devraient|doivent) pas (?:conduire|voter|travailler|avoir|etre|exister|entrer|immigrer)|"
    r"(?:retourner|renvoyer) chez (?:eux|vous)|"
    r"(?:control|controls|run|runs|own|owns|rule|rules) (?:the |all the |our )?(?:banks|media|world|government|"
    r"hollywood|money|finance)|too (?:emotional|stupid|dumb|weak|lazy|primitive|violent|hysterical|irrational) to|"
    r"(?:naturally|inherently|genetically|biologically) (?:inferior|stupid|violent|criminal|lazy|less intelligent)|"
    r"less intelligent|prone to (?:crime|violence)|"
    r"steal(?:ing)? our (?:jobs|benefits|women)|a la cuisine|"
    r"(?:live|living|lives) off (?:the )?(?:taxpayers?|welfare|our taxes|the system|the government|everyone else)|"
    r"(?:vivent|vit|vivre) (?:sur le dos|aux crochets|aux depens) (?:des contribuables|de l'etat|du systeme|des autres|"
    r"de la societe|de tout le monde)|profitent du systeme|"
    r"faite?s? pour (?:la cuisine|le menage|faire (?:la cuisine|le menage|des enfants)))\b"
)
_SAID_OF = _rx(r"\b(?:all )?look (?:the )?(?:same|alike)\b")
"""A stereotype said of the group just before it, as ``_DEHUMANISE`` is ("Asians all look the same")."""
_AGAINST_BEFORE = _rx(
    r"\b(kill|exterminate|gas|hang|lynch|nuke|wipe out|get rid of|eradicate|eliminate|sterili[sz]e|deport|expel|"
    r"ban|fuck|hate|despise|tuer|exterminer|expulser|deporter|bannir|deteste|hais|haine des)\s+(?:(?:all|the|those|"
    r"these|every|of|tous|les|ces)\s+){0,3}$"
)
"""Violence or hostility aimed straight at a group: "kill all the ...", "deport every ...", "fuck ..."."""
_COPULA_TAIL = _rx(
    r"(?:\s+(?:are|is|r|were|was|sont|est|are all|are just|are nothing but|sont tous|sont toutes)|'re|'s(?=\s+(?:a|an|"
    r"all|just|so|such)\b))\s+(?:(?:all|just|so|such|a|an|the|nothing but|a bunch of|really|basically|literally|des|"
    r"tous des|toutes des|de|fucking)\s+){0,3}$"
)
"""What comes between a group and what it is called: "muslims are all", "women are just", "les X sont des"."""
_NEGATED_BEFORE = _rx(
    r"\b(?:not all|not every|not most|aren't all|are not all|pas tous|pas toutes|ne sont pas tous|ne sont pas toutes)"
    r"(?:\s+(?:the|of the|les|des|ces))?\s+$"
)
"""A generalisation denied before the group is named: "not all muslims are", "ce ne sont pas tous les ..."."""
_REPORTED_BEFORE = _rx(
    r"(?<!\bi )(?<!\bje )(?<!\bj')\b(?:say|says|saying|said|claim|claims|claiming|pretend|pretending|the (?:idea|myth|lie|"
    r"stereotype|notion|claim|cliche)|dire|dit|disent|pretendre|pretend|affirmer|l'idee|le mythe|le cliche|"
    r"le prejuge|le stereotype|la rumeur|called (?:me|him|her|them|us)|"
    r"traite(?:r)? de|traitee? de|traites de)(?: that| que| qu'| a| an)?"
    r"(?:\s+(?:the|all|les|tous les|toutes les|des|sale|sales|dirty|filthy|stupid))?\s+$"
)
"""A statement about a group put in someone else's mouth: "saying that muslims are ...", "dire que les ...",
"he called me a ...", "traité de sale ...". Not "I say", nor "I think": that is the speaker's own."""
_REFUTED = _rx(
    r"\b(?:racist|racism|racis(?:me|te|tes)|bigot\w*|prejudice\w*|prejuge\w*|stereotyp\w*|cliche\w*|myths?|"
    r"mythes?|false|faux|fausse|not true|pas vrai|wrong|nonsense|n'importe quoi|ignoran\w+|"
    r"stop (?:saying|claiming|spreading|repeating|calling)|arret\w* de (?:dire|repeter|pretendre|traiter|generaliser)|"
    r"otherwise|generali[sz]\w+|amalgames?|shame on|honte a|antisemit\w*|conspiracy|complot\w*|sexis[mt]\w*|"
    r"homophob\w*|transphob\w*|islamophob\w*|xenophob\w*|hate speech|unacceptable|inacceptable|not ok|"
    r"pas correct)\b"
)
"""Words that refute what was reported: with ``_REPORTED_BEFORE`` the comment is counter-speech."""


_FR_TOPIC = _rx(
    r"\b(?:(islam\w*|musulman\w*|mahometan\w*|charia|mosquees?|minarets?|voilees?|hijabs?|burqas?|niqabs?|halal|"
    r"ramadan|imams?|juifs?|juives?|feujs?)|(immigr\w*|migrants?|refugie\w*|etrangers?|maghrebin\w*|africain\w*|bled|"
    r"sans-papiers|clandestins?)|(arabes?|les noirs|roms|gitans?))\b"
)
"""A French comment's group, or the religion, practice or migration that stands for it: French hostility
often names "ils" and the mosque, the veil or the "bled" rather than the group (groups 1-3: religion,
national origin, race)."""
_FR_TROPE = _rx(
    r"\b(?:invasion|envahi\w*|grand remplacement|nous remplacer|remigration|islamis(?:ation|er|ent)|"
    r"minoritaires chez nous|conquete|cancer|peste|gangrene|vermine|fleau|cafards|sauvages|barbares|racailles?|"
    r"egorge\w*|se reproduisent comme|pondre|pondent|allocs|(?:vivent|profitent) (?:des|de nos) (?:aides|allocations|"
    r"impots|taxes)|(?:retourne[rz]?|retournent|rentre[rz]?|rentrent|renvoy\w*) (?:au|dans leurs?|chez eux)|au bled|"
    r"qu'?ils (?:partent|degagent|s'en aillent)|ou (?:bien )?ils (?:partent|degagent|s'en vont)|degagez|"
    r"qu'?(?:ils|elles) (?:aillent|retournent|rentrent) (?:\w+ ){0,2}(?:dans leurs? pays|chez eux|chez elles)|"
    r"fermer (?:la porte|les portes|les frontieres|nos frontieres)|"
    r"(?:tous|toutes) des (?:terroristes|islamistes|violeurs|voleurs|criminels|delinquants|assistes|parasites)|"
    r"terroristes? en puissance|bombes? a retardement|incompatibles? avec|s'?integrent (?:pas|jamais)|"
    r"refusent de s'?integrer|inassimilables?|controlent (?:tout|(?:tous )?les (?:banques|medias|gouvernements)|la finance|le monde)|"
    r"on est chez nous|religion (?:de (?:conquete|guerre|haine|violence|mort)|barbare|violente|arrieree))\b"
)
"""Hostile tropes of French anti-Muslim and anti-immigrant speech: invasion and replacement, disease and
vermin, breeding and welfare, "go back to the bled", every one of them a terrorist, unassimilable,
controlling everything."""
_FR_DENIED = _rx(r"(?:\bne\b|\bn'|\bpas\b|\bjamais\b|\baucun\w*|\bsans\b|\bnon\b|\bni\b)[^.!?,;:]{0,20}$")
"""A trope denied just before it, in the same clause ("il n'y a pas d'invasion", "ce n'est pas un cancer")."""
_FR_MENTIONED = _rx(
    r"(?:[«\"“]\s*(?:l[ae]s? |l'|une? |des )?|\b(?:dites?|disent|dire|parler|parle[rz]?|traite\w*|qualifie\w*|"
    r"appele\w*|impression|idee|mythe|theorie|fantasme|peur)\b[^.!?]{0,30})$"
)
"""A trope in quotation marks or after "you say", "to speak of", "to call them": mentioned, not used."""
_FR_NOT_RACIST = _rx(r"\b(?:je (?:ne )?suis pas|j'?suis pas|chu pas) racistes?,? mais\b")
""""Je suis pas raciste mais ...": the disclaimer that opens a generalisation, not counter-speech."""


_FR_NOT_ALL = _rx(r"\bpas (?:tous|toutes)\b|\bla plupart (?:des|sont)\b")
"""Counter-speech's "not all of them" and "most of them (were born here)". "La plupart des ..." can open a
generalisation too, but in French comments it mostly answers one: without it, the project's French set and French
CONAN gained two false alarms and no hit."""


def _french_theme(text: str) -> list[tuple[tuple[int, int], tuple[int, int], str]]:
    """``(group span, trope span, ground)`` for each French trope within 80 characters of a group, its
    religion or its migration, in normalised text; none in counter-speech (a refutation, "pas tous"),
    which repeats the tropes to deny them."""
    if _REFUTED.search(_FR_NOT_RACIST.sub(" ", text)) or _FR_NOT_ALL.search(text):
        return []
    topics = [(m.start(), m.end(), m.lastindex or 1) for m in _FR_TOPIC.finditer(text)]
    if not topics:
        return []
    found = []
    for m in _FR_TROPE.finditer(text):
        before = text[max(0, m.start() - 40) : m.start()]
        if _FR_DENIED.search(before[-25:]) or _FR_MENTIONED.search(before):
            continue
        near = [t for t in topics if abs(t[0] - m.start()) < 80 and not (t[0] >= m.start() and t[1] <= m.end())]
        if near:
            gs, ge, which = min(near, key=lambda t: abs(t[0] - m.start()))
            found.append(((gs, ge), m.span(), ("religion", "national_origin", "race")[which - 1]))
    return found


def _countered(text: str, start: int) -> bool:
    """Whether the group named at ``text[start]`` is the subject of counter-speech, which repeats a
    stereotype to deny or refute it ("not all immigrants are criminals", "saying that muslims are
    terrorists is racist", "arrêtez de dire que les ..."): the words against the group are not the
    comment's. The model still judges the comment as a whole."""
    before = text[max(0, start - 40) : start]
    before = before[max(before.rfind("."), before.rfind("!"), before.rfind("?")) + 1 :]
    return bool(_NEGATED_BEFORE.search(before) or (_REPORTED_BEFORE.search(before) and _REFUTED.search(text)))


_GAP_WORDS = frozenset(
    "people kids men women folks guys children persons individuals here there today nowadays in this country canada "
    "gens la ci marriage marriages lifestyle lifestyles agenda culture cultures religion".split()
)
"""Words that may stand between a group word and its verb ("disabled kids are", "black people are"), and what
stands for the group in a statement about it ("gay marriage is an abomination", "muslim culture is a cancer")."""


def _subject_gap(gap: str) -> bool:
    """Whether what stands between a group word and its verb keeps the group the subject ("muslims
    are", "immigrants in this country are"), not another clause ("so many elderly and pedestrians
    and it is dangerous")."""
    words = tokens(gap)
    return len(words) <= 3 and all(w in _GAP_WORDS for w in words)


_DISLOCATED = re.compile(r"^[^.!?;:]{0,40}$")
"""French puts the group first and takes it up again with "c'est" ("les migrants africains, c'est des
animaux", "les femmes au volant, c'est une catastrophe"): a few words and a comma, no new sentence."""


def _dislocated(gap: str, said: str) -> bool:
    """Whether a group and what ``said`` calls it form one French dislocation (``_DISLOCATED``)."""
    return said.startswith("c'est") and len(tokens(gap)) <= 4 and bool(_DISLOCATED.match(gap))


_GROUP_ADJECTIVES = {
    **dict.fromkeys("black white brown asian arab african mexican indian chinese korean japanese".split(), "race"),
    **dict.fromkeys("muslim jewish jew christian catholic hindu sikh islamic".split(), "religion"),
    **dict.fromkeys("gay lesbian homo queer trans".split(), "sexual_orientation"),
    **dict.fromkeys("female".split(), "gender"),
    **dict.fromkeys("disabled autistic retarded".split(), "disability"),
    **dict.fromkeys("immigrant foreign".split(), "national_origin"),
}
"""Words that name a group only right before a name to call someone ("black animals", "muslim pig",
"female idiot"): alone they are everyday adjectives ("black ice", "foreign exchange")."""
_LAST_WORD = re.compile(r"(?<![\w-])([\w-]+) +$")
_GO_BACK = _rx(
    r"\b(?:go|get|send (?:them|em|'em)|ship (?:them|em|'em))\s+back\s+to\s+(?:your|their|ur)\s+(?:own\s+)?(?:country|"
    r"countries|homeland|home country|shithole)|\b(?:retourne|retournez|retournent|renvoyez-les|retourner)\s+dans\s+"
    r"(?:ton|votre|leur)\s+pays"
)
"""Telling someone to go back to their country: exclusion on national origin with or without a group named."""
_GENDERED = frozenset("bitch bitches hoe hoes pussy pussies slut sluts whore whores skank skanks".split())
"""Gendered insults: beside a race or a nationality ("white bitch") they are abuse of a woman more than a
statement about the group, so they are not evidence of 5.7.3 there."""
_ADJECTIVE_BEFORE_GROUP = frozenset(
    "dirty filthy stupid dumb smelly lazy disgusting nasty sneaky greedy worthless useless subhuman "
    "sale sales maudit maudits maudite osti esti".split()
)
"""Insulting adjectives that turn a group name into an insult ("dirty jews", "stupid women")."""


_IDENTITY = _rx(
    r"\b"
    + alternation([t for t, _ in read_labeled("discrimination_groups.txt")] + list(read_list("identity_terms.txt")))
    + r"s?\b"
)
"""Any word about a protected ground: the model may flag a comment on its own only when one is there."""


_COLOUR_OR_AGE = frozenset("white black brown old".split())
"""Identity words that are everyday adjectives ("black asphalt", "old dixie hwy"): they name a group
only before a word for people or a word of abuse ("black people", "old folks", "black fuck")."""
_FUNCTION_WORDS = frozenset("is are was were and or but to of in on at as if so be".split())
"""After a colour, a word like these leaves it a predicate of someone ("he is white and ..."), not an
adjective of a thing."""
_RACE_CONTEXT = frozenset(
    "race races racist racists racism country countries nation nations genocide supremacy supremacist "
    "supremacists power privilege lives culture community communities neighbourhood neighborhood".split()
)
_PLACE_AFTER = re.compile(
    r"^(?:[ \t]+[A-Z][\w'’-]*){0,2}[ \t]+(?i:creek|church|street|st|road|rd|avenue|ave|drive|dr|boulevard|blvd|way|"
    r"lane|ln|court|ct|place|pl|park|river|lake|hill|trail|school|hospital|center|centre|village|heights|ridge)\b"
)
_NOT_A_GROUP = frozenset(
    "church churches temple temples mosque mosques synagogue synagogues wheelchair wheelchairs crutches".split()
)
"""Identity words that name a place or a thing, not people: they count only beside a word of abuse
("that fat slob in the wheelchair"), not in a report ("homeless camp behind the church", "sidewalk
impassable for wheelchairs")."""


def _names_identity(original: str, norm: NormalizedText) -> bool:
    """Whether a comment names a protected group at all, the condition for the model to flag it alone:
    an identity word that is not part of a place's name ("South Indian Creek Drive") nor a place or a
    thing ("church", "wheelchairs") with no abuse beside it and, for a colour or an age, stands before a word for people, of
    race or of abuse ("black people", "white racist", not "black asphalt and you")."""
    abuse = _abuse_words()
    for m in _IDENTITY.finditer(norm.text):
        s, e = norm.to_original(m.start(), m.end())
        word = original[s:e]
        found = m.group().strip()
        if word[:1].isupper() and word[1:].islower() and _PLACE_AFTER.match(original[e : e + 40]):
            continue
        if found in _NOT_A_GROUP and not any(w in abuse for w in tokens(norm.text)):
            continue
        if found in _COLOUR_OR_AGE:
            following = tokens(norm.text[m.end() : m.end() + 40])[:3]
            if following and following[0] not in _FUNCTION_WORDS:
                chain = following[: next((i for i, w in enumerate(following) if w in _FUNCTION_WORDS), 3)]
                if not any(is_person_phrase([w]) or w in abuse or w in _RACE_CONTEXT for w in chain):
                    continue
        return True
    return False


@lru_cache(maxsize=1)
def _abuse_words() -> frozenset[str]:
    words = set(insult_terms().terms)
    words |= {t for t, label in read_terms("profanity.txt").terms.items() if label != "mild"}
    return frozenset(fold_accents(w.lower()) for w in words)


_TITLE_BEFORE = re.compile(r"(?:\b(?:senator|sen|mr|mrs|ms|dr|rep|mayor|councillor|minister)\.?|@)\s*$", re.IGNORECASE)
_CAPITAL_AFTER = re.compile(r"^\s+[A-Z][a-z]")


def _is_name(text: str, start: int, end: int) -> bool:
    """A slur spelled like a surname or a nickname ("Senator Coons", "Kike Cruz"): a capitalised word
    after a title or before another capitalised word."""
    word = text[start:end]
    if not (word[:1].isupper() and word[1:].islower()):
        return False
    return bool(_TITLE_BEFORE.search(text[max(0, start - 12) : start]) or _CAPITAL_AFTER.match(text[end : end + 3]))


def _norm_index(norm: NormalizedText, original: int) -> int:
    return bisect_left(norm.offsets, original)


@register
class DiscriminationDetector(LearnedDetector):
    name = "discrimination"
    version = "10"
    clause = "5.7.3"
    category = "discrimination"
    rule_scores: ClassVar[dict[str, float]] = {"pattern": 0.8, **{f"slur_{g}": 0.75 for g in GROUNDS}}

    def __init__(self, settings: SettingsIn = None, **rule: str) -> None:
        self.grounds = dict(read_labeled("slur_grounds.txt"))
        self.vocabulary = read_terms("profanity.txt")
        self.context_only = frozenset(read_list("slur_context_only.txt"))
        super().__init__(settings, **rule)
        self.insults = insult_terms()
        self.insult_lexicon = Lexicon(dict(self.insults.terms))

    def terms(self) -> dict[str, str]:
        """One lexicon for one scan: group terms (label: the ground), slurs (``slur_<ground>``) and
        the adjectives that name a group only before an insult (``adjective_<ground>``)."""
        groups = dict(read_labeled("discrimination_groups.txt"))
        # a casual slur still names a group when a statement against the group stands beside it
        groups.update({t: self.grounds.get(t, "unspecified") for t in self.context_only})
        groups.update({t: "adjective_" + ground for t, ground in _GROUP_ADJECTIVES.items() if t not in groups})
        for term, label in self.vocabulary.terms.items():
            if label == "slur" and term not in self.context_only:
                groups.setdefault(term, "slur_" + self.grounds.get(term, "unspecified"))
        return groups

    def rules(self, comment: Comment, norm: NormalizedText) -> list[Evidence]:
        text = norm.text
        found = self.lexicon.find(norm)
        spans = [
            Evidence(s, e, label)
            for s, e, label, term in found
            if label.startswith("slur_")
            and self.vocabulary.counts(term, comment.language)
            and not _is_name(comment.text, s, e)
        ]
        if "back" in text or "pays" in text:
            for m in _GO_BACK.finditer(text):
                s, e = norm.to_original(m.start(), m.end())
                spans += [Evidence(s, e, "national_origin"), Evidence(s, e, "pattern")]
        if comment.language == "fr":
            for group, trope, ground in _french_theme(text):
                spans += [Evidence(*norm.to_original(*group), ground), Evidence(*norm.to_original(*trope), "pattern")]
        found = [hit for hit in found if not hit[2].startswith("slur_")]
        if not found:
            return spans
        insults = [
            (_norm_index(norm, s), _norm_index(norm, e), label)
            for s, e, label, term in self.insult_lexicon.find(norm)
            if self.insults.counts(term, comment.language) and term not in _GENDERED
        ]
        groups = [hit for hit in found if not hit[2].startswith("adjective_")]
        for gs, ge, label, _term in found:
            if label.startswith("adjective_"):  # "black animals", "muslim pig"
                nge = _norm_index(norm, ge)
                for ns, ne, kind in insults:
                    if kind not in ("adj", "thing") and 0 < ns - nge <= 2:
                        s, e = norm.to_original(ns, ne)
                        spans += [Evidence(gs, ge, label.removeprefix("adjective_")), Evidence(s, e, "pattern")]
        if not groups:
            return spans
        said = [m.span() for rx in (_DEHUMANISE, _SAID_OF) for m in rx.finditer(text)]
        exclusions = [m.span() for m in _EXCLUDE.finditer(text)]
        for gs, ge, ground, term in groups:
            ngs, nge = _norm_index(norm, gs), _norm_index(norm, ge)
            if _countered(text, ngs) or colour_of_a_thing(tokens(text[max(0, ngs - 30) : nge])):
                continue
            casual = term in self.context_only
            reach = 25 if casual else 60
            # "<group> are animals": the group is the subject, just before the verb
            near = [
                p
                for p in said
                if 0 <= p[0] - nge <= 40
                and (
                    (p[0] - nge <= 30 and _subject_gap(text[nge : p[0]]))
                    or (comment.language == "fr" and _dislocated(text[nge : p[0]], text[p[0] : p[1]]))
                )
            ]
            near += [p for p in exclusions if abs(p[0] - nge) < reach or abs(ngs - p[1]) < reach]
            if not casual:  # a casual slur beside an insult is how it is used casually ("bitch ass ...")
                near += self._against(text, ngs, nge, ground, insults)
            if near:
                spans.append(Evidence(gs, ge, ground))
                for ps, pe in near[:2]:
                    s, e = norm.to_original(ps, pe)
                    spans.append(Evidence(s, e, "pattern"))
        return spans

    @staticmethod
    def _against(
        text: str, gs: int, ge: int, ground: str, insults: list[tuple[int, int, str]]
    ) -> list[tuple[int, int]]:
        """Spans (normalised text) that turn the group at ``text[gs:ge]`` into a target: an insult said
        of it ("muslims are idiots", "les immigrés sont des parasites") or fused with it ("jewish
        bitch", "idiot muslims", "dirty jews"), or violence or hostility aimed at it ("kill all the
        ...", "deport every ...", "I hate ...")."""
        found: list[tuple[int, int]] = []
        for ns, ne, label in insults:
            window = text[max(0, ns - 50) : ns]
            tail = _COPULA_TAIL.search(window)
            if tail and ge <= ns - len(window) + tail.start():
                gap = tokens(text[ge : ns - len(window) + tail.start()])
                if len(gap) <= 2 and all(w in _GAP_WORDS for w in gap):
                    found.append((ns, ne))
                    continue
            if label not in ("adj", "thing") and (0 <= ns - ge <= 2 or 0 <= gs - ne <= 2):
                found.append((ns, ne))
        window = text[max(0, gs - 40) : gs]
        adjective = _LAST_WORD.search(window)
        if adjective and adjective.group(1) in _ADJECTIVE_BEFORE_GROUP:
            found.append((gs - len(window) + adjective.start(1), gs))
        m = _AGAINST_BEFORE.search(window)
        if m and not (ground == "gender" and m.group(1) == "fuck"):  # "fuck girls" is about sex, not hate
            found.append((gs - len(window) + m.start(), gs))
        return found

    def adjust(self, comment: Comment, norm: NormalizedText, score: float, spans: list[Evidence]) -> float:
        if not spans and score > 0.45 and not _names_identity(comment.text, norm):
            return 0.45  # discrimination is about a group: the model alone needs one named
        if not spans and score > 0.45 and self._counter_speech(norm):
            return 0.45  # "not all muslims are terrorists": the model reads the stereotype, not the "not all"
        return score

    def _counter_speech(self, norm: NormalizedText) -> bool:
        """Whether every group the comment names is the subject of counter-speech (``_countered``)."""
        groups = [h for h in self.lexicon.find(norm) if not h[2].startswith(("slur_", "adjective_"))]
        return bool(groups) and all(_countered(norm.text, _norm_index(norm, s)) for s, _e, _l, _t in groups)

    def detail(self, spans: list[Evidence]) -> str:
        grounds = sorted(
            {s.label.removeprefix("slur_") for s in spans if s.label not in ("pattern", "model")} - {"unspecified"}
        )
        return "ground: " + (", ".join(grounds) if grounds else "unspecified")
