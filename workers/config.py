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
    analytics_interval: float = 10.0
    analytics_hour_expires_days: float = 14.0
    analytics_day_expires_days: float = 60.0
    review_host: str = "127.0.0.1"
    review_port: int = 8080
    review_db: Path = field(default_factory=lambda: REPO_ROOT / ".local" / "review" / "review.sqlite3")
    review_users: Path = field(default_factory=lambda: REPO_ROOT / ".local" / "review" / "users.yaml")
    review_alert_after_minutes: float = 240.0
    review_alert_interval: float = 30.0
    review_private_roles: tuple[str, ...] = ("moderator", "admin")
    review_session_hours: float = 8.0
    review_history_days: float = 30.0
    review_cookie_secure: bool = False
    policy_text: Path | None = None

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
            analytics_interval=float(_env("CIVICWATCH_ANALYTICS_INTERVAL", "10")),
            analytics_hour_expires_days=float(_env("CIVICWATCH_ANALYTICS_HOUR_EXPIRES_DAYS", "14")),
            analytics_day_expires_days=float(_env("CIVICWATCH_ANALYTICS_DAY_EXPIRES_DAYS", "60")),
            review_host=_env("CIVICWATCH_REVIEW_HOST", "127.0.0.1"),
            review_port=int(_env("CIVICWATCH_REVIEW_PORT", "8080")),
            review_db=Path(_env("CIVICWATCH_REVIEW_DB", str(REPO_ROOT / ".local" / "review" / "review.sqlite3"))),
            review_users=Path(_env("CIVICWATCH_REVIEW_USERS", str(REPO_ROOT / ".local" / "review" / "users.yaml"))),
            review_alert_after_minutes=float(_env("CIVICWATCH_REVIEW_ALERT_AFTER_MINUTES", "240")),
            review_alert_interval=float(_env("CIVICWATCH_REVIEW_ALERT_INTERVAL", "30")),
            review_private_roles=tuple(
                r.strip() for r in _env("CIVICWATCH_REVIEW_PRIVATE_ROLES", "moderator,admin").split(",") if r.strip()
            ),
            review_session_hours=float(_env("CIVICWATCH_REVIEW_SESSION_HOURS", "8")),
            review_history_days=float(_env("CIVICWATCH_REVIEW_HISTORY_DAYS", "30")),
            review_cookie_secure=_env("CIVICWATCH_REVIEW_COOKIE_SECURE", "0").lower() in ("1", "true", "yes"),
            policy_text=Path(text) if (text := os.environ.get("CIVICWATCH_POLICY_TEXT")) else None,
        )
