"""What every platform connector shares: the error tree, the connector interface, time and backoff.

A connector is a small polling source in the manner of bytewax's ``SimplePollingSource``: each
``poll()`` makes at most one API request, maps what came back, and returns a ``Batch`` holding the
events, the dead letters and the checkpoints that cover them. ``poll()`` raises ``Retry(after)`` to
say "poll again later" (idle, polling budget spent, or rate-limited). The runner commits each batch
in one Kafka transaction, so one request is also the unit of resumption.

Errors, translated from tweepy, facebook-sdk and requests at the boundary where they enter::

    ConnectorError
    ├── Retry              poll again after ``after`` seconds (idle, budget spent)
    │   └── RateLimited    the platform said so (429, x-rate-limit-reset, Graph codes 4/17/32/613)
    ├── TransientError     5xx or network: back off exponentially with jitter, then retry
    ├── CredentialError    a token is missing or rejected: fatal, names the variable
    ├── NotPermitted       the platform refuses this operation for this account (403, Graph 10/200)
    └── NotFound           the object is gone (deleted comment or post)

Time is injected (``Clock``) so that tests of a long reset or a backoff do not really wait.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from schemas import Checkpoint, Comment, DeadLetter, Post


class ConnectorError(Exception):
    """Base of every error a connector raises; ``reason`` is safe to log (no payload, no token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Retry(ConnectorError):
    """Poll again after ``after`` seconds."""

    def __init__(self, after: float, reason: str = "idle") -> None:
        super().__init__(reason)
        self.after = max(0.0, after)


class RateLimited(Retry):
    """The platform's rate limit: wait until its reset, not a guess."""

    def __init__(self, after: float, reason: str = "rate_limited") -> None:
        super().__init__(after, reason)


class TransientError(ConnectorError):
    """A 5xx answer or a network failure: worth retrying after a backoff."""


class CredentialError(ConnectorError):
    """A token is missing or the platform rejected it; ``variable`` names which one."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable} {problem}")
        self.variable = variable


class NotPermitted(ConnectorError):
    """The platform does not allow this account to do this (e.g. hide a reply outside its conversations)."""


class NotFound(ConnectorError):
    """The comment or post no longer exists."""


@dataclass
class Batch:
    """What one poll produced. The checkpoints cover exactly the events beside them."""

    comments: list[Comment] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    checkpoints: list[Checkpoint] = field(default_factory=list)
    fetched: int = 0
    """Items the platform returned (mapped or not), for the ``fetched`` counter."""

    def __bool__(self) -> bool:
        return bool(self.comments or self.posts or self.dead_letters or self.checkpoints)


class Connector(Protocol):
    """A platform source. ``name`` keys its checkpoints (``connector.state``) and its transactional id."""

    name: str

    def start(self, state: Mapping[str, Checkpoint]) -> None:
        """Check credentials (raise ``CredentialError``) and resume from the committed checkpoints.

        Called again with the last committed state after a failed commit, so in-memory progress
        that never reached Kafka is forgotten.
        """
        ...

    def poll(self) -> Batch:
        """At most one API request; raise ``Retry`` to be polled again later."""
        ...


class Clock(Protocol):
    def time(self) -> float:
        """Wall-clock seconds since the epoch (rate-limit resets are given this way)."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Real time; ``sleep`` wakes early when ``stop`` is set, so a long reset does not block shutdown."""

    def __init__(self, stop: threading.Event | None = None) -> None:
        self.stop = stop or threading.Event()

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        self.stop.wait(max(0.0, seconds))


class FakeClock:
    """Test time: ``sleep`` advances the clock at once and is recorded."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class Backoff:
    """Exponential backoff with "equal jitter": half the step is fixed, half random.

    The fixed half guarantees the delay grows (a struggling API gets real relief); the random half
    spreads the retries of several connectors that failed together.
    """

    def __init__(self, base: float = 1.0, cap: float = 300.0, rng: random.Random | None = None) -> None:
        self.base = base
        self.cap = cap
        self.rng = rng or random.Random()
        self.attempt = 0

    def next_delay(self) -> float:
        step = min(self.cap, self.base * (2**self.attempt))
        self.attempt += 1
        return float(step / 2 + self.rng.uniform(0, step / 2))

    def reset(self) -> None:
        self.attempt = 0
