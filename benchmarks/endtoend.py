"""The worker on the real broker: sustained throughput, end-to-end latency, CPU and memory.

Phases, each on fresh prefixed topics so runs never mix:

* raw Kafka: produce N encoded comments with the connectors' producer settings and read them back
  with ``read_committed``, no processing: the ceiling the broker and clients set;
* throughput: W workers are started and warmed up, N comments are produced as fast as possible,
  and the rate is N over the time from the first send to the last comment's arrival in
  ``comments.tagged``;
* latency: comments are produced at a fixed rate (half the measured throughput by default) and
  each one's latency is its arrival in ``comments.tagged`` (seen by a ``read_committed`` consumer)
  minus its ``received_at`` stamp;
* analytics: the workers above run as deployed, ``--agents comments,decisions,posts``; then one
  ``--agents analytics`` worker is started on everything they tagged, and its sustained rate is
  read from the running totals it publishes to ``analytics.aggregates`` (every half second),
  from the first total to the one that counts every comment. The total must equal the number of
  tagged comments, so the phase also checks that nothing is lost or counted twice.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson
from kafka import KafkaConsumer

from benchmarks.corpus import comments
from benchmarks.machine import ProcessUsage, load
from runtime.admin import delete_topics, ensure_topics
from runtime.sink import KafkaSink
from schemas import encode
from schemas.topics import COMMENTS_RAW
from workers.process import WorkerProcess

REPO = Path(__file__).resolve().parents[1]
LATENCY_KEY = b"x:lat"


@dataclass
class RawKafka:
    messages: int
    bytes_per_message: int
    produce_per_s: float
    consume_per_s: float


CLASSIFICATION_AGENTS = "comments,decisions,posts"


@dataclass
class AnalyticsRun:
    """One analytics worker counting a backlog of ``comments.tagged``."""

    comments: int
    throughput: float
    cpu_percent: float
    peak_mib: float
    load: float


@dataclass
class WorkerRun:
    workers: int
    comments: int
    throughput: float
    worker_cpu_percent: list[float]
    worker_peak_mib: list[float]
    latency_rate: float = 0.0
    latency_count: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    load: list[float] = field(default_factory=list)
    agents: str = CLASSIFICATION_AGENTS
    analytics: AnalyticsRun | None = None


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class Arrivals:
    """A ``read_committed`` consumer in a thread, noting when each key first arrives."""

    def __init__(self, bootstrap: str, topic: str, want_latency: bool = False) -> None:
        self.consumer = KafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            group_id=None,
            isolation_level="read_committed",
            fetch_max_wait_ms=50,
            max_poll_records=2000,
        )
        self.want_latency = want_latency
        self.seen: dict[bytes, float] = {}
        self.latencies: list[float] = []
        self.duplicates = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for records in self.consumer.poll(timeout_ms=100).values():
                now = time.time()
                for m in records:
                    if m.key in self.seen:
                        self.duplicates += 1
                        continue
                    self.seen[m.key] = now
                    if self.want_latency and m.key.startswith(LATENCY_KEY):
                        received = orjson.loads(m.value)["comment"]["received_at"]
                        self.latencies.append(now - _epoch(received))

    def wait(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while len(self.seen) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return len(self.seen) >= count

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.consumer.close()


class CountedTotals:
    """Reads ``analytics.aggregates`` in a thread: how many comments the day windows hold in total
    (latest record per key, all shards), with when each new total was seen and the counting
    process's CPU seconds then."""

    def __init__(self, bootstrap: str, topic: str, usage: ProcessUsage) -> None:
        self.consumer = KafkaConsumer(
            topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None, fetch_max_wait_ms=50
        )
        self.usage = usage
        self.latest: dict[bytes, int] = {}
        self.total = 0
        self.seen: list[tuple[float, int, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            changed = False
            for records in self.consumer.poll(timeout_ms=100).values():
                for m in records:
                    value = orjson.loads(m.value)
                    if value["window"] == "day" and value["dimension"] == "all":
                        self.latest[m.key] = int(value["comments"])
                        changed = True
            if changed:
                self.total = sum(self.latest.values())
                self.seen.append((time.monotonic(), self.total, self.usage.cpu_seconds()))

    def wait(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.total < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.total >= count

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.consumer.close()


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def raw_kafka(bootstrap: str, n: int) -> RawKafka:
    prefix = f"bench-raw-{int(time.time())}."
    ensure_topics(bootstrap, prefix)
    try:
        payloads = [(c.key.encode(), encode(c)) for c in comments(n, seed=2)]
        sink = KafkaSink(bootstrap, prefix, linger_ms=20, batch_size=262_144)
        start = time.perf_counter()
        for key, value in payloads:
            sink.send_raw(COMMENTS_RAW, key, value)
        sink.flush()
        produce = n / (time.perf_counter() - start)
        sink.close()
        arrivals = Arrivals(bootstrap, prefix + COMMENTS_RAW.name)
        start = time.perf_counter()
        arrivals.wait(n, 300)
        consume = len(arrivals.seen) / (time.perf_counter() - start)
        arrivals.close()
        return RawKafka(n, sum(len(v) for _, v in payloads) // n, produce, consume)
    finally:
        delete_topics(bootstrap, prefix)


class Worker(WorkerProcess):
    """The worker as a subprocess on the bench's topics, with its CPU and memory watched."""

    def __init__(
        self,
        bootstrap: str,
        prefix: str,
        app_id: str,
        name: str,
        logdir: Path,
        agents: str,
        settings: dict[str, str] | None = None,
    ) -> None:
        super().__init__(
            bootstrap,
            prefix,
            app_id,
            logdir / f"{name}.log",
            data_dir=logdir / name,
            args=("--loglevel", "warning", "--agents", agents),
            settings={"CIVICWATCH_LOG_LEVEL": "WARNING", **(settings or {})},
        )
        self.start()
        assert self.proc is not None
        self.usage = ProcessUsage(self.proc.pid)

    def stop(self, kill: bool = False, timeout: float = 60.0) -> None:
        super().stop(kill, timeout)


def analytics_run(bootstrap: str, prefix: str, app_id: str, tagged: int, logdir: Path) -> AnalyticsRun:
    """Start an analytics worker on ``tagged`` comments already waiting, and time their counting."""
    counter = Worker(
        bootstrap, prefix, app_id, "analytics", logdir, "analytics", {"CIVICWATCH_ANALYTICS_INTERVAL": "0.5"}
    )
    totals = CountedTotals(bootstrap, prefix + "analytics.aggregates", counter.usage)
    try:
        if not totals.wait(tagged, 900):
            raise RuntimeError(f"analytics counted {totals.total} of {tagged} comments; see {logdir}")
        time.sleep(2.0)  # a total beyond the count would be a comment counted twice
        if totals.total != tagged:
            raise RuntimeError(f"analytics counted {totals.total} comments, {tagged} were tagged; see {logdir}")
        (t0, n0, cpu0), (t1, n1, cpu1) = totals.seen[0], next(s for s in totals.seen if s[1] >= tagged)
        elapsed = max(t1 - t0, 1e-9)
        # The first total already holds what was counted before it; the rate is over what follows.
        return AnalyticsRun(
            tagged,
            (n1 - n0) / elapsed,
            round((cpu1 - cpu0) / elapsed * 100),
            round(counter.usage.peak_rss_mib()),
            load(),
        )
    finally:
        totals.close()
        counter.stop()


def worker_run(
    bootstrap: str,
    workers: int,
    n: int,
    latency_seconds: float,
    latency_rate: float | None,
    logdir: Path,
    agents: str = CLASSIFICATION_AGENTS,
) -> WorkerRun:
    """Classification workers (``agents``) on the real broker, then analytics on their output
    unless the workers count it themselves."""
    prefix = f"bench-w{workers}-{int(time.time())}."
    app_id = f"bench-{prefix.strip('.')}"
    created = datetime.now(UTC)  # analytics counts comments in the windows of their time: keep it current
    ensure_topics(bootstrap, prefix)
    procs: list[Worker] = []
    try:
        procs = [Worker(bootstrap, prefix, app_id, f"worker-{i}", logdir, agents) for i in range(workers)]
        tagged = prefix + "comments.tagged"
        arrivals = Arrivals(bootstrap, tagged)
        warm = list(comments(64 * workers, seed=1, prefix="warm", created=created))
        sink = KafkaSink(bootstrap, prefix, linger_ms=20, batch_size=262_144)
        for c in warm:
            sink.send(COMMENTS_RAW, c)
        sink.flush()
        if not arrivals.wait(len(warm), 600):
            raise RuntimeError(f"workers did not start; see {logdir}")
        time.sleep(3.0)  # let a second worker's rebalance settle before timing
        arrivals.close()

        payloads = [(c.key.encode(), encode(c)) for c in comments(n, seed=4, received_now=True, created=created)]
        arrivals = Arrivals(bootstrap, tagged)
        cpu_before = [p.usage.cpu_seconds() for p in procs]
        started = time.time()
        for key, value in payloads:
            sink.send_raw(COMMENTS_RAW, key, value)
        sink.flush()
        if not arrivals.wait(len(warm) + n, 1800):
            raise RuntimeError(f"only {len(arrivals.seen)} of {n} comments arrived; see {logdir}")
        elapsed = max(arrivals.seen.values()) - started
        cpu = [(p.usage.cpu_seconds() - b) / elapsed * 100 for p, b in zip(procs, cpu_before, strict=True)]
        run = WorkerRun(workers, n, n / elapsed, [round(c) for c in cpu], [], load=[load()], agents=agents)
        arrivals.close()

        rate = latency_rate or run.throughput / 2
        arrivals = Arrivals(bootstrap, tagged, want_latency=True)
        arrivals.wait(len(warm) + n, 120)
        sent = 0
        start = time.monotonic()
        for c in comments(int(rate * latency_seconds), seed=6, prefix="lat", received_now=True, created=created):
            delay = start + sent / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sink.send(COMMENTS_RAW, c)
            sent += 1
        sink.flush()
        arrivals.wait(len(warm) + n + sent, 300)
        latencies = [x * 1000 for x in arrivals.latencies]
        arrivals.close()
        sink.close()
        run.latency_rate = sent / (time.monotonic() - start)
        run.latency_count = len(latencies)
        run.p50_ms, run.p95_ms, run.p99_ms = (percentile(latencies, q) for q in (50, 95, 99))
        run.worker_peak_mib = [round(p.usage.peak_rss_mib()) for p in procs]
        run.load.append(load())
        if "analytics" not in agents.split(","):
            for p in procs:  # analytics gets the machine, as it would get its own pods
                p.stop()
            run.analytics = analytics_run(bootstrap, prefix, app_id, len(warm) + n + sent, logdir)
        return run
    finally:
        for p in procs:
            p.stop()
        delete_topics(bootstrap, prefix)
