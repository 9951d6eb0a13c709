"""Every clause's detector, as tables of hits, near misses and obfuscations, in English and French."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.pipeline import Classification, PolicyPipeline
from pipelines.training.evaluate import evaluate_rows
from pipelines.types import CommentInput

POST = "Snow clearing update: crews are plowing main roads first, then residential streets within 48 hours."


@pytest.fixture(scope="module")
def pipeline() -> PolicyPipeline:
    return PolicyPipeline()


def run(pipeline: PolicyPipeline, text: str, lang: str | None = None, context: str | None = None) -> Classification:
    return pipeline.classify(CommentInput(text, context=context, language=lang))


CASES = [
    # 5.7.2 profanity, with obfuscation, and the Scunthorpe problem
    ("profane", "This is fucking ridiculous", "en", True),
    ("profane", "What a load of sh!t", "en", True),
    ("profane", "f u c k this", "en", True),
    ("profane", "F*CK the potholes", "en", True),
    ("profane", "You absolute moron", "en", True),
    ("profane", "Putain de nids-de-poule", "fr", True),
    ("profane", "Scunthorpe and Essex are lovely in spring", "en", False),
    ("profane", "The assessment was done at Dick Street", "en", False),
    # the farmyard and the lost-pet sense of the same words, beside the vulgar one
    ("profane", "The neighbour's cock crows at 5 every morning, is there a bylaw on roosters?", "en", False),
    ("profane", "hey pussy cat, come over tonight", "en", True),  # beside "cat" it is mostly the pun
    ("sexual", "Ma chatte est perdue depuis hier, elle est grise et tigrée", "fr", False),
    ("sexual", "Chatte stérilisée à adopter au refuge de Windsor", "fr", False),
    ("sexual", "Montre-moi ta chatte", "fr", True),
    ("profane", "suck my cock", "en", True),
    ("sexual", "Viens me rejoindre en privé pour des photos sexy", "fr", True),
    ("sexual", "DM me for sexy pics", "en", True),
    ("sexual", "That new bike lane is looking sexy", "en", False),
    # a surname in a street's name is a place residents report a problem on
    ("sexual", "There is a huge pothole on Hooker Rd near the school", "en", False),
    ("profane", "The bus stop on Dyke Road is flooded again", "en", False),
    ("sexual", "Il y a un nid-de-poule énorme sur la rue Hooker", "fr", False),
    ("sexual", "the hooker on the corner of Elm Street", "en", True),
    # asking someone for pictures of them unclothed
    ("sexual", "Envoie-moi des photos de toi toute nue", "fr", True),
    ("sexual", "send me a pic of yourself naked", "en", True),
    ("sexual", "Send me pictures of the bare trees on Riverside, they look naked in winter", "en", False),
    ("discrimination", "Les immigrants, ça vient juste voler nos jobs", "fr", True),
    ("discrimination", "Les robots vont voler nos jobs, c'est inquiétant", "fr", False),
    ("profane", "What the hell is going on with the buses", "en", False),
    ("profane", "Great cocktail night at the gallery", "en", False),
    # 5.7.3 discrimination names the ground
    ("discrimination", "Muslims are vermin and should be deported", "en", True),
    ("discrimination", "Immigrants don't belong here, send them all back", "en", True),
    ("discrimination", "Les immigrés sont des criminels", "fr", True),
    ("discrimination", "The seniors' centre needs more parking", "en", False),
    ("discrimination", "Welcome to the refugees who arrived this week", "en", False),
    # 5.7.4 sexual
    ("sexual", "Hot singles near you, send nudes", "en", True),
    ("sexual", "Free videos at pornhub.com", "en", True),
    ("sexual", "The sexual health clinic has new hours", "en", False),
    ("sexual", "Breast cancer screening this Saturday", "en", False),
    # 5.7.5 illegal
    ("illegal", "Selling weed and xanax, DM me", "en", True),
    ("illegal", "Let's vandalize the new mural tonight", "en", True),
    ("illegal", "Someone is dumping illegally behind the plaza, please send bylaw", "en", False),
    # 5.7.6 commercial
    ("commercial", "Buy cheap followers now at bit.ly/x7, DM me", "en", True),
    ("commercial", "Earn $500 a day working from home with crypto, message me", "en", True),
    ("commercial", "Register for summer camps at citywindsor.ca/camps", "en", False),
    ("commercial", "When does the pool open?", "en", False),
    # 5.7.7 attack vs criticism
    ("attack", "You are a complete idiot", "en", True),
    ("attack", "Shut up, nobody cares what you think", "en", True),
    ("attack", "This council's decision is a disgrace", "en", False),
    ("attack", "Worst snow removal ever, fix the roads!", "en", False),
    ("attack", "La décision du conseil est une honte", "fr", False),
    # 5.7.7 political
    ("political", "Vote Conservative, axe the tax!", "en", True),
    ("political", "Re-elect the Liberals this October", "en", True),
    ("political", "Does the provincial funding cover the bridge?", "en", False),
    # 5.7.8 safety
    ("safety", "I'm going to shoot the mayor", "en", True),
    ("safety", "The back door of the water plant is never locked", "en", True),
    ("safety", "Il faut brûler l'hôtel de ville", "fr", True),
    ("safety", "This traffic is killing me", "en", False),
    ("safety", "Shoot me an email about the schedule", "en", False),
    # 5.7.9 private information
    ("private_info", "Call my neighbour at 519-974-2213", "en", True),
    ("private_info", "his email is john.smith@gmail.com", "en", True),
    ("private_info", "SIN 130 692 544 on the form", "en", True),
    ("private_info", "SIN 046 454 286 (never issued: starts with 0)", "en", False),
    ("private_info", "card 4111 1111 1111 1111 exp 12/29", "en", True),
    ("private_info", "She lives at 1234 Ouellette Ave, N9A 5K6", "en", True),
    ("private_info", "Mon numéro est le 519-974-2213", "fr", True),
    ("private_info", "SIN 130 692 545 fails the checksum", "en", False),
    ("private_info", "The meeting is at 7 pm on March 3, 2026", "en", False),
    ("private_info", "Call 311 or 519-255-6100 for the city", "en", False),
    # 5.5 council
    ("council", "Will the mayor answer our petition?", "en", True),
    ("council", "J'ai écrit à ma conseillère municipale", "fr", True),
    ("council", "My son joined the student council", "en", False),
    ("council", "Talk to legal counsel first", "en", False),
    # French (Canada) and obfuscated forms for every clause
    ("profane", "T a b a r n a k, encore des travaux", "fr", True),
    ("profane", "La collecte des ordures est en retard", "fr", False),
    ("discrimination", "Les assistés sociaux sont des profiteurs", "fr", True),
    ("discrimination", "Les femmes ne devraient pas conduire les autobus", "fr", True),
    ("discrimination", "Les aînés veulent rester chez eux", "fr", False),
    ("sexual", "Cherche plan cul ce soir, écris-moi", "fr", True),
    ("sexual", "On habite dans un cul-de-sac jamais déneigé", "fr", False),
    ("sexual", "Police escort for the parade on Saturday", "en", False),
    ("illegal", "J'ai du pot à vendre, livraison à Windsor", "fr", True),
    ("illegal", "S3ll1ng w33d and p3rcs, dm me", "en", True),
    ("illegal", "On m'a volé mon vélo, appelez la police", "fr", False),
    ("commercial", "Gagnez de l'argent avec la cryptomonnaie, écrivez-moi en privé", "fr", True),
    ("commercial", "Recovery expert helped me recover my funds, message him on WhatsApp", "en", True),
    ("commercial", "Inscription aux camps d'été sur activewindsor.ca", "fr", False),
    ("attack", "T'es juste un gros cave", "fr", True),
    ("attack", "Nobody asked for this, cancel it.", "en", False),
    ("political", "Votez NPD le 28 avril!", "fr", True),
    ("political", "Vote Jane Doe for Ward 3 on October 24!", "en", True),
    ("political", "Vote them all out next election, this council is useless", "en", False),
    # a reminder to vote takes no side (political_neutral.jsonl teaches the head so)
    ("political", "Polls close at 8 tonight, still time to cast your ballot", "en", False),
    ("political", "Please vote, it only takes ten minutes", "en", False),
    ("political", "Vote in the municipal election on October 24, polls open at 10", "en", False),
    ("safety", "Je vais te tuer mon hostie", "fr", True),
    ("safety", "There's a hole in the fence at the pump station, anyone can walk in", "en", True),
    ("safety", "Cette chaleur me tue", "fr", False),
    ("private_info", "Jean Tremblay a le cancer, priez pour lui", "fr", True),
    ("private_info", "Le budget est de 2 500 000 $", "fr", False),
    ("council", "Le maire Dilkens doit répondre", "fr", True),
    ("council", "Le conseil scolaire a fermé l'école", "fr", False),
    ("council", "@drewdilkens when will Wyandotte be fixed?", "en", True),
]


@pytest.mark.parametrize(("category", "text", "lang", "flagged"), CASES)
def test_clause_table(pipeline: PolicyPipeline, category: str, text: str, lang: str, flagged: bool) -> None:
    result = run(pipeline, text, lang)
    assert (category in result.flags) is flagged, [t.as_dict() for t in result.tags]
    if flagged:
        tag = max((t for t in result.tags if t.category == category), key=lambda t: t.score)
        assert tag.spans, "a flag carries evidence"
        assert all(0 <= s.start < s.end <= len(text) for s in tag.spans)


def test_private_info_spans_carry_their_type(pipeline: PolicyPipeline) -> None:
    text = "Email jane.doe@example.ca or call 519-974-2213; she lives at 1234 Ouellette Ave, N9A 5K6"
    tags = [t for t in run(pipeline, text).tags if t.category == "private_info"]  # one per kind of finding
    found = {text[s.start : s.end]: s.label for t in tags for s in t.spans}
    assert found["519-974-2213"] == "PHONE"
    assert found["N9A 5K6"] == "POSTAL_CODE"
    assert any(lab == "STREET_ADDRESS" and "Ouellette" in t for t, lab in found.items())
    assert {t.clause for t in tags} == {"5.7.9"}


@pytest.mark.parametrize(
    ("text", "lang", "ground"),
    [
        ("Muslims are vermin and should be deported", "en", "religion"),
        ("Black people are the problem", "en", "race"),
        ("People of colour don't belong here", "en", "colour"),
        ("Atheists are inferior", "en", "creed"),
        ("Old people shouldn't drive", "en", "age"),
        ("Women belong in the kitchen", "en", "gender"),
        ("Single mothers are a burden", "en", "marital_status"),
        ("People on welfare are lazy freeloaders", "en", "public_assistance"),
        ("Immigrants are taking over Windsor", "en", "national_origin"),
        ("The disabled are a burden", "en", "disability"),
        ("I hate gays", "en", "sexual_orientation"),
        ("Retarded people should not have kids", "en", "disability"),
        ("Les gais sont des malades", "fr", "sexual_orientation"),
        ("Les autochtones doivent retourner chez eux", "fr", "race"),
        # French slurs the ground list once lacked (reported "unspecified") or the lexicon did not hold
        ("Encore un youpin au conseil", "fr", "religion"),
        ("Regarde les deux tafioles au parc", "fr", "sexual_orientation"),
        ("Un travelo à la bibliothèque, sérieux", "fr", "gender"),
        ("Les chinetoques du dépanneur", "fr", "race"),
        ("Un mongolien au volant", "fr", "disability"),
    ],
)
def test_discrimination_tag_names_the_ground(pipeline: PolicyPipeline, text: str, lang: str, ground: str) -> None:
    result = run(pipeline, text, lang)
    assert "discrimination" in result.flags
    tag = next(t for t in result.tags if t.category == "discrimination")
    assert ground in tag.detail


def test_offtopic_needs_context_and_says_so(pipeline: PolicyPipeline) -> None:
    no_context = run(pipeline, "My cat had kittens, anyone want one?")
    tag = next(t for t in no_context.tags if t.category == "offtopic")
    assert tag.score == 0.0 and "not judged" in tag.detail
    assert "offtopic" in run(pipeline, "My cat had kittens, anyone want one? Go Leafs!", context=POST).flags
    assert "offtopic" not in run(pipeline, "When will the plows reach residential streets?", context=POST).flags


@pytest.mark.parametrize(
    ("text", "person"),
    [
        ("Dilkens needs to explain this budget", "Mayor Drew Dilkens"),
        ("Le maire Dilkens a tort", "Mayor Drew Dilkens"),
        ("Councillor Gignac never answers", "Councillor, Ward 6 Jo-Anne Gignac"),
        ("Will the mayor answer?", "Mayor"),
    ],
)
def test_bundled_policy_names_windsor_office_holders(pipeline: PolicyPipeline, text: str, person: str) -> None:
    tag = next(t for t in run(pipeline, text).tags if t.category == "council")
    assert tag.extra["person"] == person and tag.clause == "5.5"


def test_repeated_promotional_text_is_a_campaign(tmp_path: pytest.TempPathFactory) -> None:
    """A shop's link with its praise is already an ad (5.7.6); pasted a third time it is a campaign too."""
    text = "Best wings in town, open late every night on Tecumseh: joeswings.com"
    p = PolicyPipeline()
    tags = [next(t for t in r.tags if t.category == "commercial") for r in p.classify_batch([text] * 3)]
    labels = [{s.label for s in t.spans} for t in tags]
    assert ["repeated" in x for x in labels] == [False, False, True]
    assert tags[0].score == tags[1].score and tags[2].score >= max(0.8, tags[0].score + 0.2)


def test_a_comment_read_again_is_not_a_repeat_of_itself() -> None:
    """The worker reads a comment again after a rebalance or a resync (at-least-once input) and classifies
    it again; that must not count as the same text posted again, or a resident's ordinary comment read
    three times lands in the review queue as a 5.7.6 campaign. Three comments with one text still are."""
    text = "The new bike lane on Ouellette is great, my commute is ten minutes shorter now."
    p = PolicyPipeline()
    again = [p.classify(CommentInput(text, source_id="x:1")) for _ in range(4)]
    assert not any(r.flagged for r in again)
    assert len({next((t.score for t in r.tags if t.category == "commercial"), 0.0) for r in again}) == 1
    p.forget()
    pasted = [p.classify(CommentInput(text, source_id=f"x:{i}")) for i in range(3)]
    assert [any(s.label == "repeated" for t in r.tags for s in t.spans) for r in pasted] == [False, False, True]
    replayed = p.classify(CommentInput(text, source_id="x:0"))  # the first of them, read again
    assert replayed.tags == pasted[0].tags


def test_scoring_the_same_rows_again_does_not_make_them_a_campaign() -> None:
    """5.7.6 remembers recent texts across comments; every evaluation pass must start with an empty memory,
    or the folds, the before model and the cascade, scoring the same rows in turn, see them as repeated."""
    text = "Photos from saturday's game at the arena are up here http://myblog.example.net/photos/1234"
    rows = [{"id": f"r{i}", "text": text, "labels": {"commercial": 0}} for i in range(2)]
    pipeline = PolicyPipeline()
    first = evaluate_rows(pipeline, rows, "", "").categories["commercial"]
    again = [evaluate_rows(pipeline, rows, "", "").categories["commercial"] for _ in range(2)]
    assert first.fp == 0, "twice is not yet a campaign"
    assert [c.fp for c in again] == [0, 0]


def test_council_forward_names_the_person(tmp_path: pytest.TempPathFactory) -> None:
    import spacy

    from pipelines.base import Comment
    from pipelines.detectors.council import CouncilDetector

    detector = CouncilDetector(
        {
            "mayor": {"name": "Alex Example", "handles": ["@MayorExample"]},
            "councillors": [{"name": "Sam Sample", "ward": 3, "handles": []}],
        }
    )
    nlp = spacy.blank("xx")
    tags = detector.detect(Comment(nlp.make_doc("Councillor Sample and @MayorExample, fix Ward 3!")))
    assert tags and tags[0].extra["persons"][:2] == ["Councillor, Ward 3 Sam Sample", "Mayor Alex Example"]


def test_criticism_of_the_city_is_not_an_attack(pipeline: PolicyPipeline) -> None:
    import orjson

    from tests.conftest import REPO

    rows = [orjson.loads(line) for line in (REPO / "tests" / "data" / "criticism.jsonl").read_bytes().splitlines()]
    results = pipeline.classify_batch([CommentInput(r["text"], language=r["lang"]) for r in rows])
    flagged = sum(1 for r in results if "attack" in r.flags or "political" in r.flags)
    assert flagged / len(rows) <= 0.05, [r["text"] for r, res in zip(rows, results, strict=False) if res.flags]


def test_term_lists_from_the_policy_file(tmp_path: pytest.TempPathFactory) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "p.yaml"
    path.write_text(
        "name: t\nversion: '1'\nrules:\n"
        "  - {clause: '5.7.10', category: ownership, detector: termlist, threshold: 0.5, action: review,"
        " settings: {terms: ['leaked photos', {pattern: 'copyright\\s+\\d{4}', label: claim}]}}\n",
        encoding="utf-8",
    )
    p = PolicyPipeline(path)
    result = p.classify("Here are the LEAKED photos, copyright 2024 Studio X")
    tag = result.tags[0]
    assert result.flags == ("ownership",) and tag.clause == "5.7.10"
    assert {s.label for s in tag.spans} == {"term", "claim"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=2000))
def test_no_text_crashes_the_pipeline_or_escapes_it(pipeline: PolicyPipeline, text: str) -> None:
    result = pipeline.classify(CommentInput(text, context="Road work on Tecumseh"))
    for tag in result.tags:
        assert 0.0 <= tag.score <= 1.0
        assert all(0 <= s.start <= s.end <= len(text) for s in tag.spans)


@pytest.mark.parametrize(
    "text",
    ["\u202e" * 5000, "🔥" * 20000, "a\u0301" * 10000, "x" * 200_000, "\ud800 lone surrogate", "\x00\x01\x02"],
)
def test_hostile_text_is_handled(pipeline: PolicyPipeline, text: str) -> None:
    result = pipeline.classify(text)
    assert isinstance(result.flags, tuple)


FRENCH_AGAINST_A_GROUP = [
    # what is said of the group: "c'est tous des", "ne sont que des", and the words French uses for it
    ("Les Roms c'est tous des voleurs pis des menteurs", True),
    ("Les immigrés ne sont que des profiteurs du système", True),
    ("Les Haïtiens sont tous des fainéants", True),
    ("les arabes sont des barbares, point final", True),
    ("Les juifs sont des escrocs, tout le monde le sait", True),
    ("Les autochtones sont des assistés", True),
    ("Les homosexuels sont une menace pour nos enfants", True),
    ("Les musulmans sont incompatibles avec nos valeurs", True),
    # exclusion and denial of rights
    ("Les immigrés n'ont rien à faire ici", True),
    ("Les réfugiés, qu'ils retournent chez eux", True),
    ("Il faut expulser les musulmans du pays", True),
    ("Les femmes ne devraient pas avoir le droit de voter", True),
    ("Les immigrés nous envahissent et volent nos logements", True),
    # the same words without a statement against a group
    ("Les immigrés ne sont pas tous des profiteurs, arrêtez de généraliser", False),
    ("Dire que les musulmans sont des barbares, c'est du racisme", False),
    ("Les voleurs de vélos n'ont rien à faire ici, appelez la police", False),
    ("Les nouveaux arrivants ont droit aux cours de français gratuits", False),
    ("Les aînés du quartier demandent un banc à l'arrêt d'autobus", False),
    ("Ce sont tous des bénévoles, merci à eux pour la fête des voisins", False),
    # the group named by its religion, its practice or its migration, beside a trope of French hostility
    ("Avec toutes ces mosquées on assiste à l'islamisation du quartier", True),
    ("Des burqas partout dans les écoles, c'est une invasion tranquille", True),
    ("L'immigration de masse, c'est le grand remplacement, réveillez-vous", True),
    ("Ils viennent juste pour les allocs, l'immigration coûte une fortune", True),
    ("Pas de halal à la cafétéria : s'ils sont pas contents, qu'ils retournent au bled", True),
    # the same tropes denied, quoted or refuted
    ("Il n'y a pas d'invasion : les immigrants sont 2 % de la population du quartier", False),
    ("Parler d'« invasion » pour trois familles de réfugiés, franchement", False),
    ("On traite les musulmans de terroristes en puissance, c'est de l'amalgame", False),
    ("Le ramadan commence ce soir, le centre communautaire sert l'iftar à 20 h", False),
    ("Cours de français pour immigrants : inscriptions au centre Saint-Joseph jusqu'au 15", False),
    # slang names of a group, and the kitchen in French
    ("Les feujs contrôlent tous les médias, réveillez-vous", True),
    ("Les femmes c'est fait pour la cuisine, pas pour le conseil", True),
    ("Le local du sous-sol est fait pour la cuisine communautaire", False),
    # pests, predators, "a race of ...", and exclusion as Québec French says it (no "ne")
    ("Les gitans c'est des nuisibles, point", True),
    ("Les trans sont des prédateurs qui veulent entrer dans nos vestiaires", True),
    ("Les Chinois sont une race de tricheurs", True),
    ("Les immigrés devraient être interdits dans nos quartiers", True),
    ("Les réfugiés, il faut tous les renvoyer", True),
    ("Les musulmans devraient pas avoir le droit de construire une mosquée ici", True),
    ("Les pigeons sont des nuisibles, la ville devrait installer des pics sur le pont", False),
    ("Les chiens devraient être interdits dans les jeux d'eau, c'est une question d'hygiène", False),
    ("Les nids-de-poule, il faut tous les boucher avant l'hiver", False),
]


@pytest.mark.parametrize(("text", "flagged"), FRENCH_AGAINST_A_GROUP)
def test_french_statements_against_a_group(pipeline: PolicyPipeline, text: str, flagged: bool) -> None:
    """5.7.3 in French rests on the rules (the dev sources that teach the model are English): what is
    said of a group, exclusion and denial of rights, each with the group named; counter-speech that
    repeats a stereotype to refute it is not one."""
    result = run(pipeline, text, "fr")
    tags = [t for t in result.tags if t.category == "discrimination"]
    pattern = any(s.label == "pattern" for t in tags for s in t.spans)
    assert pattern is flagged, [t.as_dict() for t in tags]
    assert ("discrimination" in result.flags) is flagged, [t.as_dict() for t in tags]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Not all muslims are terrorists", "en"),
        ("Saying that immigrants are criminals is racist and you know it", "en"),
        ("Stop claiming the jews control the banks, it's an old antisemitic myth", "en"),
        ("Ce ne sont pas tous les immigrés qui sont des profiteurs", "fr"),
        ("Arrêtez de dire que les Haïtiens sont des fainéants, c'est faux", "fr"),
        ("Some guy called me a dirty arab at the bus stop, that is unacceptable", "en"),
        ("Ma voisine s'est fait traiter de sale juive à l'épicerie, c'est inacceptable", "fr"),
    ],
)
def test_counter_speech_is_not_a_statement_against_the_group(pipeline: PolicyPipeline, text: str, lang: str) -> None:
    """Counter-speech repeats the stereotype it denies or refutes; the rules give it no 5.7.3 evidence, and
    the model, which reads the stereotype and not the "not all", does not flag it alone."""
    result = run(pipeline, text, lang)
    tags = [t for t in result.tags if t.category == "discrimination"]
    assert not any(s.label == "pattern" for t in tags for s in t.spans), [t.as_dict() for t in tags]
    assert "discrimination" not in result.flags, [t.as_dict() for t in tags]


@pytest.mark.parametrize(
    "text",
    [
        "Muslims are terrorists, stop pretending otherwise",
        "Not all of them lie, but immigrants are criminals",
        "Les immigrés sont des criminels, arrêtez de me contredire",
        "I say muslims are terrorists and it's wrong to pretend otherwise",
        "I think immigrants are criminals, stop letting them in",
    ],
)
def test_a_refutation_word_alone_does_not_excuse_a_statement(pipeline: PolicyPipeline, text: str) -> None:
    tags = [t for t in run(pipeline, text).tags if t.category == "discrimination"]
    assert any(s.label == "pattern" for t in tags for s in t.spans), [t.as_dict() for t in tags]
