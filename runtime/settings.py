"""Every setting in one place, read from the environment (``CIVICWATCH_*``, ``KAFKA_BOOTSTRAP_SERVERS``).

Secrets (platform tokens) are not here: connectors read them from their own variables or a secrets
file and never log them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
AGENTS = ("comments", "decisions", "posts", "analytics")
"""The worker's faust agents (``workers/agents/``), in the order they are loaded."""


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
    web_bind: str = "127.0.0.1"
    session_timeout: float = 30.0
    """Seconds before a silent worker's partitions go to the others (after a crash, say)."""
    agents: tuple[str, ...] = AGENTS
    """The agents this worker process runs (``civicwatch worker --agents``)."""
    analytics_batch_size: int = 1000

    @property
    def faust_app_id(self) -> str:
        """The worker's faust app id: its consumer group, and the prefix of its table changelogs
        and transactional ids. ``<app_id>-analytics`` for analytics run on its own.

        Why its own: every table's changelog is subscribed by every member of a group, and faust
        keeps topics together on a member only when the same members subscribe to them. An
        analytics process in the classification group would take partitions of the dedupe
        table's changelog away from the workers reading the matching ``comments.raw``
        partitions, and the tables of either would no longer follow their input.
        """
        return f"{self.app_id}-analytics" if self.agents == ("analytics",) else self.app_id

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
            web_bind=_env("CIVICWATCH_WEB_BIND", "127.0.0.1"),
            session_timeout=float(_env("CIVICWATCH_SESSION_TIMEOUT", "30")),
            agents=parse_agents(_env("CIVICWATCH_AGENTS", ",".join(AGENTS))),
            analytics_batch_size=int(_env("CIVICWATCH_ANALYTICS_BATCH_SIZE", "1000")),
        )


def parse_agents(text: str) -> tuple[str, ...]:
    """``comments,decisions,posts`` -> the agents to run, in load order; ``ValueError`` says why not.

    Analytics may run alone or beside the others. Every other process must run ``comments``: all
    processes of one consumer group read the dedupe table's changelog, and only processes reading
    ``comments.raw`` may hold its partitions (see ``Settings.faust_app_id``).
    """
    names = {name.strip() for name in text.split(",") if name.strip()}
    unknown = sorted(names - set(AGENTS))
    if unknown:
        raise ValueError(f"unknown agent(s) {', '.join(unknown)}; choose from {', '.join(AGENTS)}")
    if not names:
        raise ValueError(f"no agent to run; choose from {', '.join(AGENTS)}")
    if names != {"analytics"} and "comments" not in names:
        raise ValueError("decisions and posts run with comments (one consumer group); analytics may run alone")
    return tuple(name for name in AGENTS if name in names)


@dataclass(frozen=True)
class XSettings:
    """The X connector (``civicwatch connect x``); tokens are read separately (``connectors.secrets``).

    Reads are metered on X, so the budget caps requests per 15-minute window across all scopes and
    the interval sets how often a caught-up scope is asked again.
    """

    accounts: tuple[str, ...] = ()
    poll_interval: float = 60.0
    max_requests_per_window: int = 30
    page_size: int = 100
    conversation_days: float = 7.0
    stream: str = "off"
    reconcile_interval: float = 900.0
    action_interval: float = 18.0

    @classmethod
    def from_env(cls) -> XSettings:
        return cls(
            accounts=tuple(a.strip().lstrip("@") for a in _env("CIVICWATCH_X_ACCOUNTS", "").split(",") if a.strip()),
            poll_interval=float(_env("CIVICWATCH_X_POLL_INTERVAL", "60")),
            max_requests_per_window=int(_env("CIVICWATCH_X_MAX_REQUESTS", "30")),
            page_size=int(_env("CIVICWATCH_X_PAGE_SIZE", "100")),
            conversation_days=float(_env("CIVICWATCH_X_CONVERSATION_DAYS", "7")),
            stream=_env("CIVICWATCH_X_STREAM", "off"),
            reconcile_interval=float(_env("CIVICWATCH_X_RECONCILE_INTERVAL", "900")),
            action_interval=float(_env("CIVICWATCH_X_ACTION_INTERVAL", "18")),
        )


@dataclass(frozen=True)
class FacebookSettings:
    """The Facebook connector, webhook receiver and actions (``civicwatch connect facebook...``)."""

    page_id: str = ""
    api_version: str = "25.0"
    poll_interval: float = 120.0
    lookback_days: float = 7.0
    page_size: int = 100
    throttle_wait: float = 600.0
    usage_ceiling: float = 90.0
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8089
    action_interval: float = 1.0

    @classmethod
    def from_env(cls) -> FacebookSettings:
        return cls(
            page_id=_env("CIVICWATCH_FACEBOOK_PAGE_ID", ""),
            api_version=_env("CIVICWATCH_FACEBOOK_API_VERSION", "25.0").lstrip("v"),
            poll_interval=float(_env("CIVICWATCH_FACEBOOK_POLL_INTERVAL", "120")),
            lookback_days=float(_env("CIVICWATCH_FACEBOOK_LOOKBACK_DAYS", "7")),
            page_size=int(_env("CIVICWATCH_FACEBOOK_PAGE_SIZE", "100")),
            throttle_wait=float(_env("CIVICWATCH_FACEBOOK_THROTTLE_WAIT", "600")),
            usage_ceiling=float(_env("CIVICWATCH_FACEBOOK_USAGE_CEILING", "90")),
            webhook_host=_env("CIVICWATCH_FACEBOOK_WEBHOOK_HOST", "127.0.0.1"),
            webhook_port=int(_env("CIVICWATCH_FACEBOOK_WEBHOOK_PORT", "8089")),
            action_interval=float(_env("CIVICWATCH_FACEBOOK_ACTION_INTERVAL", "1")),
        )


@dataclass(frozen=True)
class ConnectorSettings:
    """What every connector process shares: backoff on 5xx/network errors, retries, metrics."""

    backoff_base: float = 2.0
    backoff_cap: float = 300.0
    action_max_attempts: int = 5
    metrics_port: int = 0

    @classmethod
    def from_env(cls) -> ConnectorSettings:
        return cls(
            backoff_base=float(_env("CIVICWATCH_BACKOFF_BASE", "2")),
            backoff_cap=float(_env("CIVICWATCH_BACKOFF_CAP", "300")),
            action_max_attempts=int(_env("CIVICWATCH_ACTION_MAX_ATTEMPTS", "5")),
            metrics_port=int(_env("CIVICWATCH_METRICS_PORT", "0")),
        )
