"""5.7.8 Information that may compromise the safety or security of the public or public systems.

Two kinds. Violence: threats ("I'll shoot you", "if I see you again you're dead", "je vais te
tuer"), wishes of death or harm ("hope you die", "he deserves a bullet", "qu'ils crèvent"), calls to
kill or hurt people or groups ("kill them all", "they should be hanged", "gas them", "someone should
put a bullet in his head", "il faut les fusiller") and incitement to suicide ("kys", "go drink
bleach", "tue-toi"). And information that opens public systems to harm (door codes, passwords, "the
back door of the water plant is never locked", "hole in the fence at the pump station").

A violent verb is a threat only with a person or a group as its object or subject ("kill the cops",
not "kill the bill"; "they should be shot", not "the plan should be executed"), only when someone
means it (first person, an order, a wish or a "should"; not "police shot a man", not a threat quoted
to report it: "a man on the bus told me 'I'll kill you'"), and never in the
idioms residents use every day ("this traffic is killing me", "shoot me an email", "cette chaleur me
tue", "someone will get killed at this intersection"). A keyword scan lets most comments skip every
pattern.
"""

from __future__ import annotations

import re
from typing import ClassVar

import ahocorasick

from pipelines.base import Comment, register
from pipelines.detectors._learned import LearnedDetector
from pipelines.detectors._targets import (
    PRONOUN_SUBJECT,
    compile_pattern,
    group_words,
    name_before,
    people_words,
    target_pattern,
)
from pipelines.normalize import NormalizedText
from pipelines.types import Evidence

_rx = compile_pattern

_VIOLENT_KEYS = "|".join(
    (
        # English: the violent word each pattern turns on
        "kill|murd|shoot|shot|stab|shank|behead|decapit|slaughter|butcher|massacr|extermin|eradicat|annihil|execut",
        "lynch|assassin|strangl|rape|raping|tortur|maim|stomp|murk|alive|castrat|dismember|hurt|chok|ck up|punch|smack|slap",
        "whack|beat|kick|knock|whip|smash|bash|slash|slice|hang|hung|burn|torch|gas|bomb|nuke|drown|poison|smother",
        "electrocut|suffocat|bullet|rounds|slug|knife|knives|blade|shiv|gun|baseball|crowbar|machete|axe|shotgun",
        "rifle|pistol|bury|wreck|dead|die|dying|death|regret|be sorry|cancer|get aids|gets aids|you aids|never born",
        "aborted|starv|croak|overdos|rot|beaten|stoned|strung|sterili|wiped|culled|euthan|lined up|genocid|holocaust",
        "purge|pogrom|slit|bleach|kys|deserv|a favor and|a favour and|teeth|on sight|ethnic cleansing|final solution",
        "race war|day of the rope|gas chamber|concentration camp|death camp|extermination camp|ovens|face of the",
        "walk again|walk out|make it out|make it home|of here|where you|where u|where he|where she|where they",
        "where your|coming for|coming after|come for|come after|make you|make him|make her|make them|miss you|miss u",
        "miss ya|better off|better without|watch your back|one eye open|see it coming|numbered|put down|put you",
        "put him|put her|put them|put em|in the ground|six feet|body bag|set fire|on fire|fire to|aim for|aim at",
        "mow down|mow them|string up|string them|string him|string her|hunt you|hunt him|hunt her|hunt them|hunt down",
        "track you|track him|track her|track them|track down|find you|find him|find her|find them|round up",
        "jump off|jump from|jump in front|jump these|jump those|jump the|blow up|blow your|blow his|blow her",
        "blow their|blow away|rip your|rip his|rip her|rip their|tear your|tear his|tear her|tear their",
        "cut you|cut u|cut him|cut her|cut them|cut em|cut your|cut his|cut their|end you|end him|end her|end them",
        "run you|run him|run her|run them|run over|hit by|mess you|mess him|mess her|mess them|pound you|pound him",
        "pound her|pound them|rough you|rough him|rough her|rough them|bust you|bust your|bust his|bust her",
        "bust their|bust them|cave your|cave his|cave her|cave their|snap your|snap his|snap her|snap their",
        "crack your|crack his|crack her|crack their|break your|break his|break her|break their|break that|wipe",
        "keep talking|keep it up|say that again|one more word|try me|test me|mess with me|you inside|him inside|her inside|them inside|kids inside|family inside|line them|line em",
        "a bat|my bat|attack these|attack those|attack all|attack every|go after",
        # French
        "tue-|tue |tue.|tue!|tue,|tue?|tuer|tuez|tuons|tues|tuee|buter|crev|te descendre|les descendre|le descendre|vous descendre",
        "abatt|te planter|les planter|vous planter|egorg|etrangl|massacr|defonc|fracass|tabass|frapp|battre|pendre",
        "pendu|pendez|pendons|pends|brul|violer|violee|achever|noyer|empoison|fusill|poignard|eclater|casser|fendre",
        "arranger le|peau|arrach|crisser|sacrer|gazer|gazez|gazons|gazes|mort aux|a mort|es mort|etes mort|morts",
        "mourir|mourra|meurt|meurent|meure|meurs|regretter|merit|balle|bombe|mettre le feu|foutre le feu|faire sauter",
        "suicid|jette-toi|jette toi|jeter|javel|pourriss|fasse|peter la|faire mal|sais ou|sait ou|jours sont|arrieres",
        "finir|finis|fin a|fin de|mortuaire|cimetiere|morgue|tirer|ennuy|mieux sans|regrett|fusil|carabine|arme|pistolet",
        "incendi|watch yourself|attention a toi|attention a vous|surveille|regarde derriere|regarder derriere|regler",
        "toi dedans|vous dedans|lui dedans|elle dedans|eux dedans|famille dedans|enfants dedans",
        # English, second part: "you'll end up in body bags", "you should just end it", "grab your guns"
        "end up|wind up|end it|ended it|end your|coffin|morgue|guns|rifles|weapons|pitchforks|handgun|firearm|weapon|ar-15|ar15|ak-47|ak47",
        # wishes of illness, glorified attackers, calls to arms, veiled threats
        "heart attack|stroke|aneurysm|wake up|faveur|tireur|gunman|civil war|guerre civile|shame if|arrive de quoi",
        "arrive quelque chose|pende|legitimate target",
    )
)
"""Where every violence pattern turns: a comment with none of these (at the start of a word) skips them all."""
_INFIX = ("urself", "oself", "urselves", "urselfs")
"""Keys that may sit inside a word ("yourself")."""
_SECURITY_KEYS = (
    "code|codes|password|passcode|login|username|credential|scada|locked|unlocked|propped|fence|camera|alarm|wifi|"
    "wi-fi|sneak|break into|get into|acces|porte|barree|verrouill|debarr|mot de passe|left open|always open"
)
_KEYS = ahocorasick.Automaton()
for _keys, _kind in ((_VIOLENT_KEYS, "violence"), (_SECURITY_KEYS, "security")):
    for _key in _keys.split("|"):
        _KEYS.add_word(_key, (len(_key), _kind, False))
for _key in _INFIX:
    _KEYS.add_word(_key, (len(_key), "violence", True))
_KEYS.make_automaton()
_WINDOW = (100, 60)
"""How far before and after a keyword a pattern may reach (the longest: "if I ever see you ... I'll kill")."""

_TARGET = target_pattern()
_PEOPLE = people_words()
_NOT_IDIOM = (
    r"(?!\s+(?:out|off|over|a|an|some|back|loose|short|slack|free|with (?:kindness|love|emails?|messages|"
    r"questions|facts|logic|fines?|lawsuits?|tickets?)|in the back|on the back|in the foot|to it|to the punch|"
    r"to the curb|at their own|where it (?:counts|hurts)|at the (?:polls|ballot box)|in (?:a|the) (?:game|match|race|"
    r"polls?|election)|next (?:week|time|year|game))\b)"
)
"""What may not follow "kill them", "shoot you", "hang them" for the words to be violent: "shoot you an
email", "cut them some slack", "stab you in the back", "kill them at the polls"."""
_NOT_IDIOM_UP = r"(?!\s+up\b)"
"""And for verbs that take things: "gas them up", "hang them up", "cut you up"."""
_INTENT = (
    r"(?:\b(?:i|we)\s+(?:will|would|shall|should|could|am|are|want to|wanna|wish i could|gotta|have to|need to|"
    r"got to|swear i'll|promise i'll|am gonna|are gonna|am going to|are going to|am about to|would love to|"
    r"would like to)|\b(?:i'll|ill|i'd|id|i'm|im|imma|ima|i'ma|we'll|we'd|we're|lemme|let me|let us|let's|lets)"
    r"(?:\s+(?:gonna|going to|about to|have to|gotta|need to|love to|like to))?)"
)
"""Someone saying they will do it: "I'll", "we're gonna", "let's", "I want to"."""
_FILLER = (
    r"(?:\s+(?:just|really|fucking|fuckin|fking|personally|gladly|happily|literally|definitely|totally|seriously|"
    r"actually|probably|gonna|go|come|and|then|find|hunt|track|down|out|over|there|back|finally|slowly|"
    r"straight up|up|all)){0,4}"
)
_SHOULD = (
    r"(?:should|shoulda|ought to|oughta|must|gotta|got to|had better|better|"
    r"someone (?:should|needs to|has to|gotta|please)|somebody (?:should|needs to|has to|gotta|please))"
)
_ORDER_START = (
    r"(?:^|[.!?;:\n]|\b(?:just|please|pls|plz|now|so|go|time to|it's time to|its time to|i say we|we must|"
    r"we should|we need to|let's|lets))\s*"
)
"""Where an order starts: the start of a sentence, or "just", "let's", "time to"."""
_PERSON_VERB = (
    r"(?:kill|murder|assassinate|shoot|stab|shank|behead|decapitate|slaughter|butcher|massacre|exterminate|execute|lynch|"
    r"strangle|rape|torture|maim|gun down|mow down|curb ?stomp|stomp on|murk|skin alive|castrate|dismember|"
    r"hurt|choke|f(?:u|\*)ck up|eradicate|annihilate)"
)
"""Verbs that are violent whenever their object is a person word or a pronoun."""
_HIT_VERB = r"(?:punch|smack|slap|whack|sock|deck|strangle|choke|beat up)"
"""Blows: a threat when someone says they will ("I'll punch you"), not as an order ("beat them" is sport)."""
_ANY_VERB = (
    r"(?:hang|burn|burn alive|burn down|torch|gas|bomb|nuke|drown|poison|blow up|run over|cut|end|set fire to|"
    r"set on fire|string up|smother|electrocute|suffocate)"
)
"""Verbs that take things too ("burn the leaves", "cut the budget"): a pronoun object counts only when
it cannot be a thing ("you", "him", "them all")."""
_PERSON_PRONOUN = r"(?:you|u|ya|y'all|yall|you all|you people|him|her|them all|em all|'em all|all of (?:you|them))\b"
_PEOPLE_OBJECT = rf"(?:the|those|these|all|all the|every)\s+(?:[\w-]+\s+)?{_PEOPLE}\b"
_BODY = r"(?:your|his|her|their|ur|yo|that \w+'s|the \w+'s)"
_GROUP_VERB = r"(?:beat|bash|attack|jump|whip|sterili[sz]e|bury|run over|beat up|go after|hunt down)"
"""Verbs that are violent against a group or a slur target ("let's go beat these ..."), not against a
rival or a pronoun ("we'll beat them", "we'll beat the Liberals")."""
_GROUPS = group_words()
_CONSEQUENCE = (
    r"(?:kill|murder|shoot|stab|punch|smack|slap|hurt|strangle|choke|beat (?:you|him|her|them|the)|"
    r"bury (?:you|him|her|them)|wreck (?:you|your)|break (?:your|his|her|their)|fuck (?:you|him|her|them) up|"
    r"run (?:you|him|her|them) over|cut (?:you|him|her|them)\b(?!\s+(?:off|some|a))|dead|die|regret|sorry)\b"
)

_THREAT = [
    # I'll kill you; let's shoot them all; I'm gonna burn your house down; I'd punch him
    rf"{_INTENT}{_FILLER}\s+{_PERSON_VERB}\s+{_TARGET}{_NOT_IDIOM}",
    rf"{_INTENT}{_FILLER}\s+{_HIT_VERB}\s+(?:you|u|ya|him|her|them|em|that \w+|this \w+){_NOT_IDIOM}\b",
    rf"{_INTENT}{_FILLER}\s+{_ANY_VERB}\s+(?:{_PERSON_PRONOUN}|{_PEOPLE_OBJECT}){_NOT_IDIOM}{_NOT_IDIOM_UP}",
    rf"(?:{_INTENT}|{_ORDER_START}|\bi dare you to){_FILLER}\s*{_GROUP_VERB}\s+(?:all\s+|the\s+|these\s+|those\s+|"
    rf"every\s+|some\s+)?(?:[\w-]+\s+)?{_GROUPS}",
    rf"{_INTENT}{_FILLER}\s+bury\s+(?:you|u|him|her|them|em)\b{_NOT_IDIOM}",
    rf"(?:{_INTENT}|{_ORDER_START}|\b{_SHOULD}){_FILLER}\s*(?:burn|torch|bomb|blow up|shoot up|set fire to)\s+(?:down\s+)?"
    r"(?:city hall|(?:the|their|his|her|your) (?:mosque|"
    r"church|synagogue|temple|school|police station|station|building|office|library|council chambers?|house|home|"
    r"car|place|store|shop|parliament|legislature|courthouse|embassy|airport|mall|stadium|arena|plant|refinery))",
    r"\b(?:keep talking|keep it up|say that again|one more word|try me|test me|mess with me)\b.{0,40}?\b(?:you'll|"
    r"you will|and you|you're gonna|ur gonna)\s+(?:end up|be|get|wake up)\s+(?:dead|in a ditch|in a body bag|"
    r"six feet under|in a coffin|in the river|in the hospital|hurt|shot|stabbed)",
    r"\b(?:there(?:'s| is) a bomb|i(?:'ve| have) (?:a|got a) (?:gun|bomb)\b(?! licen)|bring (?:a|your|my) guns?\b|"
    r"bring guns\b|planted a bomb|(?:shoot|blow) up (?:the|this|that|a|your) (?:school|mall|church|mosque|synagogue|"
    r"office|building|library|meeting|bar|club|concert|parade|event|arena|pool|council meeting)\b)",
    # beat the shit out of you; kick your ass; punch him in the face; break your legs
    rf"(?:{_INTENT}|\b{_SHOULD}){_FILLER}\s+"
    r"(?:(?:beat|kick|knock|slap|smack|punch|choke|whip)\s+the\s+(?:shit|crap|hell|fuck|living daylights|snot|piss|"
    rf"stuffing|life)\s+(?:out of|outta)\s+{_TARGET}|(?:beat|kick|whip|bust|smack|slap|punch|smash|bash|stomp)\s+{_BODY}\s+"
    r"(?:[\w-]+\s+)?(?:ass|asses|face|faces|head|heads|teeth|skull|mouth|jaw|nose|brains)\b|"
    r"(?:beat|smack|slap|punch|knock|rough|fuck|mess|bust)\s+(?:you|u|him|her|them|em|ya)\s+up\b|"
    r"(?:beat|smack|slap|punch|hit|kick|bash|pound|whip|knock|deck|sock|choke|stab|strangle)\s+(?:you|u|him|her|them|em|ya)"
    r"\s+(?:senseless|silly|unconscious|out cold|to death|to a pulp|half to death|black and blue|bloody|so hard|"
    r"in the (?:face|head|mouth|throat|teeth|nose|stomach|gut|balls|jaw|neck|eyes?))|"
    rf"(?:break|snap|crack|smash|bash|cave|slash|slice|knock|stab|cut)\s+{_BODY}\s+(?:[\w-]+\s+)?(?:necks?|legs?|arms?|"
    r"face|jaw|nose|skull|bones|teeth|fingers|spine|kneecaps?|head|throat)(?:\s+(?:in|out|off))?|"
    r"put\s+(?:you|u|him|her|them|em)\s+(?:in the hospital|in a wheelchair)|.{0,40}\bwith (?:a|my) (?:bat|baseball bat|gun|knife|crowbar|machete|axe|shotgun|"
    r"rifle|pistol|tire iron))",
    # if I see you again I'll ...; next time you come here you're dead
    r"\b(?:if\s+(?:i|we)\s+(?:ever\s+)?(?:see|catch|find|meet|run into|spot|get my hands on|get (?:a )?hold of|lay eyes on|"
    r"come across)|next time (?:i see|you|he|she|they))\s+.{0,60}?\b(?:i'll|ill|i will|i'm gonna|im gonna|i'm going to|"
    r"i am going to|i'd|i would|we'll|we will|we're gonna|imma|ima|i swear|you're|you are|you'll|you will)\s+"
    rf"(?:[\w\x27\u2019]+\s+){{0,3}}?{_CONSEQUENCE}",
    r"\bwith\s+(?:you|u|him|her|them|your (?:family|kids|wife|children))\s+(?:still\s+)?inside\b",
    r"\bavec\s+(?:toi|vous|lui|elle|eux|ta famille|tes enfants)\s+(?:encore\s+)?dedans\b",
    # you're dead; I know where you live; I'm coming for you
    r"\b(?:you|u|ya)(?:'re| are| r|re)\s+(?:so\s+|fucking\s+)?(?:dead(?:\s+meat|\s+m[ae]n|\s+woman)?|a dead (?:man|woman))"
    r"(?=\s*(?:[.!?,]|$|bro|buddy|pal|bitch|when|if|once))",
    r"\bput\s+(?:you|u|him|her|them|em)\s+(?:in the ground|six feet under|in a body bag|in a coffin|in the grave)\b",
    r"\b(?:you|u)\s+(?:won't|will not|wont|ain't gonna|aint gonna)\s+(?:walk|make it|live|get)\s+(?:again|out|home|"
    r"alive|of here)\b",
    r"\b(?:i|we)\s+know\s+where\s+(?:you|u|he|she|they|your (?:kids|family|wife|children|mom|husband))\s+"
    r"(?:live|lives|work|works|sleep|sleeps|go to school|park)",
    # I'm going to find (out) where you live; I'm gonna make you pay
    r"\b(?:i'm|im|i am|we're|we are|i'll|i will|we'll|we will|imma|ima)\s+(?:(?:going|gonna)\s+(?:to\s+)?)?"
    r"(?:find|figure|look|track)\s+(?:out\s+|up\s+|down\s+)?where\s+"
    r"(?:you|u|he|she|they|your (?:kids|family|wife|children|mom|husband))\s+(?:live|lives|work|works|sleep|sleeps)\b",
    r"\b(?:i'm|im|i am|imma|ima)\s+(?:(?:going|gonna)\s+(?:to\s+)?)?make\s+(?:you|u|him|her)\s+"
    r"(?:pay|suffer|bleed|regret)\b",
    r"\b(?:i'm|im|i am|we're|we are|i'll|i will|we'll|we will)\s+(?:coming|come)\s+(?:for|after)\s+(?:you|u|ya|him|her|them)\b|"
    r"\bi(?:'ll| will)\s+(?:make\s+(?:you|him|her|them)\s+(?:pay|suffer|bleed|wish)|hunt\s+(?:you|him|her|them)\s+down|"
    r"track\s+(?:you|him|her|them)\s+down|find\s+(?:you|him|her|them)(?=\s*(?:[.!,]|$|and\b)))",
    # French: je vais te tuer; on va les pendre; m'as te casser la gueule; si je te pogne ...
    r"\b(?:je vais|j'vais|jvais|je va|j'vas|m'as|on va|je veux|j'ai envie de|jai envie de|je vais aller)\s+"
    r"(?:te|vous|les|le|la|l'|lui|leur)\s*(?:tuer|buter|crever|descendre|abattre|planter|egorger|etrangler|massacrer|"
    r"defoncer|fracasser|tabasser|frapper|battre|pendre|bruler|violer|achever|noyer|empoisonner|fusiller|poignarder|"
    r"eclater|casser la (?:gueule|yeule|tete|face)|peter la (?:gueule|face|yeule)|fendre la face|arranger le portrait|"
    r"faire la peau|arracher la tete|crisser une volee|sacrer une volee|casser les jambes|faire mal)",
    r"\b(?:je vais|j'vais|m'as|on va|il faut|faut|faudrait|il faudrait|on devrait|on doit)\s+(?:tuer|buter|pendre|"
    r"fusiller|bruler|gazer|exterminer|abattre|executer|egorger|lyncher|massacrer|descendre|poignarder)\s+"
    rf"(?:tous\s+|toutes\s+)?(?:les|le|la|ces|cet|cette|l'|tout le monde)\s*(?:[\w-]+\s+)?{_PEOPLE}\b",
    r"\b(?:je vais|j'vais|m'as|on va|il faut|faut|faudrait|il faudrait|on devrait|quelqu'un devrait)\s+"
    r"(?:mettre le feu a|bruler|"
    r"faire sauter)\s+(?:l'hotel de ville|la mairie|la mosquee|l'eglise|la synagogue|le temple|le poste de police|"
    r"l'ecole|(?:ta|sa|leur|votre) (?:maison|char|voiture))",
    r"\bsi\s+(?:je|on)\s+(?:te|vous|le|la|les)\s+(?:vois|voit|pogne|pognes|croise|attrape|revois|trouve|recroise)\b"
    r".{0,60}?\b(?:je vais|j'vais|m'as|on va|je (?:te|le|la|les|vous)|t'es|tu vas|tu es)\s+(?:\w+\s+){0,3}?(?:tue|bute|"
    r"creve|casse|pete|defonce|frappe|battre|tabasse|plante|massacre|morts?|regretter|arrache|fend|faire la peau)",
    r"\b(?:t'es|tu es|vous etes)\s+(?:un homme\s+)?morts?(?=\s*(?:[.!?,]|$|mon|ma|toi|bientot))|"
    r"\btu\s+vas\s+(?:mourir|crever|y passer|te faire (?:tuer|buter|casser|defoncer|planter))|"
    r"\b(?:je|on)\s+sai[st]\s+ou\s+(?:tu|vous|il|elle)\s+(?:habites?|restes?|demeures?|travailles?|habitez|restez)",
]
_DEATH_PLACE = (
    r"(?:in\s+(?:a\s+|the\s+|your\s+|their\s+)?(?:body\s*bags?|coffins?|caskets?|(?:the\s+)?morgue|the\s+ground|a\s+ditch|"
    r"the\s+cemetery|a\s+grave|graves)|six\s+feet\s+under|dead)"
)
"""Where a threat says someone will end up: "in body bags", "six feet under", "dead"."""
_THREAT += [
    # you'll end up in body bags; they will all wind up six feet under
    r"\b(?:you|u|ya|y'all|yall|you all|you people|they|he|she|all of you|every one of you)(?:'ll|\s+will|\s+are going to|"
    r"\s+are gonna|\s+r gonna|\s+gonna|\s+is going to|\s+is gonna)\s+(?:all\s+|both\s+)?(?:end\s+up|wind\s+up|"
    rf"leave|go\s+home|come\s+out)\s+{_DEATH_PLACE}(?!\s+(?:if|when|unless|the\s+way|driving|riding|crossing|walking|"
    r"speeding)\b)",
    r"\bthere(?:'ll|\s+will)\s+be\s+(?:more\s+)?body\s*bags\b",
    # on devrait brûler leur mosquée: the French of "burn their mosque down"
    r"\b(?:on\s+devrait|il\s+faut|faut|faudrait|il\s+faudrait|je\s+vais|j'vais|on\s+va|allons|quelqu'un\s+devrait)\s+"
    r"(?:aller\s+)?(?:bruler|incendier|faire\s+sauter|mettre\s+le\s+feu\s+a|foutre\s+le\s+feu\s+a)\s+"
    r"(?:leur|leurs|la|le|les|cette|ce|ces|sa|son|ta|ton|l')\s*(?:mosquees?|synagogues?|eglises?|temples?|mairie|"
    r"hotel\s+de\s+ville|maisons?|ecoles?|bureaux?|commerces?|magasins?|locaux|local|chars?|autos?)\b",
    # you'd better watch yourself when you leave tonight: a warning tied to when or where someone will be
    r"\b(?:you'?d better|you better|you had better|t'es mieux de|tu es mieux de|tu ferais mieux de|vous feriez mieux de|"
    r"vous etes mieux de)\s+(?:watch yourself|watch your back|faire attention a (?:toi|vous)|surveiller tes arrieres|"
    r"regarder derriere (?:toi|vous))\b[^.!?]{0,40}?\b(?:when you (?:leave|get home|walk)|on your way|tonight|"
    r"in the parking|en sortant|quand tu (?:sors|sortiras)|en rentrant|ce soir|dans le stationnement)",
    # bringing a gun to the meeting: a firearm taken where people gather
    r"\b(?:bring|bringing|brought|take|taking|carry|carrying|show(?:ing)? up with|come|coming)\s+(?:my|a|the|our|his|her|their)\s+"
    r"(?:guns?|rifles?|shotguns?|pistols?|handguns?|firearms?|weapons?|ar-?15|ak-?47)\s+(?:to|into|at)\s+(?:the|this|that|"
    r"next|tomorrow's|tonight's|a|your)\s+(?:next\s+)?(?:meeting|council|city hall|town hall|school|rally|hearing|church|"
    r"mosque|synagogue|office)",
    r"\b(?:ramene|ramener|apporte|apporter|amene|amener|arrive|arriver|viens|venir)\s+(?:avec\s+)?(?:mon|ma|mes|un|une|le|la|"
    r"les|son|sa)\s+(?:fusils?|carabines?|armes?|pistolets?|guns?)\s+(?:a|au|a la|aux|dans|en)\s+(?:la\s+|le\s+|l')?"
    r"(?:prochaine\s+)?(?:reunion|conseil|hotel de ville|mairie|ecole|assemblee|seance)",
    # grab your guns and ...: a call to arms
    r"\b(?:grab|get|load|bring|pick up|take up)\s+(?:your|our|the|my|their)\s+(?:guns|rifles|weapons|pitchforks)\s+"
    r"(?:and|to)\b",
    # French: vous allez finir dans des sacs mortuaires; quelqu'un devrait lui tirer dessus
    r"\b(?:tu\s+vas|vous\s+allez|ils\s+vont|elles\s+vont|il\s+va|elle\s+va)\s+(?:tous\s+|toutes\s+)?(?:finir|terminer)\s+"
    r"(?:dans\s+(?:un|des)\s+sacs?\s+mortuaires?|dans\s+(?:un|des)\s+cercueils?|six\s+pieds\s+sous\s+terre|"
    r"au\s+cimetiere|a\s+la\s+morgue)",
    r"\b(?:quelqu'un\s+(?:devrait|va|pourrait|finira\s+par)|il\s+faut|faut|faudrait|il\s+faudrait|on\s+devrait|je\s+vais|"
    r"j'vais|m'as|on\s+va)\s+"
    r"(?:te|lui|leur|vous|les)\s+tirer\s+(?:dessus|une\s+balle|dans\s+la\s+(?:tete|face|gueule))",
    # quelqu'un devrait lui régler son compte (settle someone's account: harm them), never a deficit's
    r"\b(?:quelqu'un\s+(?:devrait|va|pourrait)|il\s+faut|faut|faudrait|il\s+faudrait|on\s+devrait|je\s+vais|"
    r"j'vais|m'as|on\s+va)\s+(?:te|lui|leur|vous)\s+regler\s+(?:son|ton|leur|votre)\s+compte\b",
]
_INCITEMENT = [
    # kill them all; gas the ...; someone should shoot him; put a bullet in his head; death to ...
    rf"(?:{_ORDER_START}|\bi dare you to\s+)(?:{_SHOULD}\s+)?(?:just\s+|go\s+|fucking\s+)?{_PERSON_VERB}\s+"
    rf"(?:all\s+|every\s+)?{_TARGET}{_NOT_IDIOM}",
    rf"{_ORDER_START}(?:{_SHOULD}\s+)?(?:just\s+|go\s+)?{_ANY_VERB}\s+(?:{_PERSON_PRONOUN}|{_PEOPLE_OBJECT}){_NOT_IDIOM}"
    rf"{_NOT_IDIOM_UP}",
    r"\b(?:round|line)\s+(?:[\w\x27\u2019-]+\s+){0,5}?up\b.{0,30}?\band\s+(?:shoot|kill|hang|gas|execute|"
    r"exterminate|burn)\b|"
    r"\b(?:kill|shoot|hang|gas|burn|nuke|lynch|slaughter|exterminate)\s+(?:them|em|'em)\s+all\b|"
    r"\bgas\s+(?:them|em|'em)\b(?!\s+up\b)",
    rf"\b(?:start|begin|keep|go|time to start)\s+(?:kill|shoot|hang|lynch|gass|burn|slaughter|exterminat|butcher|"
    rf"stabb|rap|tortur|murder)ing\s+(?:all\s+|the\s+|these\s+|those\s+)?(?:[\w-]+\s+)?{_PEOPLE}\b",
    rf"(?:{_INTENT}|{_ORDER_START}|\b{_SHOULD}){_FILLER}\s+(?:choke|beat|stab|strangle|burn|stone|whip|kick)\s+"
    rf"(?:{_TARGET}|that \w+|this \w+)\s+to\s+death\b",
    rf"\b{_SHOULD}\s+(?:just\s+|go\s+|all\s+|fucking\s+){{0,2}}{_PERSON_VERB}\s+{_TARGET}{_NOT_IDIOM}",
    r"\b(?:put|pump|stick|shove|plant|send)\s+(?:a|one|two|some|\d+|the|this|my)\s+(?:[\w-]+\s+)?(?:bullets?|rounds?|"
    rf"slugs?|knife|knives|blade|shiv)\s+(?:in|into|through|between|in between)\s+(?:{_TARGET}|{_BODY})",
    rf"\bbullets?\s+(?:in|to|through|between|into)\s+{_BODY}\s+(?:[\w-]+\s+)?(?:head|skull|brains?|face|eyes|chest|"
    r"temple|forehead)|\ba bullet with (?:your|his|her|their) name on it|\baim (?:for|at) (?:the|their|his|her|your) "
    r"(?:heads?|face|chest)\b|\b(?:shoot|kill|stab) (?:them |him |her )?on sight\b",
    r"\b(?:slit|cut|slash)\s+(?:his|her|their|that \w+'s)\s+(?:throats?|heads? off)\b|"
    rf"\b(?:blow|shoot)\s+{_BODY}\s+(?:[\w-]+\s+)?(?:heads?|brains?|face|kneecaps|balls)\s+(?:off|out|in)\b|"
    rf"\b(?:rip|tear)\s+{_BODY}\s+(?:[\w-]+\s+)?(?:heads?|throats?|face|eyes|balls|tongue|spine)\s+(?:off|out)\b",
    # genocide is the answer; put them in gas chambers; wipe them off the face of the earth
    r"\b(?:genocide|ethnic cleansing|holocaust|final solution|race war|purge|pogrom|extermination|massacre|lynchings?)\s+"
    r"(?:is|are|would be|will be)\s+(?:the (?:only )?(?:answer|solution|way|cure)|our only hope|the only hope|needed|"
    r"necessary|overdue|long overdue|what we need|justified|the best)",
    r"\b(?:need|needs|time for|bring on|bring back|start|begin|hope for|pray for|let's have|call for|i support|all for|"
    r"ready for|due for|we want)\s+(?:a |an |another |the |some )?(?:new |second |real |global |final )?(?:genocide|"
    r"ethnic cleansing|holocaust|final solution|race war|purge|pogrom|day of the rope|public hangings|lynchings)",
    r"\b(?:put|send|ship|throw|lock|round up|herd)\s+(?:[\w-]+\s+){0,4}?(?:in|into|to|in to)\s+(?:the\s+)?"
    r"(?:gas chambers?|concentration camps?|death camps?|extermination camps?)|\b(?:them|em|'em|those|these|all)\s+"
    r"in(?:to)?\s+the\s+ovens\b",
    rf"\bwipe\s+(?:them|em|{_TARGET})\s+(?:all\s+)?(?:out|off the (?:map|face of the earth|planet))|"
    r"\b(?:wiped|erased|removed|eradicated|exterminated|eliminated)\s+(?:from|off)\s+the\s+face\s+of\s+the\s+(?:earth|planet)|"
    r"\bnuke\s+(?:the (?:whole|entire)\s+)?(?:[\w*-]+\s+)?(?:country|countries|continent|middle east|region)\b|"
    r"\bnuke\s+(?:them|em|'em)\b",
    r"(?:^|[.!?;:\n]|\b(?:slow|painful|a slow|a painful))\s*death\s+to\s+\w+",
    r"(?:^|[.!?;:\n,])\s*(?:a mort|mort aux?)\s+(?:les\s+|le\s+|la\s+)?(?!rats\b)[\w-]+",
    r"\b(?:brulons|brulez|tuons|tuez|pendons|pendez|fusillez|fusillons|gazez|gazons|exterminez|exterminons|massacrez|"
    r"massacrons|abattez|abattons|egorgez)(?:-|\s+)(?:les|tous|toutes|eux|ces)\b|\b(?:tue|tuez|brule|brulez)-les\b",
    r"\b(?:il faut|faut|faudrait|il faudrait|on devrait|on doit|va falloir)\s+(?:tous\s+|toutes\s+)?(?:les|le|la|l')\s*"
    r"(?:tous\s+)?(?:tuer|pendre|fusiller|gazer|exterminer|executer|egorger|lyncher|massacrer|buter|descendre|noyer)\b",
    r"\bune\s+balle\s+dans\s+(?:la|sa|ta|leur|le|son|ton)\s+(?:tete|crane|gueule|face|front|yeule)|\bposer\s+une\s+bombe",
]
_WISH = [
    # hope you die; wish he was dead
    r"\b(?:hope|hoping|hopefully|wish|wishing|pray|praying|can't wait (?:for|till|until|til)|cant wait (?:for|till|until|til)"
    r"|would love to see|'d love to see|want to see|wanna see|rooting for)\s+(?:the (?:day|moment)\s+)?(?:that\s+)?(?P<who>"
    rf"{PRONOUN_SUBJECT}|your (?:whole |entire )?(?:family|kids|children|mom|mother|wife|husband)|"
    rf"(?:the |these |those |all |all the |every |more )?(?:[\w-]+\s+)?{_PEOPLE}|[a-z][\w-]+)\s+(?:all\s+|both\s+|just\s+|"
    r"really\s+|fucking\s+|will\s+|would\s+|gets?\s+to\s+|ends? up\s+|eventually\s+|soon\s+|finally\s+){0,3}"
    r"(?:die|dies|died|dying|drops? dead|gets? (?:killed|shot|stabbed|murdered|raped|hanged|lynched|beaten to death|"
    r"tortured|run over|hit by a (?:car|bus|truck|train)|cancer|aids)|(?:are|is|be|were|was|get|gets) (?:killed|shot|"
    r"stabbed|murdered|raped|hanged|lynched|beaten to death|tortured|dead|burned alive|burnt alive|never born|aborted)|"
    r"burns? (?:alive|to death)|chokes? to death|drowns?|starves?|croaks?|overdoses?|"
    r"(?:has|have|gets?) (?:a (?:massive |fatal |slow |painful )?(?:heart attack|stroke|aneurysm)|(?:terminal |brain )?cancer)|"
    r"kills? (?:yourself|himself|herself|themselves|urself))\b",
    r"\b(?:hope|hoping|wish|pray)\s+(?:that\s+)?(?:someone|somebody|they|he|she|a \w+)\s+(?:will\s+|would\s+|finally\s+)?"
    r"(?:shoots?|kills?|stabs?|hangs?|murders?|rapes?|beats?|runs? over|burns?|lynch(?:es)?|strangles?|chokes?)\s+"
    r"(?:you|u|him|her|them|ur|your)\b|"
    r"\bwish(?:ing)?\s+(?:you|u|him|her|them)\s+(?:a\s+(?:slow\s+|painful\s+|horrible\s+)?)?(?:death|cancer|aids)\b|"
    r"\bwish(?:ing)?\s+death\s+(?:on|upon)\b|\bwant\s+(?:you|u|him|her|them)\s+(?:all\s+)?dead\b",
    # French: j'espère que tu crèves; qu'ils crèvent; va crever
    r"\b(?:j'espere|jespere|j'souhaite|je souhaite|esperons|pourvu|je prie pour)\s+(?:que|qu')\s*"
    r"(?:(?!ne\b|n'|pas\b|personne\b)[\w\x27\u2019-]+\s+){1,3}?(?:creve|creves|crevent|creviez|meure|meurs|meurt|meurent|mouriez|"
    r"va mourir|vas mourir|vont mourir|allez mourir|mourra|mourras|mourront|brule|brules|brulent|"
    r"va crever|vas crever|vont crever|allez crever|(?:va|vont|vas) se faire (?:tuer|egorger|buter|ecraser|violer|descendre)|"
    r"se fassent? (?:tuer|violer|buter|ecraser|frapper)|te fasses (?:tuer|violer|buter|ecraser)|pourrisse|pourrissent)\b",
    r"\bqu'(?:il|elle|ils|elles)\s+(?:creve|crevent|meure|meurent|brulent)\b|(?:^|[.!?,;:]\s*)crevez?\b(?!\s+de\b)|"
    r"(?:^|[.!?,;:]\s*)(?:va|allez)\s+(?:donc\s+)?(?:crever|mourir)\b",
    rf"\b(?:should(?:a| have)?|just|better|we should)\s+let\s+(?:{_PERSON_PRONOUN}|him|her|them|em|'em|you)\s+(?:all\s+)?"
    r"(?:die|drown|burn|starve|rot)\b|(?:^|[.!?;:\n])\s*let\s+(?:them|em|'em|him|her)\s+(?:all\s+)?(?:die|drown|burn|starve)\b",
    r"\b(?:love|like|enjoy|happy|glad|can't wait|pay(?: good)?(?: money)?)\s+(?:to\s+)?(?:watch|watching|see|seeing)\s+"
    r"(?:[\w-]+\s+){0,5}?(?:get killed|get beaten(?: to death)?|get stabbed|get lynched|get hanged|"
    r"get shot|getting killed|getting shot|being killed|die\b(?!\s+down)|dying|hang|burn alive|burning alive)",
    r"\b(?:merite|meritent|merites|meritez|meritait)\s+(?:de mourir|la mort|de crever|une balle|des balles|"
    r"d'etre (?:tues?|tuees?|pendus?|fusilles?|abattus?|violees?|battus?|battues?|brules?|gazes?|lynches?))",
    r"\b(?:world|planet|city|country|earth)\s+(?:will|would|'ll|'d)\s+be\s+(?:a\s+)?better\s+(?:place\s+)?(?:when|once|if)\s+"
    r"(?:you're|you are|ur|you|he's|he is|she's|she is|they're|they are|[\w-]+ is|[\w-]+ are)\s+(?:all\s+)?"
    r"(?:dead|six feet under|in the ground|in a coffin|buried)\b",
    # French: qu'on les pende tous
    r"\bqu'on\s+(?:les|le|la|l')\s*(?:pende|tue|fusille|gaze|bute|brule|egorge|lynche|massacre|extermine)\b",
]
_WISH_ABOUT = [
    # they deserve to be shot; gays should die; should be hanged; devraient être pendus
    r"\b(?:deserves?|deserved)\s+(?:to\s+(?:die|be\s+(?:killed|shot|hanged|hung|lynched|raped|beaten|tortured|abused|"
    r"executed|burned|burnt|gassed|stoned|murdered|dead)|get\s+(?:killed|shot|raped|beaten|hanged|lynched)|burn|suffer)|"
    r"death|a bullet|bullets|to be put down|a beating|an ass[- ]?kicking)\b",
    rf"\b(?:{_SHOULD}|needs? to|deserves? to)\s+(?:all\s+|just\s+|really\s+|fucking\s+){{0,2}}(?:be|get|all be|all get)\s+"
    r"(?:publicly\s+|slowly\s+|fucking\s+)?"
    # "rounded up and shot", "hunted down and killed", "dragged out of the library and beaten"
    r"(?:(?:rounded|lined|hunted|tracked|dragged|taken|pulled|marched|strung|tied)\s+(?:up|down|out|outside)\s+"
    r"(?:(?:of|into|to|in)\s+(?:[\w-]+\s+){1,3})?(?:and|&)\s+)?(?:shot|killed|hanged|hung|executed|lynched|gassed|exterminated|put down|put to death|burned alive|"
    r"burnt alive|beheaded|stoned|tortured|raped|beaten|shot dead|strung up|castrated|sterili[sz]ed|wiped out|"
    r"eradicated|annihilated|nuked|murdered|slaughtered|culled|euthani[sz]ed|massacred|lined up and shot|dead|beaten to death)\b"
    r"(?!\s+(?:of|in|at|from|by)\s+(?:every|the|this|next|each)\s+(?:seats?|elections?|polls?|ridings?|votes?))",
    r"\b(?:would be|'d be|are|is|were)\s+better\s+off\s+dead\b",
    r"\b(?:should|must|needs? to|ought to|oughta|deserves? to|has to|have to|gotta|better|can go)\s+(?:all\s+|just\s+|"
    r"fucking\s+|go\s+){0,2}(?:die|drop dead|be dead|croak|kill (?:themselves|himself|herself|yourself|yourselves|urself)"
    r"|hang(?!\s+(?:out|on|around|up|in|together|with|their|his|her|your|its))|burn(?!\s+(?:out|off|up|calories|fat|through)))\b",
    r"\b(?:devraient|devrait|doivent|doit)\s+(?:tous\s+|toutes\s+)?(?:etre\s+(?:tous\s+|toutes\s+)?(?:tues?|tuees?|pendus?|"
    r"fusilles?|gazes?|extermines?|executes?|egorges?|lynches?|massacres?|violees?)|mourir|crever)\b",
]
_SELF_HARM = [
    # kill yourself; kys; go drink bleach; do us a favour and die; tue-toi
    r"\b(?:kill|hang|shoot|off|neck|end|drown|stab|unalive)\s+(?:yo|your|ur|you|u)?r?sel(?:f|ves|fs)\b(?!\s+(?:laughing|in the foot|"
    r"working|trying|over|for))|\bkys\b",
    r"\b(?:drink|swallow|chug|eat|inject|gargle)\s+(?:some\s+|a\s+(?:cup|glass|gallon|bottle)\s+of\s+)?bleach\b|"
    r"\b(?:drink|boire|bois|buvez)\s+(?:donc\s+)?(?:de\s+l'eau\s+de\s+|de\s+la\s+|du\s+|ton\s+)?javel",
    r"\b(?:slit|cut|slash)\s+(?:your|ur|yo)\s+(?:own\s+)?(?:wrists?|veins|throat)\b|\bjump\s+(?:off|from|in front of)\s+"
    r"(?:a|the|your)\s+(?:bridge|building|cliff|roof|balcony|train|bus|truck|subway)\b",
    r"\bdo\s+(?:us|the world|everyone|everybody|humanity|society|the gene pool|the rest of us)\s+(?:all\s+)?a\s+"
    r"favou?r\s+and\s+(?:die|kill|jump|hang|drop dead|disappear|end|off|stop breathing|go die|drink|"
    r"(?:don't|dont|never) wake up)\b|"
    r"\b(?:just|go|pls|please|plz|you should)\s+(?:go\s+)?end\s+it\s+all\b|"
    r"\bfais[- ](?:nous|moi)\s+(?:donc\s+)?(?:une|un)\s+(?:faveur|service)\s+(?:pis|et|puis)\s+(?:meurs|creve|"
    r"tue[- ]toi|pends[- ]toi|saute|disparais|jette[- ]toi)\b|"
    r"\b(?:nobody|no one|noone)\s+(?:would|will|is going to|gonna)\s+miss\s+(?:you|u|ya)\b|"
    r"\b(?:world|planet|everyone|earth|society)\s+(?:would|will|'d)\s+be\s+better\s+(?:off\s+)?without\s+(?:you|u|ya)\b|"
    r"\b(?:just|pls|please|plz|go|you should|you can)\s+(?:go\s+)?(?:die|drop dead)(?:\s+fucking|\s+already|"
    r"\s+in a (?:fire|hole|ditch))*(?=\s*(?:[.!?,]|$)|\s+(?:already|bitch|loser|you|u\b|in a|fucking|motherfucker))|"
    r"(?:^|[.!?,;:]\s*)(?:die|drop dead)(?:\s+fucking|\s+already|\s+in a (?:fire|hole|ditch))*(?=\s*(?:!|$)|\s+(?:already|"
    r"bitch|loser|you|u\b|fucking|motherfucker))|\bget dead\b",
    # you should just end it; nobody would miss you; tu devrais en finir; personne ne te regretterait
    r"\b(?:you|u|ya)\s+(?:should|oughta|ought to|need to|might as well|can)\s+(?:just\s+|go\s+|really\s+){0,2}"
    r"(?:end\s+it(?:\s+all)?|end\s+(?:your|ur)\s+(?:own\s+)?life|take\s+(?:your|ur)\s+(?:own\s+)?life|off\s+yourself)\b|"
    r"\bif\s+(?:you|u)\s+(?:ended|end)\s+it\b(?:\s+all)?",
    r"\b(?:tu\s+devrais|vous\s+devriez|va\s+donc|tu\s+peux)\s+(?:juste\s+|donc\s+)?(?:en\s+finir(?!\s+avec)|mettre\s+fin\s+a\s+"
    r"(?:tes|vos)\s+jours)|\bsi\s+(?:tu|vous)\s+en\s+finis(?:sez)?\b|\bmets\s+fin\s+a\s+tes\s+jours\b|"
    r"\bpersonne\s+(?:ne\s+)?(?:va\s+|vas\s+)?(?:te|vous)\s+regretter(?:ait|a)?\b|"
    r"\bpersonne\s+(?:ne\s+)?(?:va\s+)?s'ennuyer\s+de\s+(?:toi|vous)\b|"
    r"\b(?:le\s+monde|la\s+planete|tout\s+le\s+monde)\s+(?:serait|sera|irait)\s+mieux\s+sans\s+(?:toi|vous)\b",
    r"\b(?:tue|tuez)[- ](?:toi|vous)\b|\bsuicidez?[- ](?:toi|vous)\b|\bva\s+te\s+(?:tuer|pendre|suicider|jeter\s+(?:en bas|"
    r"d'un|sous))|\bpends[- ]toi\b|\bjette[- ]toi\s+(?:en bas|d'un pont|sous)|"
    r"\b(?:t'es|tes|t'serais|tu serais|tu ferais|vous feriez|vous etes)\s+mieux\s+de\s+(?:te|vous)\s+(?:tuer|pendre|suicider|"
    r"jeter\s+(?:en bas|d'un|sous))",
]
_WARNING = [
    r"\bwatch\s+your\s+back\b|\bsleep\s+with\s+one\s+eye\s+open\b|\b(?:you|u)\s+(?:won't|will not|wont|'ll never|will never)"
    r"\s+see\s+it\s+coming\b|\byour\s+days\s+are\s+numbered\b|\byou(?:'ll| will)\s+be\s+sorry\b|\btes\s+jours\s+sont\s+comptes\b|"
    r"\bsurveille\s+tes\s+arrieres\b|\btu\s+vas\s+le\s+regretter\b",
    # would be a shame if something happened to your kids
    r"\b(?:would|'d|it'd)\s+be\s+a\s+(?:real\s+|damn\s+|big\s+)?shame\s+if\s+(?:something|anything)\s+(?:bad\s+)?"
    r"(?:happened|were to happen|was to happen)\s+to\s+(?:you|u|him|her|them|your|ur|his|their)\b|"
    r"\b(?:serait|ca serait|ce serait)\s+(?:plate|dommage|triste)\s+(?:qu'|que\s+)(?:il|elle)?\s*(?:te|vous|lui|leur|"
    r"(?:il|elle|ils)\s+(?:te|vous|lui|leur))?\s*arrive\s+(?:de quoi|quelque chose)",
]
_GLORIFY = [
    # the shooter did nothing wrong; the gunman had the right idea; le tireur avait raison
    r"\b(?:shooter|gunman|gunmen|bomber|attacker|killer|terrorist|tireur|terroriste)s?\b[^.!?]{0,40}?\b(?:did nothing wrong|"
    r"was a hero|is a hero|is my hero|was right|had the right idea|is a legend|was a legend|deserves a medal|"
    r"avait raison|a raison|est un heros|etait un heros|est mon heros)\b",
    # calls to arms: time to start a civil war; prenez les armes; faut sortir les fusils
    r"\b(?:time to start|time for|let's start|lets start|we need|bring on|ready for|start the)\s+(?:a\s+|the\s+)?"
    r"(?:civil war|guerre civile)\b|\bguerre\s+civile\s+(?:maintenant|tout de suite|astheure)\b|"
    r"\bcivil\s+war\s+now\b|"
    r"\b(?:prenez|prenons|prends|prendre)\s+(?:les|vos|nos|tes)\s+armes\b(?!\s+(?:a feu|de|au comptoir))|"
    r"\b(?:faut|il faut|faudrait|on va|allons|va falloir)\s+sortir\s+(?:les|nos|vos)\s+(?:fusils|armes|carabines|guns)\b(?!\s+(?:de|a|du|des)\b)|"
    r"(?:^|[.!?;:\n]|\b(?:time to|let's|we must|we need to|it's time to))\s*take up arms\b|"
    r"\b(?:any|every|all)\s+[\w-]+(?:\s+[\w-]+)?\s+(?:you see|you find|you meet)\s+(?:is|are)\s+(?:a\s+)?"
    r"(?:legitimate\s+)?targets?\b|\b(?:is|are)\s+(?:a\s+)?legitimate\s+targets?\b(?!\s+(?:for|of)\b)",
]
_SECURITY = [
    r"\b(?:(?:door|gate|alarm|access|entry|lock|keypad) ?codes?(?: is| are|:| =)|(?:door|gate|alarm|access|entry|lock|"
    r"keypad) ?codes?\b.{0,50}?\b(?:is|are|=|:)\s*\d{3,}|password(?: is|:| =)|passcode|"
    r"login(?: is|:)|username(?: is|:)|user ?name and password|(?:admin|login|staff|employee) credentials|"
    r"credentials(?: are| is|:)|scada|(?:back|side|service|loading|staff|emergency) (?:door|entrance|gate) (?:of|at|to) "
    r".{0,40}(?:is|are) (?:never |always )?(?:unlocked|open|left open|propped open)|never locked|always unlocked|"
    r"left unlocked|propped open|how to (?:get|break|sneak) into|the fence is (?:cut|down|broken)|hole in the fence|"
    r"cameras? (?:are|is) (?:off|broken|fake)|disable the (?:alarm|cameras?)|(?:wifi|wi-fi) password|code d'acces|"
    r"code de la porte|mot de passe|porte (?:arriere|de service) .{0,40}(?:debarre|debarree|deverrouillee|ouverte)|"
    r"jamais (?:barree|verrouillee|debarree))\b",
]
_IDIOM = _rx(
    r"\b(?:killing (?:me|it)|kill(?:ed)? (?:it|time|the mood|two birds)|shoot (?:me )?(?:an|a) (?:email|message|note|text)|"
    r"dressed to kill|bombed (?:the|my) (?:test|exam)|blow up (?:my|your) phone|shoot for|take a shot|me tue|nous tue|"
    r"ca me tue|tuer le temps|(?:would|could|'d) kill for|drop[- ]dead (?:gorgeous|beautiful)|hang in there|"
    r"mort de rire|morte de rire|crever de (?:faim|chaud|rire))\b"
)
_NEGATED = _rx(
    r"\b(?:don't|dont|do not|never|not|won't|wont|wouldn't|wouldnt|didn't|didnt)\s+(?:ever\s+|even\s+|just\s+)?$"
)
_NO_ONE = _rx(
    r"\b(?:no|nobody|noone|no one|none|never|not|personne|aucun|aucune)\s+(?:[\w-]+\s+){0,2}$|"
    r"\b(?:don't|do not|didn't|doesn't|does not|never|nobody) (?:think|believe|say|said|mean|want|wish)s?\b"
)
_REPORTED = _rx(
    r"\b(?:said|saying|says|say|told (?:me|us|him|her|them|you)|tells (?:me|us)|wrote|writing|writes|posted|posting|"
    r"yelled|yelling|screamed|screaming|shouted|shouting|texted|messaged|comments? like|replies like|"
    r"dit|disent|dire|disant|ecrit|ecrivent|ecrire|crie|criait|criaient|m'a dit|nous a dit|m'a ecrit|commentaires? comme)"
    r"\s*:?\s*[«\"“]\s*[^»\"”]{0,80}$"
)
"""A threat inside quotation marks after "told me", "people saying", "m'a dit": reported, not made
("someone on the bus told me 'I'll kill you', I called the police")."""
_THING = re.compile(
    r"\b(?:it|this|that|bill|plan|project|idea|motion|policy|proposal|program|budget|law|bylaw|by-law|deal|contract|"
    r"order|strategy|tax|trend|thread|show|series|app|website|system|process|tree|trees|building|car|road)\s+$"
)
"""A subject that is a thing: "the plan should die" is not about anyone."""
_PERSON_SUBJECT = re.compile(rf"\b(?:{PRONOUN_SUBJECT}|{_PEOPLE})\s+(?:[\w-]+\s+){{0,8}}$")
_WHO_PERSON = re.compile(rf"(?:{PRONOUN_SUBJECT}|your\b.*|(?:[\w-]+\s+)*{_PEOPLE})", re.DOTALL)

_PATTERNS: list[tuple[str, re.Pattern[str], bool]] = [
    *(("threat", _rx(p), False) for p in _THREAT),
    *(("incitement", _rx(p), False) for p in _INCITEMENT),
    *(("wish", _rx(p), False) for p in _WISH),
    *(("wish", _rx(p), True) for p in _WISH_ABOUT),
    *(("self_harm", _rx(p), False) for p in _SELF_HARM),
    *(("warning", _rx(p), False) for p in _WARNING),
    *(("incitement", _rx(p), False) for p in _GLORIFY),
]
"""(label, pattern, whether the pattern needs a person, a group or a name before it as its subject)."""
_SECURITY_RX = [_rx(p) for p in _SECURITY]


@register
class SafetyDetector(LearnedDetector):
    name = "safety"
    version = "12"
    clause = "5.7.8"
    category = "safety"
    rule_scores: ClassVar[dict[str, float]] = {
        "threat": 0.85,
        "incitement": 0.9,
        "wish": 0.8,
        "self_harm": 0.85,
        "warning": 0.7,
        "security": 0.8,
    }
    model_weight = 0.7
    """The model alone flags at 0.71 (calibrated), not at 0.5: below that it takes "kill this bylaw", "poison
    the rats" and "I hope nobody gets hurt at that crossing" for threats. Measured 2026-12-06 with the
    threats and the 311-style hard negatives ("Dead End Sign Missing") added to ``own_safety``: 0.6, 0.7,
    0.8, 1.0 found 25, 39, 42, 52 of 89 English threats in ``tests/data/threats.jsonl`` with the same 2 false
    alarms among its 76 hard negatives, and flagged 1, 1, 1, 14 of the project's other negatives (safety,
    criticism, ordinary, off-topic, attack sets); leave-one-source-out macro-F1 0.519, 0.528, 0.522, 0.523.
    At 0.7, 3 of the 7,663 residents' requests are flagged 5.7.8 by the model alone (none at 0.6)."""

    def rules(self, comment: Comment, norm: NormalizedText) -> list[Evidence]:
        text = norm.text
        violence: list[tuple[int, int]] = []
        security = False
        for end, (length, kind, infix) in _KEYS.iter(text + " "):  # the space ends a last word ("je te tue")
            start = end - length + 1
            if not infix and start > 0 and text[start - 1].isalnum():
                continue
            if kind == "security":
                security = True
            elif violence and end - _WINDOW[0] <= violence[-1][1]:
                violence[-1] = (violence[-1][0], min(len(text), end + _WINDOW[1]))
            else:
                violence.append((max(0, end - _WINDOW[0]), min(len(text), end + _WINDOW[1])))
        spans: list[Evidence] = []
        if violence:
            idioms = [m.span() for m in _IDIOM.finditer(text)]
            for label, rx, needs_subject in _PATTERNS:
                for a, b in violence:
                    for m in rx.finditer(text, a, b):
                        if self._counts(comment, norm, m, needs_subject, idioms):
                            s, e = norm.to_original(m.start(), m.end())
                            spans.append(Evidence(s, e, label))
        if security:
            for rx in _SECURITY_RX:
                for m in rx.finditer(text):
                    s, e = norm.to_original(m.start(), m.end())
                    spans.append(Evidence(s, e, "security"))
        return spans

    @staticmethod
    def _counts(
        comment: Comment, norm: NormalizedText, m: re.Match[str], needs_subject: bool, idioms: list[tuple[int, int]]
    ) -> bool:
        """Whether a match is meant: not an idiom, not negated, and about a person."""
        start, end = m.span()
        if any(a < end and start < b for a, b in idioms):
            return False
        before = norm.text[max(0, start - 60) : start]
        if _NEGATED.search(before[-25:]) or _REPORTED.search(norm.text, max(0, start - 120), start):
            return False
        who = m.groupdict().get("who")
        if who is not None and not _WHO_PERSON.fullmatch(who):
            # an unknown word as the one wished dead counts when it is a name ("hope Smith dies")
            return name_before(comment.text, norm.to_original(m.start("who"), m.end("who"))[1])
        if needs_subject:
            if _THING.search(before) or _NO_ONE.search(before):
                return False
            return bool(_PERSON_SUBJECT.search(before)) or name_before(comment.text, norm.to_original(start, end)[0])
        return True
