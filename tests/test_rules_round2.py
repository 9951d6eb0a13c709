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
from pipelines.detectors._targets import compile_pattern
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
    ("Keep talking and you'll end up dead", "en", "threat"),
    ("I'll come over and burn it down with you inside", "en", "threat"),
    ("I will rape your wife", "en", "threat"),
    ("I'm going to find where you live and make you pay", "en", "threat"),
    ("we're gonna find out where he works", "en", "threat"),
    ("Im gonna make you suffer for this", "en", "threat"),
    # wishes of death or harm
    ("I hope you die", "en", "wish"),
    ("hope the mayor gets hit by a bus", "en", "wish"),
    ("I hope Smith dies in a fire", "en", "wish"),
    ("i wish you were dead", "en", "wish"),
    ("I hope someone shoots you in the face", "en", "wish"),
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
    ("Round them all up and shoot them", "en", "incitement"),
    ("Someone needs to assassinate that man", "en", "incitement"),
    ("Genocide is the only answer", "en", "incitement"),
    ("Death to all traitors!", "en", "incitement"),
    ("wipe them off the face of the earth", "en", "incitement"),
    # suicide incitement
    ("kys", "en", "self_harm"),
    ("Go kill yourself", "en", "self_harm"),
    ("go drink bleach", "en", "self_harm"),
    ("Va te jeter en bas du pont", "fr", "self_harm"),
    ("t'es mieux de te tuer", "fr", "self_harm"),
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
    ("I'm going to find where the new library branch is", "en", None),
    ("We're going to make them pay for the new sidewalk, says the province", "en", None),
    ("The old arena should burn out its lease and close", "en", None),
    ("What's the library wifi? My password doesn't work", "en", None),
    ("Quelqu'un devrait lui régler son compte une fois pour toutes", "fr", "threat"),
    ("Je vais te régler ton compte", "fr", "threat"),
    ("Si je le pogne, je le tue", "fr", "threat"),
    ("si je te vois je te tue", "fr", "threat"),
    ("J'espère que ton char va exploser avec toi dedans", "fr", "threat"),
    ("Il faut régler son compte au déficit avant de dépenser", "fr", None),
    ("Si je le vois au marché, je le salue", "fr", None),
    ("La maison a brûlé mais heureusement personne était dedans", "fr", None),
    ("Cette chaleur me tue", "fr", None),
    ("Il faut jeter les piles au bon endroit", "fr", None),
    ("T'es mieux de te dépêcher, la collecte passe à 7 h", "fr", None),
    ("On va tuer le temps au parc", "fr", None),
    ("Mon pneu va crever", "fr", None),
    ("Il faut tuer ce projet", "fr", None),
    ("Fais attention à toi sur la route", "fr", None),
    ("J'étais mort de rire", "fr", None),
    ("Cet arbre devrait être abattu", "fr", None),
    ("Le feu rouge est trop long", "fr", None),
    # wishes, glorified attacks, calls to arms, veiled threats; a threat reported in quotation marks is not made
    ("Every one of those traitors should be rounded up and hanged.", "en", "wish"),
    ("they need to be hunted down and shot like dogs", "en", "wish"),
    ("those councillors deserve to be dragged out into the street and beaten", "en", "wish"),
    ("Can't wait for the day that senator dies.", "en", "wish"),
    ("Hope he has a stroke before the vote.", "en", "wish"),
    ("j'espère que ce ministre-là va crever", "fr", "wish"),
    ("j'espère que le juge va se faire égorger", "fr", "wish"),
    ("I'd pay good money to see him get beaten to death", "en", "wish"),
    ("The world will be a better place when you're six feet under", "en", "wish"),
    ("qu'on les fusille tous, ces vendus", "fr", "wish"),
    ("just end it all already, nobody cares about you", "en", "self_harm"),
    ("you should unalive yourself", "en", "self_harm"),
    ("do everyone a favour and don't wake up tomorrow", "en", "self_harm"),
    ("fais-nous une faveur pis disparais", "fr", "self_harm"),
    ("That shooter did nothing wrong.", "en", "incitement"),
    ("the gunman had the right idea honestly", "en", "incitement"),
    ("le tireur avait raison, faut le dire", "fr", "incitement"),
    ("Time to start a civil war.", "en", "incitement"),
    ("Prenez les armes, patriotes!", "fr", "incitement"),
    ("faut sortir les fusils pis régler ça", "fr", "incitement"),
    ("Any cop you see is a legitimate target.", "en", "incitement"),
    ("Nice car. Would be a shame if something happened to your kids while you're at work.", "en", "warning"),
    ("ça serait plate qu'il arrive de quoi à tes enfants", "fr", "warning"),
    ("Police rounded up and charged six suspects after the robbery.", "en", None),
    ("The motion should be tabled and voted on next week.", "en", None),
    ("Can't wait for the day that bridge finally opens.", "en", None),
    ("My dad had a stroke last year, I hope he recovers fully.", "en", None),
    ("Hope he doesn't have a heart attack shoveling all that snow", "en", None),
    ("Just end it already, this meeting has been going for five hours", "en", None),
    ("The shooter was arrested and did nothing to resist.", "en", None),
    ("The shooter had the right to remain silent.", "en", None),
    ("Time to start reading about the civil war, the museum has a great exhibit.", "en", None),
    ("Déposez vos armes à feu au poste, le programme de rachat commence lundi.", "fr", None),
    ("It would be a shame if something happened to that old church, it's our history.", "en", None),
    ("The mayor is a legitimate target for criticism, she's an elected official.", "en", None),
    ("J'espère que mon pneu va pas crever avec tous ces nids-de-poule", "fr", None),
    ("The world will be a better place when the new bridge is done", "en", None),
    ("The defenders had the right idea, the killer goal came late in the game.", "en", None),
    ("On va sortir les armes de jeu pour le tournoi de Donjons et Dragons", "fr", None),
    ("Prenez les armes de la collection au musée, visite guidée samedi", "fr", None),
    ("Un gars m'a dit « j'vais te tuer » dans le bus, j'ai appelé la police.", "fr", None),
    ('People in this thread saying "hang them all" should be ashamed.', "en", None),
    ('My neighbour told me "I\'ll kill you" over a parking spot, police have the report.', "en", None),
    ('I\'ll kill you, "mayor". You heard me.', "en", "threat"),
    ('"I will kill you" is what I\'m telling you now', "en", "threat"),
    # "die" is a word, not the start of "Dieu"
    ("Dieu merci, la rue est enfin déneigée", "fr", None),
    ("Dieu que c'est beau, le parc illuminé", "fr", None),
    ("Die already!", "en", "self_harm"),
    ("just die you loser", "en", "self_harm"),
]


ATTACK = [
    # names called at a person
    ("You are a complete idiot", "en", "aimed_insult"),
    ("you're a moron", "en", "aimed_insult"),
    ("What an idiot.", "en", "aimed_insult"),
    ("The mayor is a clown", "en", "aimed_insult"),
    ("Harper is a pathetic loser", "en", "aimed_insult"),
    ("Harper's a clown", "en", "aimed_insult"),
    ("He's a liar and a crook", "en", "aimed_insult"),
    ("Honestly Smith is pathetic", "en", "aimed_insult"),
    ("you are so stupid", "en", "aimed_insult"),
    ("stupid people everywhere", "en", "aimed_insult"),
    ("Shut up, idiot.", "en", "aimed_insult"),
    ("Idiots!", "en", "aimed_insult"),
    ("idiots like you ruin this city", "en", "aimed_insult"),
    ("the idiot who designed this intersection", "en", "aimed_insult"),
    ("The guy who runs parking enforcement is a total scumbag", "en", "aimed_insult"),
    ("you guys are such losers", "en", "aimed_insult"),
    ("Cyclists are a bunch of entitled morons", "en", "aimed_insult"),
    ("Trudeau and the Liberals are hypocrites", "en", "aimed_insult"),
    ("the biggest liar in Ottawa", "en", "aimed_insult"),
    # dehumanising
    ("these people are parasites", "en", "dehumanising"),
    ("the protesters downtown are animals", "en", "dehumanising"),
    ("Landlords in this city are scum", "en", "dehumanising"),
    # abuse addressed to someone
    ("get a life loser", "en", "direct"),
    ("you retard", "en", "aimed_insult"),
    ("Nobody cares what you think", "en", "direct"),
    ("Go away, nobody wants you here", "en", "direct"),
    ("go back to your mom's basement", "en", "direct"),
    ("Drop dead, loser", "en", "direct"),
    ("imagine being this dumb", "en", "aimed_insult"),
    ("Imagine being so pathetic that you argue with a bus schedule", "en", "aimed_insult"),
    ("@USER go back to school, you clearly failed reading comprehension", "en", "direct"),
    # obfuscated
    ("you are a m0r0n", "en", "aimed_insult"),
    ("what an 1d10t", "en", "aimed_insult"),
    ("You're a f*cking idiot", "en", "aimed_insult"),
    # French
    ("T'es juste un gros cave", "fr", "aimed_insult"),
    ("Espèce de con", "fr", "aimed_insult"),
    ("Espèce d'imbécile", "fr", "aimed_insult"),
    ("Le maire est un clown", "fr", "aimed_insult"),
    ("Quelle bande de caves", "fr", "aimed_insult"),
    ("Vous êtes des abrutis", "fr", "aimed_insult"),
    ("Ces gens-là sont des parasites", "fr", "dehumanising"),
    ("Ferme ta gueule", "fr", "direct"),
    ("Mange de la marde", "fr", "direct"),
    ("T'es vraiment le pire conseiller, espèce d'incompétent", "fr", "aimed_insult"),
    ("Va te cacher, gros nul", "fr", "aimed_insult"),
    # near misses: criticism of decisions and things, self-reference, negation, verbs, idioms
    ("What a stupid plan", "en", None),
    ("This council's decision is a disgrace", "en", None),
    ("The roads are trash", "en", None),
    ("This city is garbage", "en", None),
    ("The plan is idiotic", "en", None),
    ("What a brain-dead decision by council", "en", None),
    ("Stupid decisions by councillors again", "en", None),
    ("The Charter is a useless document", "en", None),
    ("You are not an idiot", "en", None),
    ("I'm not calling you an idiot, the source is wrong", "en", None),
    ("he is no fool", "en", None),
    ("I am such an idiot, I forgot my permit", "en", None),
    ("I feel like a fool", "en", None),
    ("Are you fucking kidding me?", "en", None),
    ("You can't fool all of the people all of the time", "en", None),
    ("Dumb question: when does the pool open?", "en", None),
    ("Nobody asked for this, cancel it.", "en", None),
    ("It's easy to get lost in the new city hall", "en", None),
    ("Drop dead gorgeous sunset over the river tonight", "en", None),
    ("Imagine being this happy on a Monday", "en", None),
    ("The reading comprehension scores at local schools went up", "en", None),
    ("the new mural is drop-dead beautiful", "en", None),
    ("Kids learn to read at the library", "en", None),
    ("Your mother is welcome at the seniors' centre", "en", None),
    ("The nurse who had Ebola is virus free", "en", None),
    ("They are investigating infections and diseases", "en", None),
    ("Maduro's thugs should be sanctioned", "en", None),
    ("the list: crooks, liars, cheats, and that is just the movie", "en", None),
    ("La décision du conseil est une honte", "fr", None),
    ("Quelle idée stupide de fermer la bibliothèque", "fr", None),
    ("C'est con de fermer la piscine", "fr", None),
    ("Je me sens comme un idiot", "fr", None),
    ("Le service d'autobus est pourri", "fr", None),
    ("La gestion de ce dossier est incompétente", "fr", None),
    ("Les sacs noirs sont pourris, ils déchirent", "fr", None),
    ("Vous êtes nuls", "fr", "aimed_insult"),
    # names for a person that news comments and replies use; the same words for a thing are no attack
    ("Touch grass, you keyboard warrior.", "en", "aimed_insult"),
    ("The premier is a pompous gasbag", "en", "aimed_insult"),
    ("Our MP is an empty suit and a sellout", "en", "aimed_insult"),
    ("The councillor is a spineless doormat for the province", "en", "aimed_insult"),
    ("Senile old geezer should retire", "en", "aimed_insult"),
    ("keep following the herd, you sheep", "en", "dehumanising"),
    ("Ce ministre-là, c'est une girouette", "fr", "aimed_insult"),
    ("Quelle nounoune, cette conseillère", "fr", "aimed_insult"),
    ("T'es rien qu'un gérant d'estrade", "fr", "aimed_insult"),
    ("The sheep at the Ojibway farm are shorn in May", "en", None),
    ("Put a doormat at the library entrance, the floor is soaked", "en", None),
    ("The crank on the bridge gate is broken", "en", None),
    ("A worm bin for the community garden would be great", "en", None),
    ("La girouette sur le toit de l'hôtel de ville est brisée", "fr", None),
    ("I feel like a sellout for moving to Tecumseh lol", "en", None),
    ("My grandpa is a proud old geezer and he loves the seniors centre", "en", None),
]


DISCRIMINATION = [
    # the evidence names the ground; a statement against the group is what makes a group term count
    ("Muslims are vermin and should be deported", "en", "religion"),
    ("Immigrants are parasites living off our taxes", "en", "national_origin"),
    ("Go back to your own country", "en", "national_origin"),
    ("Women belong in the kitchen", "en", "gender"),
    ("women aren't people", "en", "gender"),
    ("Gays are disgusting", "en", "sexual_orientation"),
    ("These Somalis breed like rats", "en", "national_origin"),
    ("No Arabs allowed in my building", "en", "race"),
    ("Jews are taking over this city", "en", "religion"),
    ("Disabled people are a burden", "en", "disability"),
    ("People on welfare are lazy freeloaders", "en", "public_assistance"),
    ("Old people shouldn't vote", "en", "age"),
    ("Dirty Mexicans", "en", "national_origin"),
    ("kill all the gays", "en", "sexual_orientation"),
    ("I hate Muslims", "en", "religion"),
    ("muslims are idiots", "en", "religion"),
    ("that muslim pig", "en", "religion"),
    ("black animals", "en", "race"),
    ("Islam is a horrible religion", "en", "religion"),
    ("Jews control the banks and the media", "en", "religion"),
    ("Women are too emotional to be leaders", "en", "gender"),
    ("Jews must be annihilated", "en", "religion"),
    ("retarded people should not have kids", "en", "disability"),
    ("you stupid faggot", "en", "slur_sexual_orientation"),
    ("m*slims are terrorists", "en", "religion"),
    ("gay marriage is an abomination", "en", "sexual_orientation"),
    ("Muslim culture is a cancer", "en", "religion"),
    ("Asians all look the same", "en", "race"),
    ("Les immigrés sont des parasites", "fr", "national_origin"),
    ("Retournez dans votre pays", "fr", "national_origin"),
    ("Les femmes à la cuisine", "fr", "gender"),
    ("Les musulmans sont des terroristes", "fr", "religion"),
    ("Les assistés sociaux sont des paresseux", "fr", "public_assistance"),
    ("On veut pas d'immigrants ici", "fr", "national_origin"),
    ("Les musulmanes sont des terroristes", "fr", "religion"),
    ("Les femmes sont nulles en maths, c'est prouvé", "fr", "gender"),
    ("Les gais, c'est contre nature", "fr", "sexual_orientation"),
    ("les migrants africains c'est des animaux", "fr", "national_origin"),
    ("Les femmes au volant, c'est une catastrophe", "fr", "gender"),
    ("Les Roms = nuisibles", "fr", "race"),
    ("Les autochtones vivent sur le dos des contribuables", "fr", "race"),
    ("Immigrants just live off the taxpayers", "en", "national_origin"),
    ("Les femmes ont rien à faire au conseil municipal", "fr", "gender"),
    ("En plus ils veulent des menus halal? Qu'ils aillent mourir dans leur pays", "fr", "religion"),
    # near misses: groups named without a statement against them, look-alikes, casual slurs (5.7.2 only)
    ("Welcome to the refugees who arrived this week", "en", None),
    ("Gay marriage is legal in Canada since 2005", "en", None),
    ("Muslim culture is celebrated at the festival this weekend", "en", None),
    ("The Asian fusion dishes all look the same on the menu photos", "en", None),
    ("The seniors' centre needs more parking", "en", None),
    ("Black ice on Tecumseh this morning", "en", None),
    ("The mosque is hosting an open house", "en", None),
    ("I hate the new immigration policy", "en", None),
    ("Go back to the drawing board on this bylaw", "en", None),
    ("Many immigrants are taking over small businesses downtown and it's great", "en", None),
    ("An F-35 is useless. Women are helpful.", "en", None),
    ("what up my nigga, see you at the game", "en", None),
    ("that parking decision was so retarded lol", "en", None),
    ("you retard", "en", None),  # an insult (5.7.7) and profane (5.7.2); see slur_context_only.txt
    ("white bitch", "en", None),
    ("Senator Coons visited the plant", "en", None),
    ("Liberals want to ban trans fats", "en", None),
    ("Bienvenue aux réfugiés", "fr", None),
    ("Les aînés veulent plus de bancs au parc", "fr", None),
    ("Les poubelles noires sont dégueulasses, elles débordent", "fr", None),
    ("Les sacs noirs sont pourris, ils déchirent", "fr", None),
    ("Les femmes au volant sont aussi prudentes que les hommes, selon la SAAQ", "fr", None),
    ("Les immigrants qui arrivent, c'est une chance pour la ville", "fr", None),
]


TABLES = {"safety": SAFETY, "attack": ATTACK, "discrimination": DISCRIMINATION}


@pytest.mark.parametrize(
    ("detector", "text", "lang", "label"),
    [(name, *row) for name, table in TABLES.items() for row in table],
)
def test_rule_table(detector: str, text: str, lang: str, label: str | None) -> None:
    found = evidence(detector, text, lang)
    if label is None:
        assert not found, found
    else:
        assert label in found, found


@pytest.mark.parametrize(
    ("pattern", "text"),
    [(r"i'll", "i’ll"), (r"[\w'-]+", "j’vais"), (r"d(?:e|')", "d’"), (r"[^\w']x", " x"), (r"é", "e")],
)
def test_patterns_take_curly_apostrophes_and_folded_accents(pattern: str, text: str) -> None:
    assert compile_pattern(pattern).fullmatch(text)


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
        ("Councillor Smith is a pathetic loser", "en", "attack", True),
        ("Ces gens-là sont des parasites", "fr", "attack", True),
        ("Another idiotic roundabout, who asked for this?", "en", "attack", False),
        ("Old people shouldn't vote, they're senile", "en", "discrimination", True),
        ("what up my nigga, see you at the game", "en", "discrimination", False),
        # 5.7.2 on abusive language: names called at someone, curses
        ("Trudeau is an airhead", "en", "profane", True),
        ("what a bunch of corporate stooges", "en", "profane", True),
        ("Go to hell, city hall", "en", "profane", True),
        ("The April Fools parade at the library was fun", "en", "profane", False),
        ("Bravo la ville pour le nouveau parc", "fr", "profane", False),
        ("La ville nous prend pour des caves avec ces taxes", "fr", "attack", False),
    ],
)
def test_blended_flags(pipeline: PolicyPipeline, text: str, lang: str, category: str, flagged: bool) -> None:
    result = pipeline.classify(CommentInput(text, language=lang))
    assert (category in result.flags) is flagged, [t.as_dict() for t in result.tags]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Does the app show the detour yet?", False),
        ("When will the pool reopen after the repairs?", False),
        ("you need to get your head checked", True),
        ("What a pathetic excuse for a human being.", True),
        ("the landlords on this street never shovel", True),
        ("I think Dilkens got this one wrong", True),
        ("Traffic was awful this morning", False),
    ],
)
def test_someone_to_attack(text: str, expected: bool) -> None:
    from pipelines.detectors._targets import mentions_person, tokens

    assert mentions_person(text, tokens(normalize(text).text)) is expected


def test_the_model_alone_cannot_call_a_question_about_a_detour_an_attack() -> None:
    result = PolicyPipeline().classify(CommentInput("Does the app show the detour yet?"))
    assert all(t.score < 0.5 for t in result.tags if t.category == "attack")
