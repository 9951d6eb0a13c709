"""Every setting in one place, read from the environment (``CIVICWATCH_*``, ``KAFKA_BOOTSTRAP_SERVERS``).

Each setting is one typed field with its default, stated once; pydantic-settings reads it from the
variable named after it (``CIVICWATCH_`` + the field name in capitals, or the alias given), and an
empty variable counts as unset. A value that does not parse stops start-up with ``SettingsError``
naming the variable. ``variables()`` lists every name, so deploy files can be checked against it.

Secrets (platform tokens) are not here: connectors read them from their own variables or a secrets
file and never log them.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]
AGENTS = ("comments", "decisions", "posts", "analytics")
"""The worker's faust agents (``workers/agents/``), in the order they are loaded."""

CommaSeparated = Annotated[tuple[str, ...], NoDecode]
"""A list in one variable, ``a,b,c`` (not JSON)."""


class SettingsError(ValueError):
    """A variable holds a value that cannot be used; the message names it."""


def _comma_separated(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class _FromEnv(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CIVICWATCH_", env_ignore_empty=True, frozen=True, populate_by_name=True, extra="forbid"
    )

    @classmethod
    def from_env(cls) -> Self:
        """The settings of this process's environment; ``SettingsError`` names a bad variable."""
        try:
            return cls()
        except ValidationError as exc:
            problems = []
            for error in exc.errors():
                name = str(error["loc"][0]) if error["loc"] else ""
                problems.append(f"{cls.variable(name)}: {error['msg'].removeprefix('Value error, ')}")
            raise SettingsError("; ".join(problems)) from None

    @classmethod
    def variable(cls, field: str) -> str:
        """The environment variable a field is read from."""
        info = cls.model_fields.get(field)
        if info is not None and isinstance(info.validation_alias, str):
            return info.validation_alias
        return f"{cls.model_config.get('env_prefix', '')}{field}".upper()


class Settings(_FromEnv):
    """Runtime configuration of the worker, the review service and the topic admin."""

    kafka_port: int = 19092
    """Port of the local broker; used when ``KAFKA_BOOTSTRAP_SERVERS`` is unset."""
    bootstrap_servers: str = Field(
        default_factory=lambda data: f"127.0.0.1:{data['kafka_port']}", validation_alias="KAFKA_BOOTSTRAP_SERVERS"
    )
    topic_prefix: str = ""
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    """How every client reaches the broker: ``SASL_SSL`` in Compose and Kubernetes (SCRAM over
    TLS), ``SASL_PLAINTEXT`` only on loopback, ``PLAINTEXT`` for the local development broker."""
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = ""
    """The process's broker password (one user per role, see the README's ACL table); a secret,
    scrubbed from logs."""
    kafka_ssl_cafile: Path | None = None
    """CA bundle that signed the broker's certificate, for ``SASL_SSL`` (else the system's)."""
    policy_path: Path | None = Field(default=None, validation_alias="CIVICWATCH_POLICY")
    app_id: str = "civicwatch"
    data_dir: Path = REPO_ROOT / ".local" / "worker"
    partitions: int = 4
    replication: int = Field(default=1, ge=1)
    """Replicas of every topic ``civicwatch topics create`` and the worker declare; 3 on a cluster
    (created with ``min.insync.replicas=2``), refused when larger than the live brokers."""
    batch_size: int = 256
    batch_timeout: float = 0.05
    dedupe_ttl_hours: float = Field(default=192.0, gt=0)
    """How long a comment's id and text digest are remembered as seen (the dedupe table's RocksDB
    time-to-live and its changelog's retention): longer than the connectors' 7-day lookback."""
    log_level: str = "INFO"
    web_port: int = 6066
    analytics_interval: float = 10.0
    analytics_hour_expires_days: float = 14.0
    analytics_day_expires_days: float = 60.0
    review_host: str = "127.0.0.1"
    review_port: int = 8080
    review_db: Path = REPO_ROOT / ".local" / "review" / "review.sqlite3"
    review_users: Path = REPO_ROOT / ".local" / "review" / "users.yaml"
    review_alert_after_minutes: float = 240.0
    review_alert_interval: float = 30.0
    review_alert_email: CommaSeparated = ()
    """Who is e-mailed when an urgent item waits past its target (empty: log and metrics only). Sent
    through the forwarder's SMTP server (``CIVICWATCH_SMTP_*``, ``SMTP_USERNAME``/``SMTP_PASSWORD``)."""
    review_alert_email_severity: int = 1
    """Items of this severity or more urgent (1 first: threats, private information) are e-mailed."""
    review_public_url: str = ""
    """The review service's address as moderators reach it, for links in alert e-mails."""
    review_private_roles: CommaSeparated = ("moderator", "admin")
    review_session_hours: float = 8.0
    review_idle_minutes: float = 30.0
    """A session unused this long ends (the absolute limit is ``review_session_hours``)."""
    review_history_days: float = 30.0
    review_cookie_secure: bool | None = None
    """Cookies only over HTTPS, and HSTS. Unset: on unless the service listens on loopback only
    (development at http://127.0.0.1); the deployments listen on 0.0.0.0 behind TLS."""
    review_forwarded_for: bool = False
    """Behind a reverse proxy: take the client's address (for the log-in throttle) from the last
    ``X-Forwarded-For`` hop. Leave off when clients reach the service directly, or they choose it."""
    policy_text: Path | None = None
    web_bind: str = "127.0.0.1"
    session_timeout: float = 30.0
    """Seconds before a silent worker's partitions go to the others (after a crash, say)."""
    agents: CommaSeparated = AGENTS
    """The agents this worker process runs (``civicwatch worker --agents``)."""
    analytics_batch_size: int = 1000

    @field_validator("review_private_roles", "review_alert_email", mode="before")
    @classmethod
    def _roles(cls, value: Any) -> Any:
        return _comma_separated(value)

    @field_validator("agents", mode="before")
    @classmethod
    def _agents(cls, value: Any) -> tuple[str, ...]:
        return parse_agents(value if isinstance(value, str) else ",".join(value))

    def kafka_auth(self) -> dict[str, Any]:
        """Keyword arguments that authenticate a kafka-python or aiokafka client (both take these
        names); empty for ``PLAINTEXT``."""
        if self.kafka_security_protocol == "PLAINTEXT":
            return {}
        if not self.kafka_sasl_username or not self.kafka_sasl_password:
            raise SettingsError(
                f"CIVICWATCH_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "CIVICWATCH_KAFKA_SASL_USERNAME and CIVICWATCH_KAFKA_SASL_PASSWORD"
            )
        auth: dict[str, Any] = {
            "security_protocol": self.kafka_security_protocol,
            "sasl_mechanism": self.kafka_sasl_mechanism,
            "sasl_plain_username": self.kafka_sasl_username,
            "sasl_plain_password": self.kafka_sasl_password,
        }
        if self.kafka_security_protocol == "SASL_SSL":
            auth["ssl_context"] = self.kafka_ssl_context()
        return auth

    def kafka_ssl_context(self) -> ssl.SSLContext:
        """Verifies the broker's certificate and host name (TLS 1.2 or later)."""
        context = ssl.create_default_context(cafile=str(self.kafka_ssl_cafile) if self.kafka_ssl_cafile else None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    @property
    def review_https(self) -> bool:
        """Whether the review pages are served over TLS (see ``review_cookie_secure``)."""
        if self.review_cookie_secure is not None:
            return self.review_cookie_secure
        return self.review_host not in ("127.0.0.1", "localhost", "::1")

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


class XSettings(_FromEnv):
    """The X connector (``civicwatch connect x``); tokens are read separately (``connectors.secrets``).

    Reads are metered on X, so the budget caps requests per 15-minute window across all scopes and
    the interval sets how often a caught-up scope is asked again.
    """

    model_config = SettingsConfigDict(env_prefix="CIVICWATCH_X_")

    accounts: CommaSeparated = ()
    poll_interval: float = 60.0
    max_requests_per_window: int = Field(default=30, validation_alias="CIVICWATCH_X_MAX_REQUESTS")
    page_size: int = 100
    conversation_days: float = 7.0
    stream: str = "off"
    reconcile_interval: float = 900.0
    action_interval: float = 18.0
    overlap_seconds: float = 300.0
    """Each sweep re-reads this far below ``since_id`` for posts X made visible late."""
    compliance_interval: float = 86400.0
    """How often a batch compliance job asks X which produced comments were deleted (0: never)."""
    compliance_days: float = 14.0
    """How far back produced comment ids are kept and checked."""
    daily_budget_usd: float = 5.0
    """Reads stop for the rest of the UTC day once their estimated cost reaches this (0: no limit)."""
    post_read_usd: float = 0.005
    """Pay-per-use price of one post returned (X's pricing page; check the Developer Console)."""
    user_read_usd: float = 0.010
    """Pay-per-use price of one user returned (the author_id expansion's users count)."""

    @field_validator("accounts", mode="before")
    @classmethod
    def _accounts(cls, value: Any) -> Any:
        return tuple(a.lstrip("@") for a in _comma_separated(value))


class _GraphSettings(_FromEnv):
    """What the Facebook and Instagram connectors share: the Graph API, its throttling, the webhook
    receiver's limits and the pace of moderation actions."""

    api_version: str = "25.0"
    lookback_days: float = 7.0
    throttle_wait: float = 600.0
    usage_ceiling: float = 90.0
    webhook_host: str = "127.0.0.1"
    webhook_timeout: float = 10.0
    """Seconds a webhook connection may stay silent (a slow body is cut off)."""
    webhook_max_threads: int = 16
    webhook_max_age: float = 3600.0
    """Seconds after which a delivery counts as a replay and is dropped."""
    action_interval: float = 1.0

    @field_validator("api_version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> Any:
        return value.lstrip("v") if isinstance(value, str) else value


class FacebookSettings(_GraphSettings):
    """The Facebook connector, webhook receiver and actions (``civicwatch connect facebook...``)."""

    model_config = SettingsConfigDict(env_prefix="CIVICWATCH_FACEBOOK_")

    page_id: str = ""
    poll_interval: float = 120.0
    page_size: int = 100
    webhook_port: int = 8089
    recheck_interval: float = 3600.0
    """How often each followed post's comments are re-read whole for edits and deletions (0: never)."""


class InstagramSettings(_GraphSettings):
    """The Instagram connector, webhook receiver and actions (``civicwatch connect instagram...``)."""

    model_config = SettingsConfigDict(env_prefix="CIVICWATCH_INSTAGRAM_")

    ig_user_id: str = ""
    poll_interval: float = 300.0
    page_size: int = 50
    webhook_port: int = 8090


class ConnectorSettings(_FromEnv):
    """What every connector process shares: backoff on 5xx/network errors, retries, metrics."""

    backoff_base: float = 2.0
    backoff_cap: float = 300.0
    action_max_attempts: int = 5
    metrics_port: int = 0


class ForwardSettings(_FromEnv):
    """The council forwarder (``civicwatch connect forward``, clause 5.5): SMTP server and sender.

    The SMTP user name and password are secrets (``SMTP_USERNAME``, ``SMTP_PASSWORD``, environment or
    ``CIVICWATCH_SECRETS_FILE``), read by the forwarder and never logged; contacts and reply templates
    are in the policy file (``contacts``, ``acknowledgement``).
    """

    model_config = SettingsConfigDict(env_prefix="CIVICWATCH_SMTP_")

    host: str = "localhost"
    port: int = 587
    starttls: bool = True
    """Upgrade with STARTTLS before logging in; off only for a relay on loopback."""
    ca_file: Path | None = None
    """CA bundle that signs the SMTP server's certificate (default: the system's)."""
    sender: str = Field(default="", validation_alias="CIVICWATCH_SMTP_FROM")
    """The From address of forwarded comments (e.g. ``socialmedia@citywindsor.ca``)."""
    timeout: float = 30.0
    interval: float = 1.0
    """Seconds between two messages: keeps the forwarder under the relay's sending limits."""

    def ssl_context(self) -> ssl.SSLContext:
        """Certificate and host name checked always; a private CA only through ``ca_file``."""
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)


ALL_SETTINGS: tuple[type[_FromEnv], ...] = (
    Settings,
    XSettings,
    FacebookSettings,
    InstagramSettings,
    ConnectorSettings,
    ForwardSettings,
)


def kafka_auth() -> dict[str, Any]:
    """``Settings.kafka_auth`` of this process's environment: what every Kafka client is given."""
    return Settings.from_env().kafka_auth()


def variables() -> set[str]:
    """Every environment variable a setting is read from."""
    return {cls.variable(name) for cls in ALL_SETTINGS for name in cls.model_fields}


SECRET_SETTINGS: frozenset[str] = frozenset({"CIVICWATCH_KAFKA_SASL_PASSWORD"})
"""Settings that hold a secret (scrubbed from logs like platform tokens)."""
PUBLIC_VARIABLES: frozenset[str] = frozenset(variables() - SECRET_SETTINGS)
"""Settings whose values are not secrets, whatever their names say (``..._COOKIE_SECURE``)."""
