"""Python face of ``deploy/local/kafka.sh``: the broker the demo and the test harness start.

With ``KAFKA_BOOTSTRAP_SERVERS`` set, everything talks to that cluster and nothing is provisioned.
"""

from __future__ import annotations

import os
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


def bootstrap_servers() -> str:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        return external
    return f"127.0.0.1:{os.environ.get('CIVICWATCH_KAFKA_PORT', '19092')}"


def _run(command: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    merged = {**os.environ, **(env or {})}
    return subprocess.run(
        ["bash", str(SCRIPT), command],
        capture_output=True,
        text=True,
        env=merged,
        timeout=timeout,
        check=False,
    )


def up(timeout: float = 120, env: dict[str, str] | None = None) -> str:
    """Start the local broker (or accept the external one) and return its bootstrap address."""
    result = _run("up", env, timeout=timeout + 600)
    if result.returncode != 0:
        raise KafkaProvisionError(f"kafka up failed:\n{(result.stdout + result.stderr)[-3000:]}")
    merged = {**os.environ, **(env or {})}
    bootstrap = merged.get("KAFKA_BOOTSTRAP_SERVERS") or f"127.0.0.1:{merged.get('CIVICWATCH_KAFKA_PORT', '19092')}"
    # an external cluster is reached as every client reaches it; the local broker's port is PLAINTEXT
    wait_until_ready(bootstrap, timeout, None if merged.get("KAFKA_BOOTSTRAP_SERVERS") else {})
    return bootstrap


def down(env: dict[str, str] | None = None) -> None:
    result = _run("down", env, timeout=90)
    if result.returncode != 0:
        raise KafkaProvisionError(f"kafka down failed:\n{(result.stdout + result.stderr)[-3000:]}")


def status(env: dict[str, str] | None = None) -> bool:
    return _run("status", env, timeout=30).returncode == 0


def fetch() -> None:
    result = _run("fetch")
    if result.returncode != 0:
        raise KafkaProvisionError(f"kafka fetch failed:\n{(result.stdout + result.stderr)[-3000:]}")


def wait_until_ready(bootstrap: str, timeout: float = 60, auth: dict[str, Any] | None = None) -> None:
    """Block until the cluster answers a metadata request; a listening port is not enough.
    ``auth``: the client's security keywords; by default those of the environment's settings."""
    auth = kafka_auth() if auth is None else auth
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000, **auth)
            try:
                admin.list_topics()
                return
            finally:
                admin.close()
        except (KafkaError, OSError) as exc:
            last = exc
            time.sleep(0.5)
    raise KafkaProvisionError(f"Kafka at {bootstrap} did not answer within {timeout:.0f}s: {last!r}")
