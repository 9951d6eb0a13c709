"""The soak on a three-node cluster: hours of comments at half the sustained rate, a broker killed
and restarted on a schedule, and what it cost.

    civicwatch bench soak-cluster --minutes 60 --kill-every 600     # make soak-cluster

Phases, on fresh topics (replication 3, ``min.insync.replicas=2``) of a local three-node KRaft
cluster (``kafka.sh`` with ``CIVICWATCH_KAFKA_BROKERS=3``, which the command starts if it is not
running and stops after; this module only kills and starts nodes through ``Nodes``):

* rate: one warmed-up worker takes a backlog of comments as fast as it can; the sustained rate is
  that backlog over the time to its last arrival in ``comments.tagged``, and the soak runs at half
  of it (``--rate`` sets it instead);
* soak: a connector's producer (``KafkaSink``) sends at that rate for ``--minutes``; every
  ``--kill-every`` seconds the node leading the most ``comments.raw`` partitions is SIGKILLed and
  started again ``--down`` seconds later; the time from a kill until one more second's worth of
  comments has arrived in ``comments.tagged`` is its recovery. A ``read_committed`` consumer notes
  each comment's arrival in ``comments.tagged`` and its latency from ``received_at``; the worker's
  resident memory is read every ten seconds.

Reported: comments sent, lost (sent, never in ``comments.tagged``), duplicated (a key seen twice in
``comments.tagged`` or any other output), dead-lettered, and per window (``--window``, ten minutes
by default): comments, p50 and p99 latency, the worker's RSS, and the kills in it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import orjson
from kafka import KafkaAdminClient, KafkaConsumer

from benchmarks.corpus import comments
from benchmarks.endtoend import CLASSIFICATION_AGENTS, LATENCY_KEY, Worker, _epoch, percentile
from benchmarks.machine import load
from runtime.admin import delete_topics, ensure_topics
from runtime.sink import KafkaSink
from schemas import encode
from schemas.topics import COMMENTS_RAW

OUTPUTS = ("moderation.review", "council.forward", "moderation.actions", "audit.log")


class Nodes(Protocol):
    """The cluster's nodes, as the caller runs them (``civicwatch.kafka_local`` for the local one)."""

    def kill(self, node: int) -> None: ...

    def start(self, node: int) -> None: ...

    def wait_ready(self) -> None:
        """Until every node is back and answering."""
        ...


@dataclass
class Window:
    index: int
    comments: int
    p50_ms: float
    p99_ms: float
    rss_mib: float
    kills: list[str] = field(default_factory=list)


@dataclass
class SoakResult:
    minutes: float
    kill_every_s: float
    measured_rate: float
    rate: float
    sent: int
    arrived: int
    lost: int
    duplicated: int
    duplicated_other_outputs: int
    dead_lettered: int
    windows: list[Window]
    rss_curve: list[tuple[float, float]]
    recoveries_s: list[float]
    load: tuple[float, float]


class Arrivals:
    """``comments.tagged`` read ``read_committed`` in a thread: first arrival time and latency per key."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.consumer = KafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            group_id=None,
            isolation_level="read_committed",
            fetch_max_wait_ms=50,
            max_poll_records=2000,
        )
        self.seen: set[bytes] = set()
        self.samples: list[tuple[float, float]] = []
        self.duplicates = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                polled = self.consumer.poll(timeout_ms=200)
            except Exception:  # a node going down mid-poll; the consumer reconnects on the next one
                time.sleep(0.5)
                continue
            for records in polled.values():
                now = time.time()
                for m in records:
                    if m.key in self.seen:
                        self.duplicates += 1
                        continue
                    self.seen.add(m.key)
                    if m.key.startswith(LATENCY_KEY):
                        received = orjson.loads(m.value)["comment"]["received_at"]
                        self.samples.append((now, now - _epoch(received)))

    def wait(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while len(self.seen) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return len(self.seen) >= count

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.consumer.close()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def leader_of_most(bootstrap: str, topic: str) -> int:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
    try:
        (described,) = admin.describe_topics([topic])
        return Counter(int(p["leader_id"]) for p in described["partitions"] if p["leader_id"] >= 0).most_common(1)[0][0]
    finally:
        admin.close()


def duplicates_in(bootstrap: str, topic: str) -> int:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        consumer_timeout_ms=5000,
        isolation_level="read_committed",
    )
    try:
        counts = Counter(m.key for m in consumer)
    finally:
        consumer.close()
    return sum(n - 1 for n in counts.values() if n > 1)


def measure_rate(bootstrap: str, prefix: str, n: int) -> float:
    """The worker's sustained rate on this cluster: once it is warm (500 comments through), a backlog
    of ``n`` over the time from its first send to its last arrival."""
    arrivals = Arrivals(bootstrap, prefix + "comments.tagged")
    sink = KafkaSink(bootstrap, prefix, linger_ms=20)
    batch = list(comments(n + 500, seed=5, prefix="warm"))
    for c in batch[:500]:
        sink.send_raw(COMMENTS_RAW, c.key.encode(), encode(c))
    sink.flush()
    if not arrivals.wait(500, 900):
        raise RuntimeError("the worker did not start processing within 15 minutes")
    start = time.monotonic()
    for c in batch[500:]:
        sink.send_raw(COMMENTS_RAW, c.key.encode(), encode(c))
    sink.flush()
    sink.close()
    if not arrivals.wait(n + 500, 1800):
        raise RuntimeError(f"rate measurement: {len(arrivals.seen)} of {n + 500} comments arrived")
    arrivals.close()
    return n / (time.monotonic() - start)


def soak(
    bootstrap: str,
    nodes: Nodes,
    minutes: float,
    kill_every: float,
    down: float,
    window: float,
    rate: float | None,
    warmup: int,
    logdir: Path,
) -> SoakResult:
    prefix = f"soak{int(time.time())}."
    ensure_topics(bootstrap, prefix, default_partitions=4, replication=3)
    load_before = load()
    worker = Worker(
        bootstrap, prefix, f"soak-{prefix.strip('.')}", "worker", logdir, CLASSIFICATION_AGENTS,
        settings={"CIVICWATCH_REPLICATION": "3", "CIVICWATCH_SESSION_TIMEOUT": "10"},
    )  # fmt: skip
    assert worker.proc is not None
    try:
        measured = measure_rate(bootstrap, prefix, warmup)
        target = rate or measured / 2
        print(f"soak: sustained {measured:.0f}/s on this cluster; soaking at {target:.0f}/s for {minutes:g} min")
        total = int(target * minutes * 60)
        arrivals = Arrivals(bootstrap, prefix + "comments.tagged")
        arrivals.wait(warmup + 500, 600)
        baseline = len(arrivals.seen)
        stop = threading.Event()
        rss: list[tuple[float, float]] = []
        kills: list[tuple[float, str]] = []
        recoveries: list[float] = []
        errors: list[BaseException] = []
        sent = [0]
        t0 = time.time()

        def produce() -> None:
            try:
                sink = KafkaSink(bootstrap, prefix, linger_ms=20, delivery_timeout_ms=600_000)
                begin = time.monotonic()
                for i, c in enumerate(comments(total, seed=23, prefix="lat", received_now=True)):
                    delay = begin + i / target - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    sink.send_raw(COMMENTS_RAW, c.key.encode(), encode(c))
                    sent[0] = i + 1
                sink.flush()
                sink.close()
            except BaseException as exc:  # reported below
                errors.append(exc)

        def sample() -> None:
            while not stop.wait(10.0):
                rss.append((time.time() - t0, rss_mib(worker.proc.pid)))  # type: ignore[union-attr]

        def watch(killed: float, before: int) -> None:
            # Recovered: one more second's worth of comments has arrived since the kill.
            while len(arrivals.seen) <= before + target and not stop.is_set():
                time.sleep(0.2)
            recoveries.append(time.time() - killed)

        def chaos() -> None:
            while not stop.wait(kill_every):
                node = leader_of_most(bootstrap, prefix + "comments.raw")
                killed = time.time()
                before = len(arrivals.seen)
                nodes.kill(node)
                kills.append((killed - t0, f"node {node} killed"))
                threading.Thread(target=watch, args=(killed, before), daemon=True).start()
                if stop.wait(down):
                    nodes.start(node)
                    return
                nodes.start(node)
                kills.append((time.time() - t0, f"node {node} back"))

        threads = [threading.Thread(target=f, daemon=True) for f in (produce, sample, chaos)]
        for t in threads:
            t.start()
        threads[0].join()
        stop.set()
        for t in threads[1:]:
            t.join(600)
        if errors:
            raise RuntimeError(f"the producer failed: {errors[0]!r}")
        nodes.wait_ready()
        arrivals.wait(baseline + sent[0], 900)
        time.sleep(10)  # late duplicates would show now
        arrivals.close()
        if not worker.alive():
            raise RuntimeError(f"the worker died:\n{worker.log()[-3000:]}")
        expected = {c.key.encode() for c in comments(sent[0], seed=23, prefix="lat")}
        lost = len(expected - arrivals.seen)
        other = sum(duplicates_in(bootstrap, prefix + t) for t in OUTPUTS)
        dead_count = _count(bootstrap, prefix + "comments.deadletter")
        windows = _windows(arrivals.samples, rss, kills, t0, window, minutes)
        return SoakResult(
            minutes, kill_every, measured, target, sent[0], len(expected & arrivals.seen), lost,
            arrivals.duplicates, other, dead_count, windows, rss, recoveries, (load_before, load()),
        )  # fmt: skip
    finally:
        worker.stop()
        nodes.wait_ready()
        delete_topics(bootstrap, prefix)


def _count(bootstrap: str, topic: str) -> int:
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None, consumer_timeout_ms=3000
    )
    try:
        return sum(1 for _ in consumer)
    finally:
        consumer.close()


def _windows(
    samples: list[tuple[float, float]],
    rss: list[tuple[float, float]],
    kills: list[tuple[float, str]],
    t0: float,
    window: float,
    minutes: float,
) -> list[Window]:
    count = max(1, int(-(-minutes * 60 // window)))
    out = []
    for i in range(count):
        lo, hi = i * window, (i + 1) * window if i < count - 1 else float("inf")
        lat = [d for t, d in samples if lo <= t - t0 < hi]
        mem = [m for t, m in rss if lo <= t < hi]
        out.append(
            Window(
                i,
                len(lat),
                round(percentile(lat, 50) * 1000),
                round(percentile(lat, 99) * 1000),
                round(max(mem), 1) if mem else float("nan"),
                [f"{what} at {t / 60:.1f} min" for t, what in kills if lo <= t < hi],
            )
        )
    return out


def render(result: SoakResult, command: str) -> str:
    lines = [
        f"`{command}`: {result.minutes:g} min at {result.rate:.0f} comments/s (the worker's sustained rate "
        f"on the cluster: {result.measured_rate:.0f}/s), the node leading the most `comments.raw` partitions "
        f"SIGKILLed every {result.kill_every_s / 60:g} min. Load {result.load[0]:.1f} → {result.load[1]:.1f}.",
        "",
        f"Sent {result.sent:,}; in `comments.tagged` {result.arrived:,}; **lost {result.lost}**, "
        f"**duplicated {result.duplicated}** (other outputs: {result.duplicated_other_outputs}), "
        f"dead-lettered {result.dead_lettered}. Time from each kill until one more second's worth of "
        "comments had arrived in `comments.tagged`: " + ", ".join(f"{r:.0f} s" for r in result.recoveries_s) + ".",
        "",
        "| window | comments | p50 | p99 | worker RSS (max) | faults |",
        "|---|---|---|---|---|---|",
    ]
    for w in result.windows:
        lines.append(
            f"| {w.index + 1} | {w.comments:,} | {w.p50_ms} ms | {w.p99_ms} ms | {w.rss_mib} MiB | "
            f"{'; '.join(w.kills) or '-'} |"
        )
    curve = ", ".join(f"{m:.0f}" for _, m in result.rss_curve[:: max(1, len(result.rss_curve) // 24)])
    lines += ["", f"Worker RSS (MiB), sampled through the run: {curve}."]
    return "\n".join(lines)
