"""`civicwatch train decisions`: the shipped model adapted to moderators' verdicts, promoted only when it wins.

The examples are written here (templates of election talk a city page gets), never dev rows. Their
verdicts follow what a city's moderators do: they keep (false alarm) the 5.7.7 political flags the
detector raised at moderate scores (the lowest 30% of them) and confirm the confident ones. The dev
check is injected: the real command scores ../shared's held-out rows, far too slow for a unit test.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from pipelines.pipeline import PolicyPipeline
from pipelines.textmodel import CURRENT, MODEL_NAME, LinearModel, load_model
from pipelines.training.decisions import DevCheck, adapt, read_examples, split

SUBJECTS = [
    "property taxes", "transit fares", "snow removal", "the library budget", "bike lanes", "road repairs",
    "the arena", "parking fees", "garbage pickup", "the waterfront", "police funding", "park maintenance",
]  # fmt: skip
PARTIES = ["Conservatives", "Liberals", "the NDP", "the Greens"]
TEMPLATES = [
    "Vote for the candidate who will cut {s} this fall",
    "Candidates should talk more about {s} before the election",
    "Republicans in Congress voted against the {s} bill, Democrats must win the midterms",
    "Democrats in Congress blocked the {s} bill, Republicans must win the midterms",
    "{p} in parliament voted against {s}, vote them out in the federal election",
    "{p} will fix {s}, vote {p} in the federal election",
]
ORDINARY = ["When will the city fix {s}?", "Thanks for the update on {s}", "The council meeting on {s} is Tuesday"]
KEPT_SHARE = 0.3
"""The share of the 5.7.7 flags, lowest scores first, that the moderators kept."""


@functools.cache
def moderate() -> float:
    """The score under which the moderators kept a 5.7.7 flag: the ``KEPT_SHARE`` quantile of the shipped
    model's own flags on these texts, so the verdicts disagree with any model version in the same way."""
    pool = texts()
    flagged = [
        max(scores)
        for result in PolicyPipeline().classify_batch(pool)
        if (scores := [t.score for t in result.tags if t.clause == "5.7.7" and t.category in result.flags])
    ]
    return float(np.quantile(flagged, KEPT_SHARE))


def kept_at_moderate(score: float) -> str:
    return "false_alarm" if score < moderate() else "confirmed"


@pytest.fixture(scope="module")
def pipeline() -> PolicyPipeline:
    return PolicyPipeline()


@pytest.fixture(scope="module")
def base() -> LinearModel:
    model = load_model(version=None)
    assert model is not None
    return model


def texts() -> list[str]:
    out = {t.format(s=s, p=p) for t in TEMPLATES for s in SUBJECTS for p in PARTIES}
    return sorted(out)


def write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def examples(pipeline: PolicyPipeline, verdict: Callable[[float], str]) -> list[dict[str, object]]:
    """What export-decisions writes for each comment the detectors flagged under 5.7.7."""
    rows: list[dict[str, object]] = []
    pool = texts()
    for text, result in zip(pool, pipeline.classify_batch(pool), strict=True):
        score = max((t.score for t in result.tags if t.clause == "5.7.7" and t.category in result.flags), default=None)
        if score is not None:
            rows.append(
                {"text": text, "flagged": ["5.7.7"], "scores": {"5.7.7": score}, "verdicts": {"5.7.7": verdict(score)}}
            )
    for s in SUBJECTS:  # comments nobody flagged teach nothing: they are not exported
        rows += [{"text": t.format(s=s), "flagged": [], "verdicts": {}} for t in ORDINARY]
    return rows


def passes(old: LinearModel, new: LinearModel) -> DevCheck:
    return DevCheck(0.5, 0.5, "injected: no change")


def loses(old: LinearModel, new: LinearModel) -> DevCheck:
    return DevCheck(0.5, 0.45, "injected: a drop of 0.05")


def absent(old: LinearModel, new: LinearModel) -> DevCheck:
    return DevCheck(None, None, "injected: no dev files")


def test_the_held_back_slice_is_seeded_and_never_fitted(tmp_path: Path, pipeline: PolicyPipeline) -> None:
    path = write(tmp_path / "d.jsonl", examples(pipeline, kept_at_moderate))
    loaded = read_examples(path)
    assert all(e.verdicts for e in loaded)  # the unflagged ones carry no verdict
    fitted, held = split(loaded)
    assert split(loaded) == (fitted, held)
    assert not {e.text for e in fitted} & {e.text for e in held}
    assert abs(len(held) - 0.3 * len(loaded)) <= 1


CASES = [
    # (name, verdict by 5.7.7 score, dev check, --force, promoted, why not)
    ("kept at moderate scores", kept_at_moderate, passes, False, True, ""),
    ("dev check loses", kept_at_moderate, loses, False, False, "drops more"),
    ("no dev data", kept_at_moderate, absent, False, False, "--force"),
    ("no dev data, forced", kept_at_moderate, absent, True, True, ""),
    ("every flag confirmed", lambda s: "confirmed", passes, False, False, "no pivot moved"),
]


@pytest.mark.parametrize(("name", "verdict", "guard", "force", "promoted", "why"), CASES, ids=[c[0] for c in CASES])
def test_promotion_gate(
    tmp_path: Path,
    pipeline: PolicyPipeline,
    base: LinearModel,
    name: str,
    verdict: Callable[[float], str],
    guard: Callable[[LinearModel, LinearModel], DevCheck],
    force: bool,
    promoted: bool,
    why: str,
) -> None:
    rows = examples(pipeline, verdict)
    kinds = [next(iter(r["verdicts"].values())) for r in rows if r["verdicts"]]  # type: ignore[attr-defined]
    assert len(kinds) >= 60, "the templates must give the detector enough moderate 5.7.7 flags"
    path = write(tmp_path / "decisions.jsonl", rows)
    out = tmp_path / "models"
    outcome = adapt(path, out, pipeline, base=base, guard=guard, force=force, now=1_780_000_000)
    card = json.loads((out / f"{MODEL_NAME}.{outcome.version}.json").read_text())
    assert (out / f"{MODEL_NAME}.{outcome.version}.npz").exists()
    md = (out / f"{MODEL_NAME}.{outcome.version}.md").read_text()
    assert "| 5.7.7 |" in md and "agreement before" in md
    assert card["decisions"]["sha256"] in md and card["base"]["version"] == "base"
    assert outcome.promoted is promoted, outcome.report()
    assert (out / CURRENT).exists() is promoted
    if not promoted:
        assert any(why in r for r in outcome.reasons), outcome.reasons
        return
    political = base.categories.index("political")
    assert card["decisions"]["pivots"]["political"] > float(base.platt[political, 2])  # raised
    assert outcome.after["5.7.7"][0] > outcome.before["5.7.7"][0]
    assert (out / CURRENT).read_text().strip() == outcome.version
    load_model.cache_clear()
    current = load_model(str(out))
    assert current is not None and current.version == outcome.version
    # the pipeline scoring with it names the version in the tags the model helped decide
    from pipelines.textmodel import using_model

    with using_model(current):
        tags = pipeline.classify("Conservatives will fix road repairs, vote Conservatives in the federal election").tags
    assert any(t.version.endswith(f"+linear.{outcome.version}") for t in tags if t.category == "political")


def test_too_few_examples_keep_the_old_model(tmp_path: Path, pipeline: PolicyPipeline, base: LinearModel) -> None:
    rows = examples(pipeline, kept_at_moderate)[:25]
    out = tmp_path / "models"
    outcome = adapt(write(tmp_path / "few.jsonl", rows), out, pipeline, base=base, guard=passes)
    assert not outcome.promoted and not (out / CURRENT).exists()
    assert any("kept:" in s.note for s in outcome.shifts if s.clause == "5.7.7")


def test_a_missing_version_named_by_the_pointer_stops_loading(tmp_path: Path) -> None:
    from pipelines.textmodel import ModelError

    (tmp_path / CURRENT).write_text("20990101T000000Z-deadbeef\n")
    load_model.cache_clear()
    with pytest.raises(ModelError, match="missing"):
        load_model(str(tmp_path))
    (tmp_path / CURRENT).write_text("../../etc/passwd\n")
    load_model.cache_clear()
    with pytest.raises(ModelError, match="not a model version"):
        load_model(str(tmp_path))


ITEMS = ["running shoes", "phone cases", "vitamins", "gift cards", "sunglasses", "headphones", "watches", "sneakers"]
DEALS = ["Get 50% off {i} today only, order from my shop", "Cheap {i} shipped free, message me to buy now"]
CITY = ["The city's {i} swap at the library is on Saturday", "Bring old {i} to the recycling depot this week"]


def test_enough_verdicts_refit_a_single_head_close_to_the_shipped_weights(base: LinearModel) -> None:
    from pipelines.training.decisions import Example, refit

    rows = [
        Example(t.format(i=i) + suffix, None, "en", {"5.7.6": verdict})
        for templates, verdict in ((DEALS, "confirmed"), (CITY, "false_alarm"))
        for t in templates
        for i in ITEMS
        for suffix in ("", "!", " :)", " (details inside)", " - see you there", "!!", " today", " soon")
    ]
    assert len(rows) >= 200
    political = [
        Example(t, None, "en", {"5.7.7": "false_alarm" if n % 2 else "confirmed"}) for n, t in enumerate(texts())
    ]
    heads = {
        "5.7.6": [base.categories.index("commercial")],
        "5.7.7": [base.categories.index(c) for c in ("attack", "political")],
    }
    new, done = refit(base, rows + political, heads, min_examples=100)
    assert done == ["5.7.6"], "5.7.7's verdicts cannot say which of its two heads erred"
    k = heads["5.7.6"][0]
    gap = {}
    for name, model in (("before", base), ("after", new)):
        m = model.margins([r.text for r in rows])[:, k]
        conf = [r.verdicts["5.7.6"] == "confirmed" for r in rows]
        gap[name] = float(m[conf].mean() - m[[not c for c in conf]].mean())
    assert gap["after"] > gap["before"], gap
    change = float(((new.weights[:, k] - base.weights[:, k]) ** 2).sum() ** 0.5)
    assert 0 < change < 0.25 * float((base.weights[:, k].astype("float64") ** 2).sum() ** 0.5)
    others = [j for j in range(len(base.categories)) if j != k]
    assert (new.weights[:, others] == base.weights[:, others]).all()
