"""Crashes, restarts and handovers on the real broker: every comment reaches each of its outputs once.

Readers use ``isolation_level=read_committed`` (``consume_all``), as every consumer of the worker's
outputs must. Expected routes come from classifying the same comments in this process, so these
tests check delivery, not the detectors' judgement.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kafka import KafkaConsumer

from benchmarks.corpus import comments
from civicwatch import kafka_local
from pipelines.pipeline import PolicyPipeline
from pipelines.types import CommentInput
from runtime.admin import delete_topics, ensure_topics
from runtime.sink import KafkaSink
from schemas import Comment, encode
from schemas.topics import COMMENTS_RAW
from tests.conftest import REPO, WorkerProcess, consume_all

pytestmark = pytest.mark.integration

N = int(os.environ.get("CIVICWATCH_FAULT_COMMENTS", "8000"))
"""Enough for each fault to land with work queued on both sides of it (half a minute or more of
processing on 2 cores); ``make soak`` runs 200,000."""
SESSION_TIMEOUT = "8"


@dataclass(frozen=True)
class Expected:
    comments: list[Comment]
    review: set[str]
    council: set[str]
    hidden: set[str]

    @property
    def keys(self) -> set[str]:
        return {c.key for c in self.comments}


@pytest.fixture(scope="module")
def expected() -> Expected:
    corpus = list(comments(N, seed=11, prefix="f"))
    pipeline = PolicyPipeline()
    results = pipeline.classify_batch([CommentInput(c.text, language=c.language) for c in corpus])
    review = {c.key for c, r in zip(corpus, results, strict=True) if r.flagged}
    council = {c.key for c, r in zip(corpus, results, strict=True) if r.council}
    hidden = {c.key for c, r in zip(corpus, results, strict=True) if r.flagged and r.action == "auto_hide"}
    assert review and council and hidden, "the corpus must exercise every route"
    return Expected(corpus, review, council, hidden)


def produce(bootstrap: str, prefix: str, items: list[Comment]) -> None:
    sink = KafkaSink(bootstrap, prefix, linger_ms=20)
    for c in items:
        sink.send_raw(COMMENTS_RAW, c.key.encode(), encode(c))
    sink.flush()
    sink.close()


def processed(worker: WorkerProcess) -> int:
    """Comments the worker reported as processed (all runs of its log)."""
    total = 0
    for line in worker.log().splitlines():
        if '"batch_processed"' in line:
            try:
                total += int(json.loads(line).get("comments", 0))
            except ValueError:
                continue
    return total


def owned(worker: WorkerProcess) -> set[int]:
    """The input partitions the worker's last rebalance gave it."""
    last: set[int] = set()
    for line in worker.log().splitlines():
        if '"partitions_assigned"' in line:
            last = set(json.loads(line)["partitions"])
    return last


def shared(first: WorkerProcess, second: WorkerProcess) -> bool:
    """Each worker owns some partitions, none owns one the other does, and together they own all."""
    a, b = owned(first), owned(second)
    return bool(a) and bool(b) and not a & b and a | b == {0, 1, 2, 3}


def wait_for(condition: object, timeout: float, what: str, worker: WorkerProcess | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        if worker is not None and not worker.alive():
            pytest.fail(f"worker died while waiting for {what}:\n{worker.log()[-3000:]}")
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}" + (f":\n{worker.log()[-3000:]}" if worker else ""))


def committed_count(bootstrap: str, topic: str) -> int:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        consumer_timeout_ms=1500,
        isolation_level="read_committed",
    )
    try:
        return sum(1 for _ in consumer)
    finally:
        consumer.close()


def assert_exactly_once(bootstrap: str, prefix: str, want: Expected, workers: tuple[WorkerProcess, ...] = ()) -> None:
    """Each output holds each expected key exactly once: no loss, no duplicate.

    Each output is read for as long as the workers keep adding to it (two minutes without a
    new record is a stuck worker, not a slow one); on a loss the surviving workers' logs end the
    message, since a stuck rebalance shows there and nowhere else.
    """
    for topic, keys in (
        ("comments.tagged", want.keys),
        ("moderation.review", want.review),
        ("council.forward", want.council),
        ("moderation.actions", want.hidden),
        ("audit.log", want.hidden),
    ):
        records = consume_all(bootstrap, prefix + topic, len(keys), timeout=1500, stall=120)
        got = Counter(m.key.decode() for m in records)
        missing = keys - set(got)
        dup = [k for k, n in got.items() if n > 1]
        assert not missing, (
            f"{topic}: {len(missing)} comment(s) lost: {diagnose(bootstrap, prefix, topic, missing)}"
            + "".join(f"\n--- {w.log_path.name}:\n{w.log()[-3000:]}" for w in workers if w.alive())
        )
        assert not dup, f"{topic}: {len(dup)} comment(s) duplicated, e.g. {dup[:5]}"
        extra = sorted(set(got) - keys)[:3]
        assert not extra, f"{topic}: unexpected keys, e.g. " + "; ".join(
            m.value.decode(errors="replace")[:600] for m in records if m.key.decode() in extra
        )
    dead = consume_all(bootstrap, prefix + "comments.deadletter", 0, timeout=5, settle=1)
    assert not dead, f"{len(dead)} valid comment(s) dead-lettered"


def diagnose(bootstrap: str, prefix: str, topic: str, missing: set[str]) -> str:
    """Where the lost keys are: in the input at all, and in the output's uncommitted records."""
    found: dict[str, list[str]] = {k: [] for k in sorted(missing)[:5]}
    for name, isolation in (("comments.raw", "read_uncommitted"), (topic, "read_uncommitted")):
        consumer = KafkaConsumer(
            prefix + name,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            group_id=None,
            consumer_timeout_ms=3000,
            isolation_level=isolation,
        )
        for m in consumer:
            key = m.key.decode() if m.key else ""
            if key in found:
                found[key].append(f"{name}[{m.partition}]@{m.offset}")
        consumer.close()
    return repr(found)


@pytest.fixture()
def topics(kafka_bootstrap: str, request: pytest.FixtureRequest) -> Iterator[str]:
    prefix = f"f{abs(hash(request.node.name)) % 10**8:08d}{int(time.time()) % 10**5}."
    ensure_topics(kafka_bootstrap, prefix, default_partitions=4)
    yield prefix
    delete_topics(kafka_bootstrap, prefix)


def worker_for(bootstrap: str, prefix: str, tmp: Path, name: str, app_id: str | None = None) -> WorkerProcess:
    worker = WorkerProcess(bootstrap, prefix, app_id or f"fault-{prefix.strip('.')}", tmp / f"{name}.log")
    worker.env["CIVICWATCH_SESSION_TIMEOUT"] = SESSION_TIMEOUT
    worker.env["CIVICWATCH_DATA_DIR"] = str(tmp / f"{name}-data")
    return worker


def test_sigkill_mid_run_then_restart_loses_and_repeats_nothing(
    kafka_bootstrap: str, topics: str, expected: Expected, tmp_path: Path
) -> None:
    produce(kafka_bootstrap, topics, expected.comments)
    worker = worker_for(kafka_bootstrap, topics, tmp_path, "worker").start()
    try:
        for fraction in (0.25, 0.6):
            start = processed(worker)
            wait_for(lambda s=start, f=fraction: processed(worker) >= max(s + 512, f * N), 600, "progress", worker)
            worker.stop(kill=True)  # SIGKILL: no flush, no commit, open transactions left behind
            done = committed_count(kafka_bootstrap, topics + "comments.tagged")
            assert 0 < done < N, f"the kill must land mid-run (tagged so far: {done} of {N})"
            worker.start()
        assert_exactly_once(kafka_bootstrap, topics, expected, (worker,))
        assert worker.alive(), worker.log()[-3000:]
    finally:
        worker.stop()


def test_two_workers_share_partitions_and_survive_one_dying(
    kafka_bootstrap: str, topics: str, expected: Expected, tmp_path: Path
) -> None:
    app_id = f"pair-{topics.strip('.')}"
    first = worker_for(kafka_bootstrap, topics, tmp_path, "first", app_id).start()
    second = worker_for(kafka_bootstrap, topics, tmp_path, "second", app_id)
    try:
        # A rolling start, as Kubernetes does it: the first worker declares the tables' changelogs.
        wait_for(lambda: owned(first) == {0, 1, 2, 3}, 300, "the first worker owning every partition", first)
        second.start()
        wait_for(lambda: shared(first, second), 300, "the two workers sharing the partitions", second)
        produce(kafka_bootstrap, topics, expected.comments)
        wait_for(lambda: processed(first) > 0 and processed(second) > 0, 600, "both workers processing", second)
        wait_for(lambda: processed(first) + processed(second) >= N // 3, 600, "a third of the run", second)
        first.stop(kill=True)
        assert processed(first) < N, "the first worker must die with work left"
        assert_exactly_once(kafka_bootstrap, topics, expected, (second,))
        assert second.alive(), second.log()[-3000:]
        assert "batch_handed_over" not in second.log() or processed(second) > 0
    finally:
        first.stop()
        second.stop()


FAULT_PORT = int(os.environ.get("CIVICWATCH_FAULT_KAFKA_PORT", "19530"))


@pytest.fixture()
def fault_broker() -> Iterator[dict[str, str]]:
    """A broker of this test's own, so stopping it disturbs no other test."""
    env = {
        "CIVICWATCH_KAFKA_PORT": str(FAULT_PORT),
        "CIVICWATCH_KAFKA_DIR": str(REPO / ".local" / "kafka-fault"),
        "KAFKA_BOOTSTRAP_SERVERS": "",
    }
    if kafka_local.is_external():
        pytest.fail("the broker-restart test needs the local broker (unset KAFKA_BOOTSTRAP_SERVERS)")
    kafka_local.up(timeout=120, env=env)
    yield env
    kafka_local.down(env)


def test_broker_restart_mid_run_recovers_without_loss(
    fault_broker: dict[str, str], expected: Expected, tmp_path: Path
) -> None:
    bootstrap = f"127.0.0.1:{FAULT_PORT}"
    prefix = f"r{int(time.time())}."
    ensure_topics(bootstrap, prefix, default_partitions=4)
    worker = worker_for(bootstrap, prefix, tmp_path, "worker").start()
    errors: list[BaseException] = []
    half = len(expected.comments) // 2

    def connector() -> None:
        # A connector keeps producing through the outage: kafka-python buffers and retries.
        try:
            sink = KafkaSink(bootstrap, prefix, linger_ms=20, delivery_timeout_ms=300_000)
            for i, c in enumerate(expected.comments[half:]):
                sink.send_raw(COMMENTS_RAW, c.key.encode(), encode(c))
                if i % 500 == 0:
                    time.sleep(0.2)
            sink.flush()
            sink.close()
        except BaseException as exc:
            errors.append(exc)

    try:
        produce(bootstrap, prefix, expected.comments[:half])
        wait_for(lambda: processed(worker) >= 1000, 600, "progress", worker)
        thread = threading.Thread(target=connector, daemon=True)
        thread.start()
        time.sleep(1.0)
        kafka_local.down(fault_broker)
        time.sleep(5.0)
        assert worker.alive(), "the worker must ride out the outage"
        kafka_local.up(timeout=120, env=fault_broker)
        thread.join(600)
        assert not thread.is_alive(), "the connector did not finish after the broker came back"
        assert not errors, f"the connector failed: {errors[0]!r}"
        assert_exactly_once(bootstrap, prefix, expected, (worker,))
        assert worker.alive(), worker.log()[-3000:]
    finally:
        worker.stop()


def test_agents_read_only_committed_records(kafka_bootstrap: str) -> None:
    """Agents reading the worker's outputs (analytics on comments.tagged) must skip aborted batches."""
    import asyncio

    from workers.app import app

    async def settings() -> tuple[str, int]:
        consumer = app.consumer._thread._create_worker_consumer(app.transport)
        try:
            return str(consumer._isolation_level), int(consumer._fetch_max_wait_ms)
        finally:
            await consumer.stop()

    assert asyncio.run(settings()) == ("read_committed", 50)
