"""Shared fixtures. Integration tests run against the real Kafka broker that this harness starts.

The broker for tests listens on its own port (``CIVICWATCH_TEST_KAFKA_PORT``, default 19192) with its
data under ``.local/kafka-test``; it is reused when already running and stopped at the end only if
this session started it. ``KAFKA_BOOTSTRAP_SERVERS`` points the tests at another cluster instead.
Integration tests are never skipped: a broker that cannot start fails them with its log.

The cluster fault tests get three local KRaft nodes of their own (``kafka_cluster``: ports from
``CIVICWATCH_TEST_CLUSTER_PORT``, default 19392, data under ``.local/kafka-cluster-test``), since they
kill and restart nodes; they always need the local jars, never an external cluster.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer

from civicwatch import kafka_local
from runtime.admin import delete_topics, ensure_topics
from workers.process import WorkerProcess

__all__ = ["REPO", "SHARED_DEV", "LocalCluster", "ReviewProcess", "WorkerProcess", "consume_all", "review_login"]

REPO = Path(__file__).resolve().parents[1]
SHARED_DEV = Path(os.environ.get("CIVICWATCH_SHARED", REPO.parent / "shared")) / "data" / "dev"


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    if kafka_local.is_external():
        bootstrap = kafka_local.bootstrap_servers()
        kafka_local.wait_until_ready(bootstrap, 60)
        yield bootstrap
        return
    port = os.environ.get("CIVICWATCH_TEST_KAFKA_PORT", "19192")
    env = {"CIVICWATCH_KAFKA_PORT": port, "CIVICWATCH_KAFKA_DIR": str(REPO / ".local" / "kafka-test")}
    started = not kafka_local.status(env)
    bootstrap = kafka_local.up(timeout=120, env=env)
    yield bootstrap
    if started:
        kafka_local.down(env)


@dataclass
class LocalCluster:
    """Three local KRaft nodes (each broker and controller) that a test may kill, stop and start."""

    env: dict[str, str]
    nodes: tuple[int, ...] = (1, 2, 3)
    bootstrap: str = field(init=False)

    def __post_init__(self) -> None:
        self.bootstrap = kafka_local.bootstrap_servers(self.env)

    def admin(self) -> KafkaAdminClient:
        return KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=30000)

    def leaders(self, topic: str) -> Counter[int]:
        """Partitions of ``topic`` each node leads."""
        admin = self.admin()
        try:
            (described,) = admin.describe_topics([topic])
            return Counter(int(p["leader_id"]) for p in described["partitions"] if p["leader_id"] >= 0)
        finally:
            admin.close()

    def controller(self) -> int:
        node = kafka_local.active_controller(self.env)
        assert node is not None, "no node has logged a KRaft leader"
        return node

    def kill(self, node: int) -> None:
        kafka_local.kill_node(node, self.env)

    def stop(self, node: int) -> None:
        kafka_local.stop_node(node, self.env)

    def start(self, node: int) -> None:
        kafka_local.start_node(node, self.env)

    def in_sync(self, prefix: str) -> bool:
        """Every partition of the prefixed topics has all its replicas in sync again."""
        admin = self.admin()
        try:
            names = [t for t in admin.list_topics() if t.startswith(prefix)]
            return all(
                len(p["isr_nodes"]) == len(p["replica_nodes"])
                for t in admin.describe_topics(names)
                for p in t["partitions"]
            )
        finally:
            admin.close()

    def wait_in_sync(self, prefix: str, timeout: float = 300) -> float:
        """Seconds until every replica of the prefixed topics is back in sync."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            try:
                if self.in_sync(prefix):
                    return time.monotonic() - started
            except Exception:  # a node restarting may refuse the admin client for a moment
                pass
            time.sleep(1.0)
        raise AssertionError(f"replicas of {prefix}* not in sync after {timeout:.0f}s")

    def heal(self) -> None:
        """Start any node a test left down, and wait for all three."""
        for node in self.nodes:
            pid = kafka_local.node_pid(node, self.env)
            if pid is None or not _alive(pid):
                self.start(node)
        kafka_local.wait_until_ready(self.bootstrap, 300, brokers=len(self.nodes))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


@pytest.fixture(scope="session")
def kafka_cluster() -> Iterator[LocalCluster]:
    env = {
        "CIVICWATCH_KAFKA_BROKERS": "3",
        "CIVICWATCH_KAFKA_PORT": os.environ.get("CIVICWATCH_TEST_CLUSTER_PORT", "19392"),
        "CIVICWATCH_KAFKA_DIR": str(REPO / ".local" / "kafka-cluster-test"),
        "KAFKA_BOOTSTRAP_SERVERS": "",
    }
    started = not kafka_local.status(env)
    kafka_local.up(timeout=300, env=env)
    cluster = LocalCluster(env)
    yield cluster
    if started:
        kafka_local.down(env)


@pytest.fixture(scope="module")
def topic_prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}."


@pytest.fixture(scope="module")
def kafka_topics(kafka_bootstrap: str, topic_prefix: str) -> Iterator[str]:
    ensure_topics(kafka_bootstrap, topic_prefix, default_partitions=4)
    yield topic_prefix
    delete_topics(kafka_bootstrap, topic_prefix)


def consume_all(
    bootstrap: str,
    topic: str,
    expected: int,
    timeout: float = 60.0,
    settle: float = 2.0,
    stall: float | None = None,
    **consumer_config: Any,
) -> list:
    """Read ``topic`` from the start until ``expected`` messages arrived, then ``settle`` seconds more
    so that duplicates beyond ``expected`` would be seen too. With ``stall``, give up early once no
    message came for that long: a slow run may use all of ``timeout``, a stuck one fails sooner.
    ``consumer_config`` is passed on (e.g. ``isolation_level="read_committed"`` to read as
    transactional consumers do)."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=500,
        **{"isolation_level": "read_committed", **consumer_config},  # the worker's outputs are transactional
    )
    messages: list = []
    deadline = time.monotonic() + timeout
    settle_until: float | None = None
    last_arrival = time.monotonic()
    try:
        while time.monotonic() < deadline:
            before = len(messages)
            for message in consumer:
                messages.append(message)
            if len(messages) > before:
                last_arrival = time.monotonic()
            elif stall is not None and time.monotonic() - last_arrival >= stall:
                break
            if len(messages) >= expected:
                settle_until = settle_until or time.monotonic() + settle
                if time.monotonic() >= settle_until:
                    break
    finally:
        consumer.close()
    return messages


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ReviewProcess(WorkerProcess):
    """``python -m review`` as a real subprocess on a free port, with its own users file and view;
    stopping, liveness and the log work as for the worker."""

    module = "review"

    def __init__(
        self, bootstrap: str, prefix: str, workdir: Path, users: dict[str, tuple[str, str]], **settings: str
    ) -> None:
        from review.auth import add_user

        workdir.mkdir(parents=True, exist_ok=True)
        for name, (role, password) in users.items():
            add_user(workdir / "users.yaml", name, role, password)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "CIVICWATCH_TOPIC_PREFIX": prefix,
            "CIVICWATCH_REVIEW_PORT": str(self.port),
            "CIVICWATCH_REVIEW_USERS": str(workdir / "users.yaml"),
            "CIVICWATCH_REVIEW_DB": str(workdir / "review.sqlite3"),
            "CIVICWATCH_LOG_FORMAT": "json",
            **settings,
        }
        self.args: list[str] = []
        self.log_path = workdir / "review.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> ReviewProcess:
        import requests

        super().start()
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"civicwatch review exited: {self.log()[-3000:]}")
            try:
                if requests.get(self.url + "/health", timeout=2).json().get("status") == "ok":
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"civicwatch review did not become healthy: {self.log()[-3000:]}")


def review_login(url: str, name: str, password: str) -> tuple[object, str]:
    """A ``requests.Session`` signed in to the review service, and its CSRF token."""
    import re

    import requests

    session = requests.Session()
    page = session.get(url + "/login", timeout=10).text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token, "the log-in form has a CSRF token"
    r = session.post(url + "/login", data={"csrf": token.group(1), "username": name, "password": password}, timeout=30)
    assert r.status_code == 200 and "/login" not in r.url, f"log-in as {name} failed: {r.status_code}"
    csrf = re.search(r'name="csrf" value="([^"]+)"', r.text)
    assert csrf, "signed-in pages carry the session's CSRF token"
    return session, csrf.group(1)
