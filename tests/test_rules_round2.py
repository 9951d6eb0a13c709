"""The rules behind 5.7.8 threats, 5.7.7 attacks and 5.7.3 discrimination, as tables.

Each row is a comment, the language it is in and the evidence label the rules must give it (or
``None``: the rules must stay silent). Hits sit beside the near misses residents write every day
("this traffic is killing me", "what a stupid plan") and beside obfuscated spellings. The rules are
checked on their own so a table row fails only because of the rule it describes; the blended tags
(rules plus the shipped model) are checked on the labelled sets in tests/data by test_quality.
"""

from __future__ import annotations

import pytest
import spacy

from pipelines.base import DETECTORS, Comment
from pipelines.detectors import load_all
from pipelines.detectors._learned import LearnedDetector
from pipelines.normalize import normalize
from pipelines.pipeline import PolicyPipeline
from pipelines.types import CommentInput

load_all()
NLP = spacy.blank("xx")


def evidence(detector: str, text: str, lang: str) -> set[str]:
    """The labels of the rule evidence a detector finds in ``text``."""
    comment = Comment(NLP.make_doc(text), language=lang)
    instance = DETECTORS[detector]({})
    assert isinstance(instance, LearnedDetector)
    spans = instance.rules(comment, comment.view("norm", normalize))
    for span in spans:
        assert 0 <= span.start < span.end <= len(text)
    return {s.label for s in spans}


SAFETY = [
    # threats: first person, conditional, second person
    ("I will kill you", "en", "threat"),
    ("I'm going to shoot the mayor", "en", "threat"),
    ("Im gonna kill u if u block my lane again", "en", "threat"),
    ("If I ever see you at the park again I'll break your legs", "en", "threat"),
    ("if I catch him near my house he's dead, I swear I'll hurt him", "en", "threat"),
    ("You're dead. I know where you live.", "en", "threat"),
    ("I'll beat the shit out of every one of you", "en", "threat"),
    ("I'll be waiting outside city hall with a bat", "en", "threat"),
    ("I will personally strangle whoever approved this", "en", "threat"),
    ("We'll burn your house down", "en", "threat"),
    ("There's a bomb in the library", "en", "threat"),
    # wishes of death or harm
    ("I hope you die", "en", "wish"),
    ("hope the mayor gets hit by a bus", "en", "wish"),
    ("I hope Smith dies in a fire", "en", "wish"),
    ("i wish you were dead", "en", "wish"),
    ("People who litter deserve to be shot", "en", "wish"),
    ("Trudeau should be hanged", "en", "wish"),
    ("These councillors should all be lined up and shot", "en", "wish"),
    ("gays should fucking die", "en", "wish"),
    # incitement against groups and people
    ("Kill them all", "en", "incitement"),
    ("kill all the immigrants", "en", "incitement"),
    ("gas them", "en", "incitement"),
    ("Someone should put a bullet in his head", "en", "incitement"),
    ("aim for the head", "en", "incitement"),
    ("Time for a race war", "en", "incitement"),
    ("Genocide is the only answer", "en", "incitement"),
    ("Death to all traitors!", "en", "incitement"),
    ("wipe them off the face of the earth", "en", "incitement"),
    # suicide incitement
    ("kys", "en", "self_harm"),
    ("Go kill yourself", "en", "self_harm"),
    ("go drink bleach", "en", "self_harm"),
    ("Do the world a favour and jump off a bridge", "en", "self_harm"),
    ("nobody would miss you", "en", "self_harm"),
    # obfuscated
    ("k1ll y0urself", "en", "self_harm"),
    ("I will sh00t you", "en", "threat"),
    ("K I L L   Y O U R S E L F", "en", "self_harm"),
    # veiled
    ("Watch your back, councillor", "en", "warning"),
    ("Your days are numbered", "en", "warning"),
    # public systems
    ("The keypad code for the arena staff door is 2580", "en", "security"),
    ("Side door of the pump station is always unlocked after 6pm", "en", "security"),
    # French
    ("Je vais te tuer mon hostie", "fr", "threat"),
    ("Si je te pogne encore, je vais te casser la gueule", "fr", "threat"),
    ("T'es mort, je sais où tu restes", "fr", "threat"),
    ("Il faut brûler l'hôtel de ville", "fr", "threat"),
    ("Quelqu'un devrait brûler l'hôtel de ville", "fr", "threat"),
    ("J'espère que tu crèves", "fr", "wish"),
    ("Qu'ils crèvent tous", "fr", "wish"),
    ("Les conseillers devraient être fusillés", "fr", "wish"),
    ("Ils méritent une balle dans la tête", "fr", "incitement"),
    ("Il faudrait tous les pendre", "fr", "incitement"),
    ("Tue-toi", "fr", "self_harm"),
    ("Va te pendre", "fr", "self_harm"),
    # near misses: idioms, reports, criticism, things
    ("This traffic is killing me", "en", None),
    ("Shoot me an email about the schedule", "en", None),
    ("Kill the bill!", "en", None),
    ("Council needs to kill this bylaw", "en", None),
    ("Slow down, you'll kill someone", "en", None),
    ("Someone is going to get killed at this intersection", "en", None),
    ("You'll break your neck on these sidewalks", "en", None),
    ("I'd kill for a coffee right now", "en", None),
    ("The plan should be executed quickly", "en", None),
    ("This bill deserves to die in committee", "en", None),
    ("Burn the leaves in the fall", "en", None),
    ("The city should poison the rats in the alley", "en", None),
    ("I hope nobody dies at this crossing", "en", None),
    ("No child should die on this street", "en", None),
    ("We'll kill them at the polls", "en", None),
    ("Police shot a man downtown last night", "en", None),
    ("Guns don't kill people", "en", None),
    ("I'll hit you up later", "en", None),
    ("cut them some slack", "en", None),
    ("we need to hurt them where it counts", "en", None),
    ("I hope the Leafs get beaten tonight", "en", None),
    ("She was stabbed in the back by her own party", "en", None),
    ("Put the turkey in the oven", "en", None),
    ("Don't ever kill yourself over a job", "en", None),
    ("Nuke the whole plan and start over", "en", None),
    ("People can die crossing here", "en", None),
    ("I don't think he deserved to die", "en", None),
    ("They should be wiped out of every seat in the next election", "en", None),
    ("If I see you at the market I'll buy you a coffee", "en", None),
    ("The old arena should burn out its lease and close", "en", None),
    ("What's the library wifi? My password doesn't work", "en", None),
    ("Cette chaleur me tue", "fr", None),
    ("On va tuer le temps au parc", "fr", None),
    ("Mon pneu va crever", "fr", None),
    ("Il faut tuer ce projet", "fr", None),
    ("Fais attention à toi sur la route", "fr", None),
    ("J'étais mort de rire", "fr", None),
    ("Cet arbre devrait être abattu", "fr", None),
    ("Le feu rouge est trop long", "fr", None),
]


@pytest.mark.parametrize(("text", "lang", "label"), SAFETY)
def test_safety_rules(text: str, lang: str, label: str | None) -> None:
    found = evidence("safety", text, lang)
    if label is None:
        assert not found, found
    else:
        assert label in found, found


@pytest.fixture(scope="module")
def pipeline() -> PolicyPipeline:
    return PolicyPipeline()


@pytest.mark.parametrize(
    ("text", "lang", "category", "flagged"),
    [
        ("hope you die in a fire", "en", "safety", True),
        ("Someone should put a bullet in that judge's head", "en", "safety", True),
        ("Les immigrés devraient être pendus", "fr", "safety", True),
        ("This heat is killing me, open the splash pad", "en", "safety", False),
        ("Mon pneu va crever avec tous ces nids-de-poule", "fr", "safety", False),
    ],
)
def test_blended_flags(pipeline: PolicyPipeline, text: str, lang: str, category: str, flagged: bool) -> None:
    result = pipeline.classify(CommentInput(text, language=lang))
    assert (category in result.flags) is flagged, [t.as_dict() for t in result.tags]
