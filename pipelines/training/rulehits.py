"""Which rule pattern or list entry fires, and how often, over a file of comments.

A word list or a pattern that is right on the examples it was written for can still fire on every
tenth residents' request ("trash", "black bags", "dump"). This audit runs every lexicon entry and
every module-level pattern of every detector the policy enables over a file (by default only rows
labelled negative for every category, so each hit is a would-be false alarm) and lists the entries
by hits, beside what the full pipeline flags and which evidence carried each flag. It reads the data
at run time and writes nothing: dev rows never enter the repository.

Raw hits come before a detector's context checks (an insult word counts here even when no one is
its target), so an entry with many raw hits and no flags is working as meant; an entry that shows up
among the flags' evidence is one to narrow.

    python -m pipelines.training.rulehits ../shared/data/dev/civic_requests.jsonl tests/data/ordinary_city.jsonl
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from pipelines.base import ClauseDetector
from pipelines.detectors.profanity import Stems
from pipelines.gate import GatedPattern
from pipelines.normalize import Lexicon, normalize
from pipelines.pipeline import PolicyPipeline
from pipelines.training.evaluate import read_jsonl
from pipelines.types import CommentInput

Matcher = Lexicon | Stems | re.Pattern[str] | GatedPattern


@dataclass
class RuleHits:
    """Hit counts per entry (``detector:kind:entry``), per flag source and per flag evidence."""

    rows: int = 0
    raw: Counter[str] = field(default_factory=Counter)
    """Entry -> rows it matched in (before any context check)."""
    examples: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    """Entry -> the matched strings, folded, with their counts."""
    flags: Counter[str] = field(default_factory=Counter)
    """``category:rule`` or ``category:model`` -> rows flagged."""
    evidence: Counter[str] = field(default_factory=Counter)
    """``category:label:matched text`` -> rows whose flag carried that evidence."""

    def top(self, counter: Counter[str], limit: int) -> list[tuple[str, int]]:
        return counter.most_common(limit)


def negatives(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Rows labelled 0 for every category they carry: anything flagged there is a false alarm."""
    for row in rows:
        labels = row.get("labels") or {}
        if not any(labels.values()):
            yield row


def _patterns(module: ModuleType) -> Iterator[tuple[str, re.Pattern[str] | GatedPattern]]:
    """Every compiled pattern a detector module keeps at module level, alone or in a list."""
    for name, value in vars(module).items():
        if isinstance(value, (re.Pattern, GatedPattern)):
            yield name, value
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                if isinstance(item, tuple):  # (label, pattern, needs_subject) tables
                    item = next((x for x in item if isinstance(x, (re.Pattern, GatedPattern))), None)
                if isinstance(item, (re.Pattern, GatedPattern)):
                    yield f"{name}[{i}]", item


def _lexicons(detector: ClauseDetector) -> Iterator[tuple[str, Lexicon | Stems]]:
    for name, value in vars(detector).items():
        if isinstance(value, (Lexicon, Stems)):
            yield name, value


def entries(pipeline: PolicyPipeline) -> list[tuple[str, Matcher]]:
    """``(name, matcher)`` for every lexicon, word-part list and module-level pattern of the enabled detectors."""
    out: list[tuple[str, Matcher]] = []
    seen_modules: set[str] = set()
    for name in pipeline.nlp.pipe_names:
        detector: ClauseDetector = pipeline.nlp.get_pipe(name).detector  # type: ignore[attr-defined]
        for attr, lexicon in _lexicons(detector):
            out.append((f"{name}:{attr}", lexicon))
        module = sys.modules[type(detector).__module__]
        if module.__name__ in seen_modules:
            continue
        seen_modules.add(module.__name__)
        for attr, pattern in _patterns(module):
            out.append((f"{name}:{attr}", pattern))
    return out


def audit(rows: Sequence[dict[str, Any]], pipeline: PolicyPipeline | None = None) -> RuleHits:
    """Raw hits of every entry over ``rows`` and the evidence of what the pipeline flags."""
    pipeline = pipeline or PolicyPipeline()
    result = RuleHits(rows=len(rows))
    matchers = entries(pipeline)
    for row in rows:
        norm = normalize(row["text"])
        for name, matcher in matchers:
            found: set[str] = set()
            if isinstance(matcher, Lexicon):
                for s, e, _label, term in matcher.find(norm):
                    key = f"{name}:{term}"
                    found.add(key)
                    result.examples[key][row["text"][s:e].lower()] += 1
            elif isinstance(matcher, Stems):
                for s, e, _label in matcher.find(norm):
                    key = f"{name}:{row['text'][s:e].lower()}"
                    found.add(key)
                    result.examples[key][row["text"][s:e].lower()] += 1
            else:
                for m in matcher.finditer(norm.text):
                    found.add(name)
                    result.examples[name][m.group().lower()[:60]] += 1
            result.raw.update(found)
    inputs = [CommentInput(r["text"], context=r.get("context"), language=r.get("lang")) for r in rows]
    for row, verdict in zip(rows, pipeline.classify_batch(inputs), strict=True):
        for tag in verdict.tags:
            if tag.category not in verdict.flags:
                continue
            rule = [s for s in tag.spans if s.label != "model"]
            result.flags[f"{tag.category}:{'rule' if rule else 'model'}"] += 1
            for ev in set((s.label, row["text"][s.start : s.end].lower()) for s in rule):
                result.evidence[f"{tag.category}:{ev[0]}:{ev[1]}"] += 1
    return result


def report(hits: RuleHits, limit: int = 40) -> str:
    """A plain-text report: flag rates by source, the evidence behind flags, the busiest entries."""
    n = max(1, hits.rows)
    lines = [f"rows: {hits.rows}", "", "flags (category:source  rows  share):"]
    for key, count in sorted(hits.flags.items()):
        lines.append(f"  {key:32s} {count:6d}  {100 * count / n:5.2f}%")
    lines += ["", f"evidence of flags (top {limit}):"]
    for key, count in hits.top(hits.evidence, limit):
        lines.append(f"  {count:6d}  {key}")
    lines += ["", f"raw hits per entry, before context checks (top {limit}):"]
    for key, count in hits.top(hits.raw, limit):
        sample = ", ".join(t for t, _ in hits.examples[key].most_common(3))
        lines.append(f"  {count:6d}  {100 * count / n:5.2f}%  {key}  [{sample}]")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--all-rows", action="store_true", help="also rows labelled positive")
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--sample", type=int, default=None, help="a seeded sample of N rows per file")
    args = parser.parse_args(argv)
    pipeline = PolicyPipeline()
    for path in args.files:
        rows = list(read_jsonl(path))
        if not args.all_rows:
            rows = list(negatives(rows))
        if args.sample is not None and len(rows) > args.sample:
            import random

            rows = random.Random(7).sample(rows, args.sample)
        print(f"== {path}")
        print(report(audit(rows, pipeline), args.limit))
        print()


if __name__ == "__main__":
    main()
