"""X batch compliance: find which of the comments we produced were deleted since, and say so.

X expects data kept offline to follow deletions (its batch compliance endpoints,
https://docs.x.com/x-api/compliance/batch-compliance/introduction). Polling never sees a deleted
post again, so without this a comment deleted on X stays in the review queue and the view.

Every ``CIVICWATCH_X_COMPLIANCE_INTERVAL`` seconds, in four steps across polls (each one request,
resumable from the ``compliance`` checkpoint):

1. ``POST /2/compliance/jobs`` (``type=tweets``) -> a job id, an ``upload_url`` and a ``download_url``;
2. ``PUT`` the ids produced in the last ``CIVICWATCH_X_COMPLIANCE_DAYS`` days to ``upload_url``, one
   per line (``text/plain``);
3. ``GET /2/compliance/jobs/{id}`` until ``status`` is ``complete`` (``failed``/``expired``: start over
   at the next interval);
4. ``GET download_url``: JSON lines ``{"id", "action", "created_at", "redacted_at", "reason"}``; each
   ``action: delete`` becomes a ``deleted`` comment on the same key, which the worker carries to the
   review view and the audit log.

The ids produced are kept per creation day (checkpoint ``produced:<date>``), so a batch rewrites only
its own day's list and days past the window are dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import requests
import structlog

from connectors.core import Batch, TransientError, utc
from connectors.runner import checkpoint
from schemas import Checkpoint, Comment

log = structlog.get_logger("civicwatch.x.compliance")

NAME = "x"
SCOPE = "compliance"
PRODUCED = "produced:"
DONE = {"complete"}
GIVE_UP = {"failed", "expired"}
STATUS_WAIT = 60.0


def _twitter_time(tweet_id: str) -> float:
    return ((int(tweet_id) >> 22) + 1288834974657) / 1000.0


@dataclass
class Compliance:
    """The produced ids by day and the state of the current job; see the module docstring."""

    interval: float
    days: float
    produced: dict[str, dict[str, str]] = field(default_factory=dict)
    """Creation date -> {comment id: post id} of the comments produced that day."""
    job: dict[str, str] = field(default_factory=dict)
    """``id``, ``upload_url``, ``download_url`` and ``step`` (``uploaded``) of the job in progress."""
    due: float = 0.0
    http: Callable[..., requests.Response] = requests.request

    @property
    def enabled(self) -> bool:
        return self.interval > 0

    def load(self, state: Mapping[str, Checkpoint], now: float) -> None:
        self.produced, self.job = {}, {}
        self.due = now + self.interval
        for cp in state.values():
            if cp.scope.startswith(PRODUCED):
                self.produced[cp.scope.removeprefix(PRODUCED)] = dict(cp.details.get("ids") or {})
            elif cp.scope == SCOPE:
                self.job = {k: str(v) for k, v in (cp.details.get("job") or {}).items()}
                self.due = float(cp.details.get("due") or now)

    def record(self, comments: list[Comment], now: float) -> list[Checkpoint]:
        """Remember the ids just produced; the checkpoints of the days that changed."""
        if not self.enabled:
            return []
        changed: set[str] = set()
        for c in comments:
            if c.deleted:
                continue
            day = c.created_at.astimezone(UTC).date().isoformat()
            ids = self.produced.setdefault(day, {})
            if c.comment_id not in ids:
                ids[c.comment_id] = c.post_id
                changed.add(day)
        return [self._day(day, now) for day in sorted(changed)]

    def _day(self, day: str, now: float) -> Checkpoint:
        return checkpoint(NAME, PRODUCED + day, None, now, ids=self.produced.get(day, {}))

    def _state(self, now: float) -> Checkpoint:
        return checkpoint(NAME, SCOPE, self.job.get("id"), now, job=self.job, due=self.due)

    def _expire(self, now: float) -> list[Checkpoint]:
        oldest = (utc(now) - timedelta(days=self.days)).date().isoformat()
        old = [d for d in self.produced if d < oldest]
        for day in old:
            self.produced[day] = {}
        out = [self._day(d, now) for d in old]
        for day in old:
            del self.produced[day]
        return out

    def step(self, call: Callable[..., dict[str, Any]], create: Any, get: Any, now: float) -> Batch:
        """One step of the job; ``call(endpoint, fn, ...)`` is ``XApi.call`` (errors translated)."""
        batch = Batch(checkpoints=self._expire(now))
        if not self.job:
            ids = sorted({i for day in self.produced.values() for i in day}, key=int)
            if not ids:
                self.due = now + self.interval
                batch.checkpoints.append(self._state(now))
                return batch
            body = call("compliance_jobs", create, type="tweets", name=f"civicwatch-{int(now)}")
            data = body.get("data") or {}
            job = {k: str(data.get(k) or "") for k in ("id", "upload_url", "download_url")}
            if not all(job.values()):
                raise TransientError("X answered a compliance job without id or URLs")
            self._transfer("PUT", job["upload_url"], data="\n".join(ids).encode())
            self.job = {**job, "step": "uploaded"}
            self.due = now + STATUS_WAIT
            log.info("x_compliance_job_uploaded", ids=len(ids))
            batch.checkpoints.append(self._state(now))
            return batch
        body = call("compliance_jobs", get, self.job["id"])
        status = str((body.get("data") or {}).get("status") or "")
        if status in GIVE_UP:
            log.warning("x_compliance_job_gave_up", status=status)
            self.job, self.due = {}, now + min(self.interval, 3600.0)
        elif status in DONE:
            batch.comments.extend(self._deletions(self._transfer("GET", self.job["download_url"]).content))
            batch.checkpoints.extend(self._forget([c.comment_id for c in batch.comments], now))
            log.info("x_compliance_job_done", deleted=len(batch.comments))
            self.job, self.due = {}, now + self.interval
        else:
            self.due = now + STATUS_WAIT
        batch.checkpoints.append(self._state(now))
        return batch

    def _transfer(self, method: str, url: str, data: bytes | None = None) -> requests.Response:
        headers = {"Content-Type": "text/plain"} if data is not None else {}
        try:
            response = self.http(method, url, data=data, headers=headers, timeout=60)
        except requests.RequestException as exc:
            raise TransientError(f"compliance file {method} failed: {type(exc).__name__}") from None
        if response.status_code >= 300:
            raise TransientError(f"compliance file {method} answered {response.status_code}")
        return response

    def _deletions(self, content: bytes) -> list[Comment]:
        where = {i: post for day in self.produced.values() for i, post in day.items()}
        out: list[Comment] = []
        for line in content.splitlines():
            try:
                doc = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            tweet_id = str(doc.get("id") or "") if isinstance(doc, dict) else ""
            if doc.get("action") != "delete" or tweet_id not in where:
                continue
            out.append(
                Comment(
                    platform="x",
                    comment_id=tweet_id,
                    post_id=where[tweet_id],
                    author_id="unknown",
                    text="",
                    created_at=datetime.fromtimestamp(_twitter_time(tweet_id), UTC),
                    deleted=True,
                )
            )
        return out

    def _forget(self, ids: list[str], now: float) -> list[Checkpoint]:
        changed = set()
        for day, produced in self.produced.items():
            for i in ids:
                if produced.pop(i, None) is not None:
                    changed.add(day)
        return [self._day(d, now) for d in sorted(changed)]
