"""The shipped int8 sentence encoder: parity with the numpy reference, offsets, edge cases, loading."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pytest

from pipelines.embeddings import WordPiece
from pipelines.encoder import DIMS, MODEL_DIR, VOCAB_FILE, Encoder, load_encoder

REFERENCE = Path(__file__).parent / "data" / "encoder_reference.npz"


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    loaded = load_encoder()
    assert loaded is not None, "pipelines/models/minilm-encoder.int8.onnx is missing: run civicwatch build-encoder"
    return loaded


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_matches_the_numpy_reference_encoder(encoder: Encoder) -> None:
    with np.load(REFERENCE, allow_pickle=False) as ref:
        texts, expected = [str(t) for t in ref["texts"]], ref["embeddings"]
    got = encoder.embed(texts)
    assert got.shape == (len(texts), DIMS) and got.dtype == np.float32
    cosines = [_cos(g, e) for g, e in zip(got, expected, strict=True)]
    assert min(cosines) >= 0.98, cosines
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-4)


def test_meaning_not_words(encoder: Encoder) -> None:
    insult, other_insult, civic = encoder.embed(
        [
            "You absolute clown, nobody wants you here.",
            "What a moron, get lost.",
            "The bus on Wyandotte was late again.",
        ]
    )
    assert _cos(insult, other_insult) > _cos(insult, civic) + 0.1


def test_batching_keeps_order_and_values(encoder: Encoder) -> None:
    texts = ["short", "a somewhat longer comment about the snow plow on our street", "", "mid length text here"]
    together = encoder.embed(texts, batch_size=2)
    for text, row in zip(texts, together, strict=True):
        assert _cos(row, encoder.embed([text])[0]) > 0.999


TOKENS = [
    # text, surfaces the offsets must cut from the ORIGINAL text
    ("Café crème 🎉", ["Café", "cr", "ème", "🎉"]),
    ("Check https://example.org/parks!", ["Check", "https", ":", "/", "/", "example", ".", "org", "/", "parks", "!"]),
    ("Le déneigement est très lent", ["Le", "dén", "ei", "gement", "est", "très", "lent"]),
    ("@USER Nahhh 😂😂", ["@", "USER", "Nah", "hh", "😂😂"]),
    ("  spaced\tout\nlines ", ["spaced", "out", "lines"]),
    ("ÉCOLE Zürich São", ["ÉCOLE", "Zürich", "São"]),
]


@pytest.mark.parametrize(("text", "surfaces"), TOKENS)
def test_token_offsets_cut_the_original_text(encoder: Encoder, text: str, surfaces: list[str]) -> None:
    states, offsets = encoder.token_states(text)
    assert [text[a:b] for a, b in offsets] == surfaces
    assert states.shape == (len(surfaces), DIMS)


def _fold(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", s.lower()) if unicodedata.category(c) != "Mn")


@pytest.mark.parametrize(
    "text",
    [
        "Naïve façade in Zürich, l'hôtel de ville! 🚧🚧 #ywg https://t.co/AbC123?x=1&y=2",
        "Straße ½ “quotes” — dash… 中文",
        "ALL CAPS RANT!!!! can't won't",
    ],
)
def test_each_offset_is_the_token_surface(encoder: Encoder, text: str) -> None:
    enc = encoder.tokenizer.encode(text, add_special_tokens=False)
    _, offsets = encoder.token_states(text)
    assert offsets == [(int(a), int(b)) for a, b in enc.offsets]
    for token, (a, b) in zip(enc.tokens, offsets, strict=True):
        if token != "[UNK]":
            assert _fold(text[a:b]) == token.removeprefix("##"), (token, text[a:b])


def test_same_ids_as_the_project_wordpiece(encoder: Encoder) -> None:
    wordpiece = WordPiece((MODEL_DIR / VOCAB_FILE).read_text(encoding="utf-8").splitlines())
    texts = [
        "Café crème 🎉 at https://example.org/parks!",
        "Le déneigement de la rue Ouellette est très lent.",
        "@USER Nahhh you are!!! 😂😂",
        "Straße ﬁne ½ ℃ “quotes” — dash… 中文",
        "x" * 150 + " ok",
        "new\u200bline soft\u00adhyphen e\u0301cole İstanbul",
        "नमस्ते مرحبا",
    ]
    for text in texts:
        assert encoder.tokenizer.encode(text, add_special_tokens=False).ids == wordpiece.ids(text), text


def test_long_input_is_truncated_not_fatal(encoder: Encoder) -> None:
    text = "The water main on Elm Street is leaking again. " * 430  # ~20,000 characters
    assert len(text) >= 20_000
    states, offsets = encoder.token_states(text)
    assert states.shape == (encoder.max_tokens - 2, DIMS)
    assert offsets[0] == (0, 3) and all(a < b <= len(text) for a, b in offsets)
    (row,) = encoder.embed([text])
    assert np.isfinite(row).all()
    shorter, _ = encoder.token_states(text, max_tokens=16)
    assert shorter.shape == (14, DIMS)


def test_empty_inputs(encoder: Encoder) -> None:
    assert encoder.embed([]).shape == (0, DIMS)
    (row,) = encoder.embed([""])
    assert np.isfinite(row).all() and abs(np.linalg.norm(row) - 1.0) < 1e-4
    states, offsets = encoder.token_states("")
    assert states.shape == (0, DIMS) and offsets == []
    states, offsets = encoder.token_states("   \u200b ")
    assert states.shape == (0, DIMS) and offsets == []


def test_token_shares_add_up_to_the_head_score(encoder: Encoder) -> None:
    text = "Please subscribe to my channel, link in bio"
    w = np.random.default_rng(3).normal(size=DIMS).astype(np.float32)
    shares, offsets = encoder.token_shares(text, w)
    states, _ = encoder._states(text, None)
    norm = np.linalg.norm(states.mean(0))
    specials = (states[0] + states[-1]) @ w / (len(states) * norm)
    assert len(shares) == len(offsets)
    assert float(shares.sum() + specials) == pytest.approx(float(encoder.embed([text])[0] @ w), abs=2e-3)


def test_missing_directory_gives_none(tmp_path: Path) -> None:
    assert load_encoder(tmp_path / "nowhere") is None
    assert load_encoder(tmp_path) is None


def test_identity(encoder: Encoder) -> None:
    assert encoder.name == "minilm-encoder" and encoder.dims == DIMS
    assert len(encoder.digest) == 16 and int(encoder.digest, 16) >= 0
    assert load_encoder() is encoder
