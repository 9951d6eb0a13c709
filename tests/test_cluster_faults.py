"""A broker lost under load, on three local KRaft nodes: every comment reaches each output once.

Topics have replication 3 and ``min.insync.replicas=2``; the cluster runs with
``unclean.leader.election.enable=false`` and a transaction state log replicated 3 with min ISR 2, as
deploy/kubernetes/README.md asks of a production cluster. Each test counts every comment id in every
output with a ``read_committed`` consumer of its own (``assert_exactly_once``), checks that the worker
and the connector were never restarted, and prints the time to recover (never asserted: the machine
is shared and slow).

Sizes: the leader kill runs 10,000 comments, enough for the kill to land with work queued on both
sides of it (tens of seconds of processing on 2 cores). The controller kill and the rolling restart
run 6,000: the controller's loss moves no partition leadership by itself, and the rolling restart's
length is set by the three node restarts (a minute or more each on a loaded machine) and the replay
connector's rate (25/s, about four minutes), not by the comment count.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

from benchmarks.corpus import comments
from pipelines.pipeline import PolicyPipeline
from pipelines.types import CommentInput
from runtime.admin import delete_topics, ensure_topics
from runtime.sink import KafkaSink
from schemas import Comment, encode
from schemas.topics import COMMENTS_RAW
from tests.conftest import REPO, LocalCluster, WorkerProcess
from tests.test_faults import Expected, assert_exactly_once, owned, processed, shared, wait_for, worker_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(2400)]

N_LEADER = 10_000
N_OTHER = 6_000


@pytest.fixture(scope="module")
def cluster(kafka_cluster: LocalCluster) -> Iterator[LocalCluster]:
    kafka_cluster.heal()
    yield kafka_cluster
    kafka_cluster.heal()


@pytest.fixture()
def prefix(cluster: LocalCluster, request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"k{abs(hash(request.node.name)) % 10**6:06d}{int(time.time()) % 10**5}."
    ensure_topics(cluster.bootstrap, name, default_partitions=4, replication=3)
    yield name
    cluster.heal()
    delete_topics(cluster.bootstrap, name)


@pytest.fixture(scope="module")
def expected() -> Expected:
    """Routes from classifying the same comments here, so these tests check delivery, not judgement."""
    corpus = list(comments(N_LEADER, seed=17, prefix="k"))
    results = PolicyPipeline().classify_batch([CommentInput(c.text, language=c.language) for c in corpus])
    pairs = list(zip(corpus, results, strict=True))
    return Expected(
        corpus,
        {c.key for c, r in pairs if r.flagged},
        {c.key for c, r in pairs if r.council},
        {c.key for c, r in pairs if r.flagged and r.action == "auto_hide"},
    )


def subset(want: Expected, n: int) -> Expected:
    items = want.comments[:n]
    keys = {c.key for c in items}
    return Expected(items, want.review & keys, want.council & keys, want.hidden & keys)


@pytest.fixture(scope="module")
def small(expected: Expected) -> Expected:
    return subset(expected, N_OTHER)


def cluster_worker(cluster: LocalCluster, prefix: str, tmp: Path, name: str, app_id: str) -> WorkerProcess:
    worker = worker_for(cluster.bootstrap, prefix, tmp, name, app_id)
    worker.env["CIVICWATCH_REPLICATION"] = "3"
    return worker


class Connector(threading.Thread):
    """A connector's producer (``KafkaSink``: acks=all, idempotent, retries) sending through the fault."""

    def __init__(self, bootstrap: str, prefix: str, items: list[Comment], pause_every: int = 500) -> None:
        super().__init__(daemon=True)
        self.bootstrap, self.prefix, self.items, self.pause_every = bootstrap, prefix, items, pause_every
        self.errors: list[BaseException] = []

    def run(self) -> None:
        try:
            sink = KafkaSink(self.bootstrap, self.prefix, linger_ms=20, delivery_timeout_ms=300_000)
            for i, c in enumerate(self.items):
                sink.send_raw(COMMENTS_RAW, c.key.encode(), encode(c))
                if i % self.pause_every == 0:
                    time.sleep(0.2)
            sink.flush()
            sink.close()
        except BaseException as exc:  # reported by the test
            self.errors.append(exc)


def recovery(
    progress: Callable[[], int], since: float, workers: list[WorkerProcess], total: int, more: int = 1000
) -> float:
    """Seconds from ``since`` until the workers processed ``more`` comments beyond what they had at
    the call (or reached ``total``): the fault is behind them."""
    start = progress()
    target = min(start + more, total)
    wait_for(lambda: progress() >= target, 900, "progress after the fault", workers[0])
    for w in workers:
        assert w.alive(), f"a worker died during the fault:\n{w.log()[-3000:]}"
    return time.monotonic() - since


def assert_never_restarted(worker: WorkerProcess) -> None:
    assert worker.alive(), worker.log()[-3000:]
    starts = worker.log().count('"worker_starting"')
    assert starts <= 1, f"the worker started {starts} times"


def test_leader_broker_sigkill_mid_run_loses_and_repeats_nothing(
    cluster: LocalCluster, prefix: str, expected: Expected, tmp_path: Path
) -> None:
    want = subset(expected, N_LEADER)
    worker = cluster_worker(cluster, prefix, tmp_path, "worker", f"lead-{prefix.strip('.')}").start()
    half = len(want.comments) // 2
    connector = Connector(cluster.bootstrap, prefix, want.comments[half:], pause_every=50)
    try:
        connector_first = Connector(cluster.bootstrap, prefix, want.comments[:half], pause_every=10**9)
        connector_first.run()
        assert not connector_first.errors, connector_first.errors
        connector.start()
        wait_for(lambda: processed(worker) >= len(want.comments) // 4, 900, "a quarter of the run", worker)
        leaders = cluster.leaders(prefix + "comments.raw")
        victim = leaders.most_common(1)[0][0]
        killed_at = time.monotonic()
        cluster.kill(victim)
        assert 0 < processed(worker) < len(want.comments), "the kill must land mid-run"
        took = recovery(lambda: processed(worker), killed_at, [worker], len(want.comments))
        print(f"\nleader kill: node {victim} led {leaders[victim]} of 4 comments.raw partitions;", end=" ")
        print(f"the worker went on in {took:.1f}s")
        wait_for(lambda: processed(worker) >= len(want.comments) * 0.6, 900, "60% of the run", worker)
        restarted_at = time.monotonic()
        cluster.start(victim)
        cluster.wait_in_sync(prefix)
        print(f"node {victim} restarted; replicas in sync {time.monotonic() - restarted_at:.1f}s after its start")
        connector.join(900)
        assert not connector.is_alive(), "the connector did not finish after the broker loss"
        assert not connector.errors, f"the connector failed: {connector.errors[0]!r}"
        assert_exactly_once(cluster.bootstrap, prefix, want, (worker,))
        assert_never_restarted(worker)
    finally:
        worker.stop()


def test_active_controller_sigkill_loses_and_repeats_nothing(
    cluster: LocalCluster, prefix: str, small: Expected, tmp_path: Path
) -> None:
    worker = cluster_worker(cluster, prefix, tmp_path, "worker", f"ctl-{prefix.strip('.')}").start()
    half = len(small.comments) // 2
    connector = Connector(cluster.bootstrap, prefix, small.comments[half:], pause_every=20)
    try:
        first = Connector(cluster.bootstrap, prefix, small.comments[:half], pause_every=10**9)
        first.run()
        assert not first.errors, first.errors
        connector.start()
        wait_for(lambda: processed(worker) >= 1500, 900, "progress", worker)
        victim = cluster.controller()
        killed_at = time.monotonic()
        cluster.kill(victim)
        took = recovery(lambda: processed(worker), killed_at, [worker], len(small.comments))
        wait_for(lambda: cluster.controller() != victim, 300, "a new KRaft leader")
        print(f"\ncontroller kill: node {victim}; new controller node {cluster.controller()};", end=" ")
        print(f"the worker went on in {took:.1f}s")
        cluster.start(victim)
        connector.join(900)
        assert not connector.is_alive(), "the connector did not finish after the controller loss"
        assert not connector.errors, f"the connector failed: {connector.errors[0]!r}"
        assert_exactly_once(cluster.bootstrap, prefix, small, (worker,))
        assert_never_restarted(worker)
    finally:
        worker.stop()


def test_rolling_restart_under_replay_connector_and_two_workers(
    cluster: LocalCluster, prefix: str, small: Expected, tmp_path: Path
) -> None:
    app_id = f"roll-{prefix.strip('.')}"
    first = cluster_worker(cluster, prefix, tmp_path, "first", app_id).start()
    second = cluster_worker(cluster, prefix, tmp_path, "second", app_id)
    source = tmp_path / "comments.jsonl"
    source.write_bytes(
        b"".join(orjson.dumps({"type": "comment", **c.model_dump(mode="json")}) + b"\n" for c in small.comments)
    )
    replay_log = tmp_path / "replay.log"
    replay: subprocess.Popen[bytes] | None = None
    try:
        wait_for(lambda: owned(first) == {0, 1, 2, 3}, 600, "the first worker owning every partition", first)
        second.start()
        wait_for(lambda: shared(first, second), 600, "the two workers sharing the partitions", second)
        with replay_log.open("ab") as log:
            # The replay connector as its own process, at a rate that spans the three restarts.
            replay = subprocess.Popen(
                [sys.executable, "-m", "connectors", "replay", str(source), "--rate", "25"],
                env={**first.env, "CIVICWATCH_LOG_FORMAT": "json"},
                stdout=log,
                stderr=log,
                cwd=REPO,
            )

        def progress() -> int:
            return processed(first) + processed(second)

        wait_for(lambda: progress() >= 500, 900, "both workers processing", second)
        for node in cluster.nodes:
            stopped_at = time.monotonic()
            cluster.stop(node)
            # The workers go on while the node is down (its leaderships moved in its controlled shutdown).
            took = recovery(progress, stopped_at, [first, second], len(small.comments), more=100)
            cluster.start(node)
            cluster.wait_in_sync(prefix)
            back = time.monotonic() - stopped_at
            print(f"\nrolling restart: node {node} down, workers at +100 comments {took:.1f}s after its stop;", end=" ")
            print(f"restarted and in sync {back:.1f}s after it")
            assert replay.poll() is None or replay.returncode == 0, replay_log.read_text(errors="replace")[-3000:]
        assert replay.wait(900) == 0, f"the replay connector failed:\n{replay_log.read_text(errors='replace')[-3000:]}"
        assert_exactly_once(cluster.bootstrap, prefix, small, (first, second))
        assert_never_restarted(first)
        assert_never_restarted(second)
    finally:
        if replay is not None and replay.poll() is None:
            replay.kill()
            replay.wait(30)
        first.stop()
        second.stop()


def test_topics_create_takes_replication_from_settings_and_refuses_more_than_the_cluster(
    cluster: LocalCluster,
) -> None:
    from kafka.admin import ConfigResource, ConfigResourceType

    name = f"rf{int(time.time()) % 10**6}."
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": cluster.bootstrap, "CIVICWATCH_TOPIC_PREFIX": name}
    command = [sys.executable, "-m", "civicwatch", "topics", "create"]
    refused = subprocess.run(command, env={**env, "CIVICWATCH_REPLICATION": "4"}, capture_output=True, text=True)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "replication factor 4 is larger than the cluster: 3 live broker(s)" in refused.stderr
    created = subprocess.run(command, env={**env, "CIVICWATCH_REPLICATION": "3"}, capture_output=True, text=True)
    try:
        assert created.returncode == 0, created.stdout + created.stderr
        admin = cluster.admin()
        try:
            (raw,) = admin.describe_topics([name + "comments.raw"])
            assert all(len(p["replica_nodes"]) == 3 for p in raw["partitions"])
            # Each node learns a new topic from the metadata log on its own time: a node that has not
            # replayed it yet answers with no configs, so ask until one has (a loaded machine lags).
            deadline = time.monotonic() + 30
            while True:
                configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name + "comments.raw")])
                entries = configs.get("topic", {}).get(name + "comments.raw", {})
                if "min.insync.replicas" in entries or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert entries["min.insync.replicas"]["value"] == "2", entries
        finally:
            admin.close()
    finally:
        delete_topics(cluster.bootstrap, name)
