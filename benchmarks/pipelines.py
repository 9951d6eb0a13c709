"""The ceiling without Kafka: the detectors alone, whole and one by one, and the worker's own code path.

Per-detector cost is measured by enabling one spaCy component at a time and subtracting the run
with none enabled (tokenizer, language identification and the decision), so the numbers add up to
roughly the whole pipeline. Presidio's analyzer runs on the same texts when the ``bench`` extra is
installed, as the reference for 5.7.9.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from benchmarks.corpus import comments, texts
from schemas import Comment, decode, encode


@dataclass
class Rate:
    """``count`` items in ``wall`` seconds using ``cpu`` seconds of this process."""

    count: int
    wall: float
    cpu: float

    @property
    def per_second(self) -> float:
        return self.count / self.wall if self.wall else 0.0

    @property
    def per_cpu_second(self) -> float:
        return self.count / self.cpu if self.cpu else 0.0


def timed(count: int, fn: object) -> Rate:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()  # type: ignore[operator]
    return Rate(count, time.perf_counter() - wall, time.process_time() - cpu)


@dataclass
class PipelineReport:
    whole: Rate
    baseline: Rate
    detectors: dict[str, Rate] = field(default_factory=dict)
    detector_ms: dict[str, float] = field(default_factory=dict)
    presidio: Rate | None = None
    worker_path: Rate | None = None
    worker_profile: str = ""
    classify_cli: Rate | None = None


def run_pipelines(n: int, per_detector: int, presidio_n: int, profile: bool = True) -> PipelineReport:
    from pipelines.pipeline import PolicyPipeline

    pipeline = PolicyPipeline()
    sample = list(texts(n, seed=3))
    pipeline.classify_batch(sample[:256])  # warm caches and lazy loads
    whole = timed(n, lambda: pipeline.classify_batch(sample))
    few = sample[:per_detector]
    names = [name for name, _ in pipeline.nlp.pipeline]
    with pipeline.nlp.select_pipes(disable=names):
        baseline = timed(len(few), lambda: pipeline.classify_batch(few))
    report = PipelineReport(whole, baseline)
    for name in names:
        with pipeline.nlp.select_pipes(enable=[name]):
            rate = timed(len(few), lambda: pipeline.classify_batch(few))
        report.detectors[name] = rate
        report.detector_ms[name] = max(0.0, (rate.wall - baseline.wall) / len(few) * 1000)
    report.presidio = run_presidio(sample[:presidio_n])
    report.worker_path, report.worker_profile = run_worker_path(pipeline, min(n, 5000), profile)
    return report


def run_presidio(sample: list[str]) -> Rate | None:
    from pipelines.training.anchors import presidio

    predictor = presidio()
    if predictor is None:
        return None
    predictor(sample[:16])
    return timed(len(sample), lambda: predictor(sample))


def run_worker_path(pipeline: object, n: int, profile: bool) -> tuple[Rate, str]:
    """What the comment agent does per batch, minus Kafka: decode, classify, route, encode."""
    from pipelines.types import CommentInput
    from workers.routing import route

    payloads = [encode(c) for c in comments(n, seed=5)]
    label = "windsor@bench"

    def work() -> None:
        for start in range(0, len(payloads), 256):
            batch = [decode(p, Comment) for p in payloads[start : start + 256]]
            results = pipeline.classify_batch(  # type: ignore[attr-defined]
                [CommentInput(c.text, language=c.language) for c in batch]
            )
            for c, r in zip(batch, results, strict=True):
                routed = route(c, r, label)
                encode(routed.tagged)
                if routed.review is not None:
                    encode(routed.review)
                if routed.council is not None:
                    encode(routed.council)

    rate = timed(n, work)
    text = ""
    if profile:
        profiler = cProfile.Profile()
        profiler.runcall(work)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
        text = "\n".join(line for line in out.getvalue().splitlines() if line.strip())
        text = text.replace(str(Path(sys.prefix)), "<venv>").replace(str(Path(__file__).parents[1]), "<repo>")
    return rate, text


def run_classify_cli(n: int) -> Rate:
    """``civicwatch classify`` on ``n`` short comments in a fresh process, start-up included."""
    with tempfile.TemporaryDirectory() as tmp:
        infile = Path(tmp) / "in.jsonl"
        with infile.open("wb") as fh:
            for i, text in enumerate(texts(n, seed=21)):
                fh.write(orjson.dumps({"id": f"b{i}", "text": text[:140]}) + b"\n")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "civicwatch",
                "classify",
                str(infile),
                "-o",
                str(Path(tmp) / "out.jsonl"),
                "--no-progress",
            ],
            check=True,
            capture_output=True,
        )
        wall = time.perf_counter() - wall
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Rate(n, wall, cpu)
