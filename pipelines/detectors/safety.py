"""5.7.8 Information that may compromise the safety or security of the public or public systems.

Two kinds: threats and incitement to violence ("I'll shoot", "someone should burn city hall down",
"kill yourself"), and information that opens public systems to harm (door codes, passwords, "the
back door of the water plant is never locked"). Violent idioms ("this traffic is killing me",
"shoot me an email") are not threats: verbs count only with a human or facility target.
"""

from __future__ import annotations

from typing import ClassVar

from pipelines.base import Comment, register
from pipelines.detectors._learned import LearnedDetector
from pipelines.normalize import NormalizedText, compile_folded
from pipelines.types import Evidence

_VIOLENT = r"(kill|murder|shoot|stab|bomb|blow up|burn( down)?|torch|hang|lynch|beat (up|the)|hurt|attack|gas|execute|tuer|abattre|brûler|buter|pendre|frapper)"
_TARGET = r"(you|him|her|them|they|everyone|every|all|the mayor|mayor|councillors?|council|city hall|staff|cops|police|people|those|these|kids|city workers|officers?|bylaw officers?|inspectors?|guards?|cops?|workers?|drivers?|mayor \w+|councillor \w+|\w+s\b|toi|vous|eux|le maire|l'hôtel de ville)"
_THREAT = compile_folded(
    rf"\b((i|i'm|im|we|we're|i am|gonna|going to|will|i'll|ill|we'll|should|someone should|somebody should|"
    rf"need to|ought to|je vais|on va|il faut)\s+(\w+\s+){{0,3}}{_VIOLENT}\s+(\w+\s+){{0,2}}{_TARGET})"
)
_DIRECT = compile_folded(
    r"\b(kill yourself|kys|go kill yourself|hope (you|he|she|they) (die|dies|get shot)|deserve to die|"
    r"should be (shot|killed|hanged|hung|executed|lynched)|death to|bomb threat|there is a bomb|"
    r"there's a bomb|i have a gun|bring a gun|shoot up|mass shooting|va te tuer|mérite de mourir|à mort)\b"
)
_SYSTEMS = compile_folded(
    r"\b((door|gate|alarm|access|entry|lock) ?codes?( is| are|:)|password( is|:)|passcode|login( is|:)|"
    r"credentials|scada|(back|side|service|loading) (door|entrance|gate) (of|at|to) .{0,40}(is|are) (never |always )?"
    r"(unlocked|open|left open)|never locked|always unlocked|how to (get|break|sneak) into|"
    r"disable the (alarm|cameras?)|code d'accès|mot de passe)\b"
)
_IDIOM = compile_folded(
    r"\b(killing (me|it)|kill(ed)? (it|time|the mood)|shoot (me )?(an|a) (email|message|note|text)|dressed to kill|bombed (the|my) (test|exam))\b"
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
