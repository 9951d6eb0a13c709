"""5.7.8 Information that may compromise the safety or security of the public or public systems.

Two kinds: threats and incitement to violence ("I'll shoot", "someone should burn city hall down",
"je vais te tuer", "I know where you live"), and information that opens public systems to harm
(door codes, passwords, "the back door of the water plant is never locked", "hole in the fence at
the pump station"). Violent idioms ("this traffic is killing me", "shoot me an email", "cette
chaleur me tue") are not threats: verbs count only with a human or facility target.
"""

from __future__ import annotations

from typing import ClassVar

from pipelines.base import Comment, register
from pipelines.detectors._learned import LearnedDetector
from pipelines.gate import compile_gated
from pipelines.normalize import NormalizedText
from pipelines.types import Evidence

_VIOLENT = (
    r"(kill|murder|shoot|stab|bomb|blow up|burn( down)?|torch|hang|lynch|beat (up|the)|hurt|attack|gas|execute|"
    r"run over|strangle|choke|punch|poison|tuer|abattre|brûler|buter|pendre|frapper|tirer sur|poignarder|"
    r"faire sauter|écraser|étrangler|casser la gueule|péter la gueule|crisser une volée)"
)
_TARGET = (
    r"(you|him|her|them|they|everyone|every|all|the mayor|mayor|councillors?|council|city hall|staff|cops|police|"
    r"people|those|these|kids|city workers|officers?|bylaw officers?|inspectors?|guards?|workers?|drivers?|"
    r"mayor \w+|councillor \w+|\w+s\b|toi|te|vous|eux|les|le maire|la mairesse|l'hôtel de ville|"
    r"le conseil|les conseillers|les policiers|les employés|ta gueule|la gueule)"
)
_THREAT = compile_gated(
    rf"\b((i|i'm|im|we|we're|i am|gonna|going to|will|i'll|ill|we'll|should|someone should|somebody should|"
    rf"need to|ought to|je vais|j'vais|on va|il faut|faudrait|quelqu'un devrait|je va)\s+(\w+\s+){{0,3}}"
    rf"{_VIOLENT}\s+(\w+\s+){{0,2}}{_TARGET}|"
    rf"(je vais|j'vais|on va|je va)\s+(te|vous|les|le|la)\s+{_VIOLENT})"
)
_DIRECT = compile_gated(
    r"\b(kill yourself|kys|go kill yourself|hope (you|he|she|they) (die|dies|get shot|gets shot)|deserve to die|"
    r"deserves? a bullet|should be (shot|killed|hanged|hung|executed|lynched)|death to|bomb threat|there is a bomb|"
    r"there's a bomb|i have a gun|bring a gun|bring (your )?guns|shoot up|mass shooting|watch your back|"
    r"i know where you live|we know where you live|you'll be sorry|your days are numbered|"
    r"va te tuer|tue-toi|mérite de mourir|mérite une balle|à mort|je sais où tu (habites|restes)|"
    r"on sait où tu (habites|restes)|tu vas le regretter|fais attention à toi)\b"
)
_SYSTEMS = compile_gated(
    r"\b((door|gate|alarm|access|entry|lock|keypad) ?codes?( is| are|:| =)|password( is|:| =)|passcode|"
    r"login( is|:)|username( is|:)|user ?name and password|credentials|scada|"
    r"(back|side|service|loading|staff|emergency) (door|entrance|gate) (of|at|to) .{0,40}(is|are) (never |always )?"
    r"(unlocked|open|left open|propped open)|never locked|always unlocked|left unlocked|propped open|"
    r"how to (get|break|sneak) into|the fence is (cut|down|broken)|hole in the fence|cameras? (are|is) (off|broken|fake)|"
    r"disable the (alarm|cameras?)|(wifi|wi-fi) password|"
    r"code d'accès|code de la porte|mot de passe|porte (arrière|de service) .{0,40}(débarré|débarrée|déverrouillée|"
    r"ouverte)|jamais (barrée|verrouillée|débarrée))\b"
)
_IDIOM = compile_gated(
    r"\b(killing (me|it)|kill(ed)? (it|time|the mood|two birds)|shoot (me )?(an|a) (email|message|note|text)|"
    r"dressed to kill|bombed (the|my) (test|exam)|blow up (my|your) phone|shoot for|take a shot|"
    r"me tue|nous tue|ça me tue|tuer le temps)\b"
)


@register
class SafetyDetector(LearnedDetector):
    name = "safety"
    version = "1"
    clause = "5.7.8"
    category = "safety"
    rule_scores: ClassVar[dict[str, float]] = {"threat": 0.85, "incitement": 0.9, "security": 0.8}
    model_weight = 0.6

    def rules(self, comment: Comment, norm: NormalizedText) -> list[Evidence]:
        text = norm.text
        spans: list[Evidence] = []
        idioms = [m.span() for m in _IDIOM.finditer(text)]
        for rx, label in ((_THREAT, "threat"), (_DIRECT, "incitement"), (_SYSTEMS, "security")):
            for m in rx.finditer(text):
                if any(a <= m.start() < b or m.start() <= a < m.end() for a, b in idioms):
                    continue
                s, e = norm.to_original(m.start(), m.end())
                spans.append(Evidence(s, e, label))
        return spans
