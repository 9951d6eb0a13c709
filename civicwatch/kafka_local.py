"""Python face of ``deploy/local/kafka.sh``: the broker (or three-node cluster) the demo and the test
harness start.

With ``KAFKA_BOOTSTRAP_SERVERS`` set, everything talks to that cluster and nothing is provisioned.
``CIVICWATCH_KAFKA_BROKERS`` (or ``brokers=``) above 1 runs a local cluster; its nodes can be killed,
stopped and started one by one for the fault tests and the soak.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from runtime.settings import kafka_auth

SCRIPT = Path(__file__).resolve().parents[1] / "deploy" / "local" / "kafka.sh"


class KafkaProvisionError(RuntimeError):
    """The local broker could not be fetched, started or stopped."""


def is_external() -> bool:
    return bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))


def brokers_of(env: dict[str, str] | None = None) -> int:
    merged = {**os.environ, **(env or {})}
    return int(merged.get("CIVICWATCH_KAFKA_BROKERS") or 1)


def node_ports(env: dict[str, str] | None = None) -> list[int]:
    """The client port of every local node, as ``kafka.sh`` assigns them (node i on port + 2(i-1))."""
    merged = {**os.environ, **(env or {})}
    count = brokers_of(env)
    port = int(merged.get("CIVICWATCH_KAFKA_PORT") or (19292 if count > 1 else 19092))
    return [port + 2 * i for i in range(count)] if count > 1 else [port]


def bootstrap_servers(env: dict[str, str] | None = None) -> str:
    merged = {**os.environ, **(env or {})}
    external = merged.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        return external
    return ",".join(f"127.0.0.1:{p}" for p in node_ports(env))


def cluster_dir(env: dict[str, str] | None = None) -> Path:
    merged = {**os.environ, **(env or {})}
    default = ".local/kafka-cluster" if brokers_of(env) > 1 else ".local/kafka"
    return Path(merged.get("CIVICWATCH_KAFKA_DIR") or SCRIPT.parents[2] / default)


def _run(
    command: str, env: dict[str, str] | None = None, timeout: float = 600, *args: str
) -> subprocess.CompletedProcess[str]:
    merged = {**os.environ, **(env or {})}
    return subprocess.run(
        ["bash", str(SCRIPT), command, *args],
        capture_output=True,
        text=True,
        env=merged,
        timeout=timeout,
        check=False,
    )


def up(timeout: float = 120, env: dict[str, str] | None = None) -> str:
    """Start the local broker or cluster (or accept the external one) and return its bootstrap address."""
    result = _run("up", env, timeout=timeout + 600)
    if result.returncode != 0:
        raise KafkaProvisionError(f"kafka up failed:\n{(result.stdout + result.stderr)[-3000:]}")
    bootstrap = bootstrap_servers(env)
    local = not {**os.environ, **(env or {})}.get("KAFKA_BOOTSTRAP_SERVERS")
    # an external cluster is reached as every client reaches it; the local broker's port is PLAINTEXT
    wait_until_ready(bootstrap, timeout, None if not local else {}, brokers=brokers_of(env) if local else 1)
    return bootstrap


def _node_command(command: str, node: int, env: dict[str, str] | None, timeout: float) -> None:
    result = _run(command, env, timeout, str(node))
    if result.returncode != 0:
        raise KafkaProvisionError(f"kafka {command} {node} failed:\n{(result.stdout + result.stderr)[-3000:]}")


def kill_node(node: int, env: dict[str, str] | None = None) -> None:
    """SIGKILL one node of the local cluster: a crash, with no controlled shutdown."""
    _node_command("kill-node", node, env, 60)


def stop_node(node: int, env: dict[str, str] | None = None) -> None:
    """SIGTERM one node and wait for it to exit: a controlled shutdown moves its leaderships first."""
    _node_command("stop-node", node, env, 90)


def start_node(node: int, env: dict[str, str] | None = None, timeout: float = 180) -> None:
    """Start one node again and wait until it has joined the cluster."""
    _node_command("start-node", node, env, timeout + 60)


def node_pid(node: int, env: dict[str, str] | None = None) -> int | None:
    directory = cluster_dir(env) / f"node-{node}" if brokers_of(env) > 1 else cluster_dir(env)
    try:
        return int((directory / "broker.pid").read_text().strip())
    except (OSError, ValueError):
        return None


_TRANSITION = re.compile(r"\[RaftManager id=(\d+)\] Completed transition to (\w+)\(.*?epoch=(\d+)(?:.*?leader=(\d+))?")


def active_controller(env: dict[str, str] | None = None) -> int | None:
    """The node id of the KRaft quorum's leader, from the nodes' own logs (the highest epoch any node
    reached, and who led it). Brokers do not say: in KRaft mode a metadata response names a random
    live broker as "controller"."""
    best: tuple[int, int] | None = None
    for log in sorted(cluster_dir(env).glob("node-*/broker.log")):
        for line in log.read_text(errors="replace").splitlines():
            if "Completed transition to" not in line:
                continue
            match = _TRANSITION.search(line)
            if not match:
                continue
            local, state, epoch, leader = match.groups()
            who = int(local) if state == "Leader" else int(leader) if leader else None
            if who is not None and (best is None or int(epoch) > best[0]):
                best = (int(epoch), who)
    return best[1] if best else None


def down(env: dict[str, str] | None = None) -> None:
    result = _run("down", env, timeout=90)
    if result.returncode != 0:
        raise KafkaProvisionError(f"kafka down failed:\n{(result.stdout + result.stderr)[-3000:]}")


def status(env: dict[str, str] | None = None) -> bool:
    """True when every local node is running (or an external cluster is configured)."""
    return _run("status", env, timeout=30).returncode == 0


def fetch() -> None:
    result = _run("fetch")
    if result.returncode != 0:
        raise KafkaProvisionError(f"kafka fetch failed:\n{(result.stdout + result.stderr)[-3000:]}")


def wait_until_ready(bootstrap: str, timeout: float = 60, auth: dict[str, Any] | None = None, brokers: int = 1) -> None:
    """Block until the cluster answers a metadata request with at least ``brokers`` live brokers; a
    listening port is not enough. ``auth``: the client's security keywords; by default those of the
    environment's settings."""
    auth = kafka_auth() if auth is None else auth
    deadline = time.monotonic() + timeout
    last: Exception | str | None = None
    while time.monotonic() < deadline:
        try:
            admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000, **auth)
            try:
                admin.list_topics()
                live = len(admin.describe_cluster().get("brokers", []))
                if live >= brokers:
                    return
                last = f"{live} of {brokers} brokers registered"
            finally:
                admin.close()
        except (KafkaError, OSError) as exc:
            last = exc
        time.sleep(0.5)
    raise KafkaProvisionError(f"Kafka at {bootstrap} did not answer within {timeout:.0f}s: {last!r}")
