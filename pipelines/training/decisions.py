"""Adapting the shipped text model to a city's own decisions (``civicwatch train decisions``).

Moderators' verdicts (``civicwatch review export-decisions``) say, per comment and clause, whether
the flag was right. What they can safely teach a linear model fitted on thousands of labelled rows
is mostly *where its operating point should sit* for this city: each head's Platt pivot (the
probability mapped to 0.5) is moved in logit space so that the heads agree with the moderators on
the examples fitted, the weights stay as shipped. A seeded slice of the examples is never fitted;
the new version is promoted only if the full detector pipeline agrees with moderators more often on
that slice and the dev files' held-out rows lose no more than ``MAX_DEV_DROP`` macro-F1. Anything
else writes the version with its card and leaves the current model in place.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.pipeline import PolicyPipeline
from pipelines.textmodel import CURRENT, MODEL_DIR, MODEL_NAME, LinearModel, featurize, model_text, using_model
from pipelines.types import CommentInput

HELD_BACK = 0.3
"""Share of the examples never fitted: agreement is judged on them alone."""
SEED = 16
MIN_EXAMPLES = 30
"""Examples with a verdict on a clause, both verdicts present, before its pivot may move."""
MAX_SHIFT = 2.0
"""Largest move of a pivot in logit space (a pivot of 0.5 stays within 0.12-0.88)."""
GRID_STEP = 0.1
"""Shifts tried: every one costs a pass of the pipeline over the fitted examples."""
REFIT_MIN = 200
"""Fitted examples of both verdicts on a clause before its head's weights may move too."""
REFIT_C = 0.25
"""Inverse strength of the pull toward the shipped weights (the shipped heads were fitted with C=4:
the change is held sixteen times as hard as the weights once were)."""
MAX_DEV_DROP = 0.01
"""Largest macro-F1 loss on the dev files' held-out rows a promotion accepts."""
FLAGS = {"confirmed": True, "added": True, "false_alarm": False}
"""What a verdict says the detector should have done with the clause."""


@dataclass(frozen=True)
class Example:
    text: str
    post_text: str | None
    language: str | None
    verdicts: dict[str, str]


def read_examples(path: Path) -> list[Example]:
    """The export's lines; a line without text or verdicts teaches nothing and is skipped."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        verdicts = {str(c): str(v) for c, v in (row.get("verdicts") or {}).items() if v in FLAGS}
        if row.get("text") and verdicts:
            out.append(Example(row["text"], row.get("post_text"), row.get("language"), verdicts))
    return out


def split(
    examples: Sequence[Example], share: float = HELD_BACK, seed: int = SEED
) -> tuple[list[Example], list[Example]]:
    """(fitted, held back): a seeded shuffle, so the same file always gives the same slice."""
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    n_held = round(len(examples) * share)
    held = set(order[:n_held])
    return [e for i, e in enumerate(examples) if i not in held], [e for i, e in enumerate(examples) if i in held]


def clause_heads(pipeline: PolicyPipeline, model: LinearModel) -> dict[str, list[int]]:
    """Per clause, the model's heads that score it (5.7.7: attack and political)."""
    out: dict[str, list[int]] = {}
    for rule in pipeline.policy.enabled_rules:
        if rule.category in model.categories:
            out.setdefault(rule.clause, []).append(model.categories.index(rule.category))
    return out


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    result: np.ndarray = np.log(p / (1 - p))
    return result


@dataclass
class Shift:
    clause: str
    examples: int
    shift: float = 0.0
    before: float = 0.0
    after: float = 0.0
    note: str = ""


def refit(
    model: LinearModel, fitted: Sequence[Example], heads: dict[str, list[int]], min_examples: int = REFIT_MIN
) -> tuple[LinearModel, list[str]]:
    """Fit the heads of clauses with enough verdicts further, warm-started at the shipped weights and
    pulled back to them by an L2 penalty on the change (``REFIT_C``), through the head's own Platt map.

    Only a clause with one head: a verdict on 5.7.7 does not say whether the attack or the political
    head erred. The pivots are chosen afterwards, on the refitted heads."""
    from scipy.optimize import minimize

    weights = model.weights.astype(np.float64)
    bias = model.bias.astype(np.float64)
    done: list[str] = []
    for clause, cols in sorted(heads.items()):
        rows = [e for e in fitted if clause in e.verdicts]
        y = np.array([FLAGS[e.verdicts[clause]] for e in rows], dtype=np.float64)
        if len(cols) != 1 or len(rows) < min_examples or y.all() or not y.any():
            continue
        k = cols[0]
        X = featurize([model_text(e.text) for e in rows], model.embedder)
        a, c = float(model.platt[k, 0]), float(model.platt[k, 1])
        m0 = np.asarray(X @ weights[:, k]) + bias[k]

        def loss(
            theta: np.ndarray, X: Any = X, y: np.ndarray = y, m0: np.ndarray = m0, a: float = a, c: float = c
        ) -> Any:
            dw, db = theta[:-1], theta[-1]
            z = a * (m0 + X @ dw + db) + c
            g = REFIT_C * a * (1.0 / (1.0 + np.exp(-z)) - y)
            value = REFIT_C * float(np.sum(np.logaddexp(0.0, z) - y * z)) + 0.5 * float(dw @ dw)
            return value, np.concatenate([np.asarray(X.T @ g) + dw, [g.sum()]])

        found = minimize(loss, np.zeros(X.shape[1] + 1), jac=True, method="L-BFGS-B", options={"maxiter": 300})
        weights[:, k] += found.x[:-1]
        bias[k] += found.x[-1]
        done.append(clause)
    if not done:
        return model, done
    return replace(model, weights=weights.astype(np.float32), bias=bias.astype(np.float32)), done


def recalibrate(
    pipeline: PolicyPipeline,
    model: LinearModel,
    fitted: Sequence[Example],
    heads: dict[str, list[int]],
    min_examples: int = MIN_EXAMPLES,
) -> tuple[LinearModel, list[Shift]]:
    """Move each clause's heads' pivots by one shift in logit space, the one with which the full detector
    pipeline best agrees with the moderators on the fitted examples (ties go to the smallest move; no
    move without ``min_examples`` of both verdicts). The pipeline, not the heads alone, is what is
    fitted: a flag the rules raise whatever the model says (a party's name under 5.7.7) must not pull
    the pivot down. A clause's flags depend only on its own heads, so one pass per shift fits all."""
    platt = model.platt.astype(np.float64)
    pivots = _logit(platt[:, 2])

    def shifted(by: dict[str, float]) -> LinearModel:
        moved = platt.copy()
        for clause, s in by.items():
            cols = heads[clause]
            moved[cols, 2] = 1.0 / (1.0 + np.exp(-(pivots[cols] + s)))
        return replace(model, platt=moved.astype(np.float32))

    shifts = {c: Shift(c, sum(c in e.verdicts for e in fitted)) for c in sorted(heads)}
    todo = []
    for clause, result in shifts.items():
        flags = [FLAGS[e.verdicts[clause]] for e in fitted if clause in e.verdicts]
        if len(flags) < min_examples or all(flags) or not any(flags):
            result.note = f"kept: {len(flags)} examples, {sum(flags)} to flag (needs {min_examples}, both kinds)"
        else:
            todo.append(clause)
    if not todo:
        return model, list(shifts.values())
    rows = [e for e in fitted if any(c in e.verdicts for c in todo)]
    grid = sorted(np.round(np.arange(-MAX_SHIFT, MAX_SHIFT + 1e-9, GRID_STEP), 2).tolist(), key=abs)
    scores: dict[str, list[float]] = {c: [] for c in todo}
    for s in grid:
        counts = agreement(pipeline, shifted(dict.fromkeys(todo, s)), rows)
        for clause in todo:
            right, total = counts[clause]
            scores[clause].append(right / total)
    chosen: dict[str, float] = {}
    for clause in todo:
        best = int(np.argmax(scores[clause]))  # the first maximum: the smallest move among equals
        result = shifts[clause]
        result.before, result.after, result.shift = scores[clause][0], scores[clause][best], float(grid[best])
        chosen[clause] = result.shift
    return shifted(chosen), list(shifts.values())


def agreement(pipeline: PolicyPipeline, model: LinearModel, examples: Sequence[Example]) -> dict[str, tuple[int, int]]:
    """Per clause, (verdicts the full detector pipeline gets right, verdicts) with ``model`` scoring."""
    from pipelines.heads import shipped

    inputs = [CommentInput(e.text, context=e.post_text, language=e.language) for e in examples]
    with using_model(model, shipped()):
        results = pipeline.classify_batch(inputs)
    out: dict[str, tuple[int, int]] = {}
    for example, result in zip(examples, results, strict=True):
        flagged = {t.clause for t in result.tags if t.category in result.flags}
        for clause, verdict in example.verdicts.items():
            right, total = out.get(clause, (0, 0))
            out[clause] = (right + ((clause in flagged) == FLAGS[verdict]), total + 1)
    return out


def share(counts: dict[str, tuple[int, int]]) -> float:
    right = sum(r for r, _ in counts.values())
    total = sum(n for _, n in counts.values())
    return right / total if total else 0.0


@dataclass
class DevCheck:
    """Macro-F1 of the model's categories on the dev files' held-out rows, before and after."""

    before: float | None
    after: float | None
    note: str

    @property
    def ok(self) -> bool:
        return self.before is not None and self.after is not None and self.after >= self.before - MAX_DEV_DROP


DevGuard = Callable[[LinearModel, LinearModel], DevCheck]


def dev_guard(pipeline: PolicyPipeline, shared: Path | None = None, sample: int | None = 1500) -> DevGuard:
    """The leave-one-source-out check for a recalibration: the weights did not move, so each dev file's
    held-out fold (never fitted or calibrated on) scored with the old and the new pivots tells whether
    the new operating points lose on the sources the model was built from."""

    def check(old: LinearModel, new: LinearModel) -> DevCheck:
        from pipelines.training.evaluate import evaluate_rows, select_rows

        root = shared or Path(os.environ.get("CIVICWATCH_SHARED", Path(__file__).resolve().parents[3] / "shared"))
        dev = root / "data" / "dev"
        files = [dev / f"{name}.jsonl" for name in sorted(old.card.get("data", {})) if (dev / f"{name}.jsonl").exists()]
        if not files:
            return DevCheck(None, None, f"no dev files under {dev}: the check could not run")
        from pipelines.heads import shipped

        f1s: dict[str, list[float]] = {"before": [], "after": []}
        for path in files:
            rows, _ = select_rows(path, "heldout", sample)
            for key, model in (("before", old), ("after", new)):
                with using_model(model, shipped()):
                    report = evaluate_rows(pipeline, rows, str(path), "heldout")
                f1s[key] += [
                    c.f1 for cat, c in sorted(report.categories.items()) if cat in old.categories and c.support
                ]
        before, after = (float(np.mean(f1s[k])) if f1s[k] else None for k in ("before", "after"))
        return DevCheck(before, after, f"{len(files)} dev files, held-out fold, {len(f1s['before'])} cells")

    return check


@dataclass
class Outcome:
    version: str
    directory: Path
    promoted: bool
    reasons: list[str]
    shifts: list[Shift]
    before: dict[str, tuple[int, int]]
    after: dict[str, tuple[int, int]]
    dev: DevCheck | None
    counts: dict[str, int] = field(default_factory=dict)
    refitted: list[str] = field(default_factory=list)

    def report(self) -> str:
        lines = [
            f"model version {self.version}: {'PROMOTED' if self.promoted else 'not promoted'}"
            + ("" if self.promoted else f" ({'; '.join(self.reasons)})"),
            f"examples: {self.counts.get('examples', 0)} ({self.counts.get('fitted', 0)} fitted, "
            f"{self.counts.get('held_back', 0)} held back, seed {SEED})",
            "weights refitted (warm start, L2 toward the shipped ones) for: " + (", ".join(self.refitted) or "none"),
            "",
            "| clause | held-back verdicts | agreement before | after | pivot shift (logit) | fitted examples |",
            "|---|---|---|---|---|---|",
        ]
        shifts = {s.clause: s for s in self.shifts}
        for clause in sorted(set(self.before) | set(shifts)):
            rb, n = self.before.get(clause, (0, 0))
            ra, _ = self.after.get(clause, (0, 0))
            s = shifts.get(clause)
            moved = "no head" if s is None else (f"{s.shift:+.2f}" if not s.note else s.note)
            lines.append(f"| {clause} | {n} | {_ratio(rb, n)} | {_ratio(ra, n)} | {moved} | {s.examples if s else 0} |")
        lines.append(
            f"| **all** | {sum(n for _, n in self.before.values())} | **{share(self.before):.3f}** "
            f"| **{share(self.after):.3f}** | | |"
        )
        if self.dev is not None:
            lines += [
                "",
                f"dev held-out macro-F1 before {_fixed(self.dev.before)}, after {_fixed(self.dev.after)} "
                f"(refused below before - {MAX_DEV_DROP}): {self.dev.note}",
            ]
        return "\n".join(lines)


def _ratio(right: int, total: int) -> str:
    return f"{right / total:.3f}" if total else "-"


def _fixed(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def new_version(examples_sha: str, now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now if now is not None else time.time()))
    return f"{stamp}-{examples_sha[:8]}"


def adapt(
    examples_file: Path,
    out: Path = MODEL_DIR,
    pipeline: PolicyPipeline | None = None,
    base: LinearModel | None = None,
    guard: DevGuard | None = None,
    force: bool = False,
    min_examples: int = MIN_EXAMPLES,
    refit_min: int = REFIT_MIN,
    command: str = "civicwatch train decisions",
    now: float | None = None,
) -> Outcome:
    """Fit new pivots on the fitted slice, judge on the held-back slice and the dev guard, write the
    version beside the others in ``out`` and point ``civicwatch-linear.current`` at it if it wins."""
    from pipelines.textmodel import load_model

    pipeline = pipeline or PolicyPipeline()
    if base is None:
        base = load_model()
    if base is None:
        raise ValueError("no text model to adapt: run `civicwatch train` first")
    data = examples_file.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    examples = read_examples(examples_file)
    fitted, held = split(examples)
    heads = clause_heads(pipeline, base)
    refitted_model, refitted = refit(base, fitted, heads, refit_min)
    new, shifts = recalibrate(pipeline, refitted_model, fitted, heads, min_examples)
    version = new_version(sha, now)
    before = agreement(pipeline, base, held) if held else {}
    after = agreement(pipeline, new, held) if held else {}
    reasons: list[str] = []
    if not refitted and not any(s.shift for s in shifts):
        reasons.append("no pivot moved and no head refitted")
    if share(after) <= share(before):
        reasons.append(f"held-back agreement {share(before):.3f} -> {share(after):.3f} is no improvement")
    dev: DevCheck | None = None
    if not reasons:
        dev = (guard or dev_guard(pipeline))(base, new)
        if dev.before is None:
            if force:
                dev.note += " (promoted anyway: --force)"
            else:
                reasons.append("the dev check could not run (no ../shared data); --force promotes without it")
        elif not dev.ok:
            reasons.append(f"dev held-out macro-F1 {dev.before:.3f} -> {dev.after:.3f} drops more than {MAX_DEV_DROP}")
    outcome = Outcome(
        version,
        out,
        not reasons,
        reasons,
        shifts,
        before,
        after,
        dev,
        {"examples": len(examples), "fitted": len(fitted), "held_back": len(held)},
        refitted,
    )
    card = {
        **{k: v for k, v in base.card.items() if k != "categories"},
        "version": version,
        "base": {"version": base.version, "command": base.card.get("command")},
        "command": command,
        "decisions": {
            "file": examples_file.name,
            "sha256": sha,
            "examples": len(examples),
            "held_back": {"share": HELD_BACK, "seed": SEED, "rows": len(held)},
            "method": "Platt pivot per clause moved in logit space to agree with moderators on the fitted slice"
            + (
                f"; heads of {', '.join(refitted)} refitted (warm start, L2 toward the shipped weights, C={REFIT_C})"
                if refitted
                else ""
            ),
            "refitted": refitted,
            "pivots": {c: round(float(p), 4) for c, p in zip(base.categories, new.platt[:, 2], strict=True)},
            "agreement_before": {c: list(v) for c, v in sorted(before.items())},
            "agreement_after": {c: list(v) for c, v in sorted(after.items())},
            "dev_check": None if dev is None else {"before": dev.before, "after": dev.after, "note": dev.note},
            "promoted": outcome.promoted,
            "reasons": reasons,
        },
    }
    adapted = replace(new, card=card)
    adapted.save(out, version)
    (out / f"{MODEL_NAME}.{version}.md").write_text(
        f"# {MODEL_NAME} {version}\n\nAdapted from `{base.version}` by `{command}` on `{examples_file.name}` "
        f"(sha256 `{sha}`).\n\n{outcome.report()}\n"
    )
    if outcome.promoted:
        promote(out, version)
    return outcome


def promote(directory: Path, version: str) -> None:
    """Point the pipeline's loader at ``version`` (atomic: the worker never reads half a name)."""
    partial = directory / f"{CURRENT}.partial"
    partial.write_text(version + "\n")
    partial.replace(directory / CURRENT)
