"""Every setting in one place, read from the environment (``CIVICWATCH_*``, ``KAFKA_BOOTSTRAP_SERVERS``).

Secrets (platform tokens) are not here: connectors read them from their own variables or a secrets
file and never log them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    """Runtime configuration; build with ``Settings.from_env()``."""

    bootstrap_servers: str = "127.0.0.1:19092"
    topic_prefix: str = ""
    policy_path: Path | None = None
    app_id: str = "civicwatch"
    data_dir: Path = field(default_factory=lambda: REPO_ROOT / ".local" / "worker")
    partitions: int = 4
    replication: int = 1
    batch_size: int = 256
    batch_timeout: float = 0.05
    dedupe_ttl_hours: float = 72.0
    log_level: str = "INFO"
    web_port: int = 6066
    web_bind: str = "127.0.0.1"
    session_timeout: float = 30.0
    """Seconds before a silent worker's partitions go to the others (after a crash, say)."""

    @classmethod
    def from_env(cls) -> Settings:
        port = _env("CIVICWATCH_KAFKA_PORT", "19092")
        policy = os.environ.get("CIVICWATCH_POLICY")
        return cls(
            bootstrap_servers=_env("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{port}"),
            topic_prefix=_env("CIVICWATCH_TOPIC_PREFIX", ""),
            policy_path=Path(policy) if policy else None,
            app_id=_env("CIVICWATCH_APP_ID", "civicwatch"),
            data_dir=Path(_env("CIVICWATCH_DATA_DIR", str(REPO_ROOT / ".local" / "worker"))),
            partitions=int(_env("CIVICWATCH_PARTITIONS", "4")),
            replication=int(_env("CIVICWATCH_REPLICATION", "1")),
            batch_size=int(_env("CIVICWATCH_BATCH_SIZE", "256")),
            batch_timeout=float(_env("CIVICWATCH_BATCH_TIMEOUT", "0.05")),
            dedupe_ttl_hours=float(_env("CIVICWATCH_DEDUPE_TTL_HOURS", "72")),
            log_level=_env("CIVICWATCH_LOG_LEVEL", "INFO"),
            web_port=int(_env("CIVICWATCH_WEB_PORT", "6066")),
            web_bind=_env("CIVICWATCH_WEB_BIND", "127.0.0.1"),
            session_timeout=float(_env("CIVICWATCH_SESSION_TIMEOUT", "30")),
        )
