"""The review service's web application: pages rendered on the server, no script in the browser.

Security, in the order a request meets it:

- every response carries a strict Content Security Policy (nothing but our own stylesheet and
  forms back to us; no script, no inline style, no framing), ``nosniff``, and no referrer to other sites;
  pages with personal information are ``no-store``;
- sessions are random tokens in an HttpOnly, SameSite=Strict cookie; only their hash is stored;
- every POST carries a per-session CSRF token (the log-in form a per-visit one, double-submitted
  in a cookie) and a cross-origin (or ``null``) ``Origin`` is refused;
- each handler states the permission it needs (``auth.PERMISSIONS``);
- comment text is rendered inert (``render``), redacted for roles that may not see private
  information (clause 5.7.9), and each unredacted view is written to ``audit.log``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import jinja2
import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from review import PublishError, report
from review.agreement import agreement
from review.auth import PERMISSIONS, Permission
from review.charts import horizontal_bars, stacked_columns
from review.render import inert, private_spans, redacted_snippet, show
from review.service import ReviewService
from review.store import STATUSES, QueueFilter, QueueRow
from schemas import AuditRecord, CouncilForward, Decision
from schemas.ids import stable_id

log = structlog.get_logger("civicwatch.review.web")

HERE = Path(__file__).parent
SERVICE = web.AppKey("service", ReviewService)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
SESSION_COOKIE = "cw_session"
LOGIN_COOKIE = "cw_login"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
DECISIONS: dict[str, str] = {
    "keep": "Keep: within the policy",
    "hide": "Hide on the platform",
    "delete": "Delete from the platform",
    "forward": "Forward to the Mayor/Council contact (5.5)",
    "escalate": "Escalate to Corporate Communications",
}
DECISION_KEYS: dict[str, str] = {"keep": "k", "hide": "h", "delete": "x", "forward": "m", "escalate": "c"}
"""Access keys (no script: the page's strict CSP allows none): Alt+key in Chromium. ``d`` and ``e``
are not used because Alt+D and Alt+E are the browser's own (address bar, menu); ``j``/``u`` move
through the queue, ``r`` is the reason, ``a`` applies to identical comments, ``s`` records."""
BULK_LIMIT = 500
AGES = {
    "": ("any age", None, None),
    "lt1h": ("waiting < 1 h", None, 3600.0),
    "1to24h": ("waiting 1-24 h", 3600.0, 86400.0),
    "gt24h": ("waiting > 24 h", 86400.0, None),
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def _when(value: float | datetime | None) -> str:
    if value is None:
        return ""
    at = value if isinstance(value, datetime) else datetime.fromtimestamp(value, UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["inert"] = inert
    env.filters["ago"] = _ago
    env.filters["when"] = _when
    return env


class SignedIn:
    """The signed-in user of a request (from the session row)."""

    def __init__(self, name: str, role: str, csrf: str, token_hash: str) -> None:
        self.name = name
        self.role = role
        self.csrf = csrf
        self.token_hash = token_hash

    def can(self, permission: Permission) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())

    def sees_private(self, service: ReviewService) -> bool:
        return self.role in service.settings.review_private_roles


USER = web.RequestKey("user", SignedIn)


def render(request: web.Request, name: str, status: int = 200, **context: Any) -> web.Response:
    user: SignedIn | None = request.get(USER)
    body = (
        request.app[TEMPLATES]
        .get_template(name)
        .render(
            user=user,
            csrf=user.csrf if user else "",
            can=(lambda p: user is not None and user.can(p)),
            path=request.path,
            **context,
        )
    )
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    headers = response.headers
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"  # no-referrer would make browsers send "Origin: null"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if not request.path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"
    if request.app[SERVICE].settings.review_https:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    if isinstance(response, web.HTTPException):
        raise response
    return response


@web.middleware
async def sessions(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        service = request.app[SERVICE]
        idle_after = service.settings.review_idle_minutes * 60
        with service.store.transaction():
            row = service.store.session(_token_hash(token), time.time(), idle_after)
        if row is not None:
            current = service.users.get(row["username"])
            if current is not None and current.role == row["role"] and current.credential == row["credential"]:
                request[USER] = SignedIn(row["username"], row["role"], row["csrf"], row["token_hash"])
            else:  # removed from the users file, another role or a new password: sign in again
                with service.store.transaction():
                    service.store.delete_session(row["token_hash"])
    if request.method == "POST":
        origin = request.headers.get("Origin")
        if origin is not None and origin != f"{request.scheme}://{request.host}":
            raise web.HTTPForbidden(text="cross-origin request refused")
    return await handler(request)


def need(permission: Permission | None = None, csrf: bool = False) -> Callable[[Handler], Handler]:
    """Require a signed-in user (with ``permission``), and for POSTs a valid CSRF token."""

    def wrap(handler: Handler) -> Handler:
        async def checked(request: web.Request) -> web.StreamResponse:
            user: SignedIn | None = request.get(USER)
            if user is None:
                if request.path.startswith("/api/") or request.path.startswith("/export/"):
                    raise web.HTTPUnauthorized(text="sign in first")
                raise web.HTTPSeeOther("/login?" + urlencode({"next": request.path_qs}))
            if permission is not None and not user.can(permission):
                return render(
                    request,
                    "error.html",
                    403,
                    title="Not permitted",
                    message=f"Your role ({user.role}) does not allow this.",
                )
            if csrf:
                form = await request.post()
                sent = str(form.get("csrf", ""))
                if not sent or not hmac.compare_digest(sent, user.csrf):
                    return render(
                        request,
                        "error.html",
                        403,
                        title="Form expired",
                        message="The form's security token did not match. Reload the page and try again.",
                    )
            return await handler(request)

        return checked

    return wrap


def _safe_next(target: str) -> str:
    """``target`` if a browser would resolve it to a page of this site, else ``/``.

    Browsers drop tab and newline anywhere in a URL and read a backslash as ``/``, so ``/<tab>/evil.example``
    is ``//evil.example`` to them: a target with any control character, space or backslash is
    refused outright rather than cleaned, then it must be a path with no scheme and no host.
    """
    if not target.startswith("/") or any(ch <= " " or ch in "\\\x7f" for ch in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return "/"
    return target


async def login_page(request: web.Request) -> web.StreamResponse:
    token = secrets.token_urlsafe(24)
    response = render(
        request, "login.html", login_csrf=token, next=_safe_next(request.query.get("next", "/")), error=None
    )
    _set_cookie(request, response, LOGIN_COOKIE, token, 900)
    return response


def _set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="Strict",
        path="/",
        secure=request.app[SERVICE].settings.review_https,
    )


def _client_address(request: web.Request) -> str:
    """Who is signing in, for the log-in throttle: the peer, or behind a reverse proxy that the
    operator vouches for (``CIVICWATCH_REVIEW_FORWARDED_FOR``) the last hop it added."""
    if request.app[SERVICE].settings.review_forwarded_for:
        hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
        if hops:
            return hops[-1][:64]
    return request.remote or "-"


async def login(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    form = await request.post()
    name = str(form.get("username", "")).strip().lower()[:64]
    password = str(form.get("password", ""))[:1024]
    target = _safe_next(str(form.get("next", "/")))
    sent, cookie = str(form.get("csrf", "")), request.cookies.get(LOGIN_COOKIE, "")
    if not sent or not cookie or not hmac.compare_digest(sent, cookie):
        return render(
            request, "error.html", 403, title="Form expired", message="Reload the sign-in page and try again."
        )

    def again(message: str, status: int) -> web.Response:
        token = secrets.token_urlsafe(24)
        response = render(request, "login.html", status, login_csrf=token, next=target, error=message)
        _set_cookie(request, response, LOGIN_COOKIE, token, 900)
        return response

    address = _client_address(request)
    stamp = service.throttle.attempt(name, address)
    if stamp is None:
        service.metrics.logins.labels("locked").inc()
        return again("Too many failed attempts. Try again in 15 minutes.", 429)
    # scrypt is deliberately slow: keep it off the event loop.
    check = service.users.authenticate
    user = await asyncio.get_running_loop().run_in_executor(service.password_checks, check, name, password)
    if user is None:
        service.metrics.logins.labels("failed").inc()
        log.info("login_failed")
        with contextlib.suppress(PublishError):
            await service.audit("anonymous", "review.login", f"user:{name or '-'}", "failed", "wrong name or password")
        return again("Wrong name or password.", 401)
    service.throttle.succeeded(name, address, stamp)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    hours = service.settings.review_session_hours
    with service.store.transaction():
        service.store.create_session(
            _token_hash(token), user.name, user.role, csrf, time.time() + hours * 3600, user.credential
        )
    service.metrics.logins.labels("ok").inc()
    log.info("login_succeeded", user=user.name, role=user.role)
    try:
        await service.audit(user.name, "review.login", f"user:{user.name}", role=user.role)
    except PublishError:
        log.warning("audit_unavailable", verb="review.login")
    home = "/queue" if user.role != "analyst" else "/dashboard"
    response = web.HTTPSeeOther(target if target != "/" else home)
    _set_cookie(request, response, SESSION_COOKIE, token, int(hours * 3600))
    response.del_cookie(LOGIN_COOKIE, path="/")
    return response


@need(csrf=True)
async def logout(request: web.Request) -> web.StreamResponse:
    user: SignedIn = request[USER]
    service = request.app[SERVICE]
    with service.store.transaction():
        service.store.delete_session(user.token_hash)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@need()
async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/dashboard" if request[USER].role == "analyst" else "/queue")


def _queue_filter(request: web.Request, service: ReviewService) -> tuple[QueueFilter, dict[str, str]]:
    q = request.query
    chosen = {k: q.get(k, "") for k in ("clause", "platform", "post", "age", "status", "same")}
    chosen["status"] = chosen["status"] if chosen["status"] in (*STATUSES, "all") else "pending"
    min_age: float | None = None
    max_age: float | None = None
    if chosen["age"] != "overdue":
        chosen["age"] = chosen["age"] if chosen["age"] in AGES else ""
        _, min_age, max_age = AGES[chosen["age"]]
    try:
        page = max(1, int(q.get("page", "1")))
    except ValueError:
        page = 1
    chosen["page"] = str(page)
    f = QueueFilter(
        clause=chosen["clause"] or None,
        platform=chosen["platform"] or None,
        post=chosen["post"] or None,
        min_age=min_age,
        max_age=max_age,
        overdue=chosen["age"] == "overdue",
        same_text_as=chosen["same"][:128] or None,
        status=chosen["status"],
        limit=50,
        offset=(page - 1) * 50,
    )
    return f, chosen


@need("queue.view")
async def queue_page(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    f, chosen = _queue_filter(request, service)
    now = time.time()
    rows, total = service.store.queue(f, now)
    items = [
        {
            "row": r,
            "snippet": redacted_snippet(r.item.comment.text, r.item.tags),
            "waited": now - r.queued_at,
            "overdue": r.overdue(now),
        }
        for r in rows
    ]
    page = int(chosen["page"])
    base = {k: v for k, v in chosen.items() if v and k != "page"}
    return render(
        request,
        "queue.html",
        items=items,
        total=total,
        chosen=chosen,
        choices=service.store.choices(),
        statuses=[*STATUSES, "all"],
        ages={**{k: v[0] for k, v in AGES.items()}, "overdue": "overdue (past its clause's target)"},
        prev_url=f"/queue?{urlencode({**base, 'page': page - 1})}" if page > 1 else None,
        next_url=f"/queue?{urlencode({**base, 'page': page + 1})}" if page * 50 < total else None,
        overdue_total=sum(service.store.overdue(now, fresh=False)[0].values()),
        done=request.query.get("done", "") if request.query.get("done", "") in DECISIONS else "",
        done_count=int(request.query.get("n", "1")) if request.query.get("n", "1").isdigit() else 1,
        brigading=service.brigading_alerts(),
    )


async def _item_context(request: web.Request, review_id: str) -> dict[str, Any]:
    service = request.app[SERVICE]
    user: SignedIn = request[USER]
    row = service.store.item(review_id)
    if row is None:
        raise web.HTTPNotFound(text="no such review item")
    item = row.item
    comment = item.comment
    reveal = user.sees_private(service)
    has_private = bool(private_spans(comment.text, item.tags))
    since = time.time() - service.settings.review_history_days * 86400
    earlier = service.store.history(f"{comment.platform}:{comment.author_id}", comment.key, since)
    private_history = [t.comment.key for t, _ in earlier if private_spans(t.comment.text[:2000], t.tags)]
    audit_failed = False
    if reveal and (has_private or private_history):
        try:  # unredacted personal information is shown only once the access is on record
            await service.audit(
                user.name,
                "review.private_viewed",
                comment.key,
                review_id=review_id,
                role=user.role,
                comment=has_private,
                history=private_history,
            )
        except PublishError:
            reveal, audit_failed = False, True
    history = [
        {"tagged": t, "decision": d, "shown": show(t.comment.text, t.tags, reveal, limit=2000)} for t, d in earlier
    ]
    post = service.store.post(f"{comment.platform}:{comment.post_id}")
    flagged = [t for t in item.tags if t.category in item.flags]
    prev_id, next_id = service.store.neighbours(review_id)
    titles: dict[str, str] = {}
    for rule in service.policy.policy.rules:
        titles.setdefault(rule.clause, rule.title)
    return {
        "prev_id": prev_id,
        "next_id": next_id,
        "identical": service.store.identical(review_id, BULK_LIMIT) if row.status == "pending" else [],
        "all_clauses": sorted(titles.items(), key=lambda kv: [int(x) for x in kv[0].split(".")]),
        "flagged_clauses": list(item.clauses),
        "chosen_clauses": list(item.clauses),
        "keys": DECISION_KEYS,
        "row": dataclasses.replace(row, reason=_reason(row.reason, reveal)),
        "item": item,
        "comment": comment,
        # On X the link holds the author's handle: it identifies them like the name does.
        "comment_url": comment.url if reveal else None,
        "shown": show(comment.text, flagged, reveal),
        "reveal": reveal,
        "has_private": has_private,
        "audit_failed": audit_failed,
        "author": (comment.author_handle or comment.author_id)
        if reveal
        else "author " + stable_id("author", comment.platform, comment.author_id)[:8],
        "post_text": post.text if post is not None else item.post_text,
        "post_url": post.url if post is not None else None,
        "quotes": [
            (clause, service.policy.quote(clause)) for clause in item.clauses or sorted({t.clause for t in flagged})
        ],
        "policy_found": service.policy.source_found,
        "flagged": flagged,
        "history": history,
        "history_private": bool(private_history),
        "audit": _audit_shown(service.store.audit_for(comment.key, review_id), reveal),
        "waited": time.time() - row.queued_at,
        "overdue": row.overdue(time.time()),
        "decisions": DECISIONS,
    }


def _reason(text: str | None, reveal: bool) -> str:
    """A moderator's free-text reason may quote a comment or name someone: roles that may not see
    private information get it redacted like comment text."""
    if not text or reveal:
        return text or ""
    return redacted_snippet(text, [], limit=2000)


def _audit_shown(records: list[AuditRecord], reveal: bool) -> list[AuditRecord]:
    return [r.model_copy(update={"reason": _reason(r.reason, reveal)}) for r in records]


@need("queue.view")
async def item_page(request: web.Request) -> web.StreamResponse:
    context = await _item_context(request, request.match_info["review_id"])
    return render(request, "item.html", error=None, reason="", **context)


def _decision(row: QueueRow, kind: str, reason: str, clauses: list[str], moderator: str) -> Decision:
    item = row.item
    return Decision(
        decision_id=uuid.uuid4().hex,
        review_id=item.review_id,
        platform=item.comment.platform,
        comment_id=item.comment.comment_id,
        post_id=item.comment.post_id,
        decision=kind,  # type: ignore[arg-type]
        clauses=clauses,
        reason=reason,
        moderator=moderator,
        hidden=row.auto_hidden,
    )


@need("queue.decide", csrf=True)
async def decide(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    user: SignedIn = request[USER]
    review_id = request.match_info["review_id"]
    row = service.store.item(review_id)
    if row is None:
        raise web.HTTPNotFound(text="no such review item")
    form = await request.post()
    kind = str(form.get("decision", ""))
    reason = str(form.get("reason", "")).strip()
    known = {rule.clause for rule in service.policy.policy.rules}
    # The moderator's clauses: flags confirmed, wrong ones unticked, missed ones added (agreement).
    chosen = sorted({str(c) for c in form.getall("clause", []) if str(c) in known})
    clauses = chosen if form.get("clauses_shown") == "1" else list(row.item.clauses)
    bulk = form.get("identical") == "1"
    error, status = None, 400
    if row.status == "deleted":
        error, status = "The comment was deleted on the platform: there is nothing left to act on.", 409
    elif kind not in DECISIONS:
        error = "Choose a decision."
    elif not reason:
        error = "Give a reason: it goes to the audit log (who, what, when, why)."
    elif len(reason) > 2000:
        error = "The reason is limited to 2,000 characters."
    elif bulk and kind == "forward":
        error = "Forwarding to the Mayor or Council (5.5) is decided comment by comment."
    if error is None:
        item = row.item
        decision = _decision(row, kind, reason, clauses, user.name)
        forward = None
        if kind == "forward":
            council_tags = [t for t in item.tags if t.category == "council"]
            forward = CouncilForward(
                forward_id=stable_id("council", "decision", decision.decision_id),
                comment=item.comment,
                persons=sorted({t.detail for t in council_tags if t.detail}) or ["Council"],
                tags=council_tags,
            )
        done = 0
        try:
            await service.publish_decision(decision, forward)
            done = 1
            if bulk:
                # One decision per comment, so each has its own action and its own audit record.
                flagged = set(item.clauses)
                for other in service.store.identical(review_id, BULK_LIMIT):
                    # Clauses the moderator added or removed carry over; each keeps its own other flags.
                    own = sorted((set(other.item.clauses) - flagged) | set(clauses))
                    await service.publish_decision(_decision(other, kind, reason, own, user.name), None)
                    done += 1
                log.info("bulk_decision_published", review_id=review_id, decision=kind, items=done)
        except PublishError as exc:
            recorded = f" ({done} of the identical comments were recorded)" if done else ""
            error, status = f"The decision was not recorded{recorded}: {exc}. Try again in a moment.", 503
        else:
            raise web.HTTPSeeOther(f"/queue?{urlencode({'done': kind, 'n': done})}")
    context = await _item_context(request, review_id)
    context["chosen_clauses"] = clauses
    return render(request, "item.html", status, error=error, reason=reason[:2000], **context)


WINDOW_SPANS = {"hour": (timedelta(hours=1), 48), "day": (timedelta(days=1), 30)}


def _dashboard_data(service: ReviewService, window: str) -> dict[str, Any]:
    size, count = WINDOW_SPANS[window]
    latest = service.store.latest_window(window)
    if latest is None:
        return {"empty": True}
    end = datetime.fromtimestamp(latest, UTC)
    first = end - size * (count - 1)
    totals = report.combine(service.store.aggregates(window, first.timestamp()))
    starts = [first + size * i for i in range(count)]
    fmt = "%m-%d %H:00" if window == "hour" else "%m-%d"
    index = {s: i for i, s in enumerate(starts)}
    series: dict[str, list[int]] = {}
    for t in totals:
        if t.dimension == "clause" and t.window_start in index:
            series.setdefault(t.key, [0] * count)[index[t.window_start]] += t.comments
    overall = report.over_span(totals, "all")
    summary = overall[0] if overall else None
    posts = {p: service.store.post(p) for p in {t.key for t in totals if t.dimension == "post"}}
    platform_rows = [(t.key, t.comments) for t in report.top(totals, "platform", n=10)]
    language_rows = [(t.key, t.comments) for t in report.top(totals, "language", n=10)]
    return {
        "empty": False,
        "first": first,
        "last": end + size,
        "summary": summary,
        "flags_chart": stacked_columns([s.strftime(fmt) for s in starts], series),
        "platform_chart": horizontal_bars(platform_rows),
        "language_chart": horizontal_bars(language_rows),
        "top_posts": report.top(totals, "post", "comments", 10),
        "top_flagged_posts": report.top(totals, "post", "flagged", 10),
        "top_topics": report.top(totals, "topic", "comments", 12),
        "top_flagged_topics": report.top(totals, "topic", "flagged", 12),
        "clause_names": _clause_names(service),
        "post_titles": {k: (p.text[:90] + ("…" if len(p.text) > 90 else "")) if p else "" for k, p in posts.items()},
    }


def _clause_names(service: ReviewService) -> dict[str, str]:
    names: dict[str, list[str]] = {}
    for rule in service.policy.policy.rules:
        names.setdefault(rule.clause, []).append(rule.category)
    return {clause: ", ".join(categories) for clause, categories in names.items()}


@need("dashboard.view")
async def dashboard(request: web.Request) -> web.StreamResponse:
    window = request.query.get("window", "day")
    window = window if window in WINDOW_SPANS else "day"
    service = request.app[SERVICE]
    return render(request, "dashboard.html", window=window, data=_dashboard_data(service, window))


@need("dashboard.view")
async def agreement_page(request: web.Request) -> web.StreamResponse:
    """How often moderators confirm each clause's flags, per week: the detectors' precision in the
    city's own judgement, and the clauses they miss. Counts only."""
    service = request.app[SERVICE]
    try:
        weeks = max(1, min(int(request.query.get("weeks", "12")), 104))
    except ValueError:
        weeks = 12
    result = agreement(service.store.decided(time.time() - weeks * 7 * 86400))
    return render(
        request,
        "agreement.html",
        weeks=weeks,
        rows=result.rows,
        totals=result.totals(),
        most_added=result.most_added(),
        clause_names=_clause_names(service),
    )


@need("aggregates.export")
async def export_csv(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    window = request.query.get("window", "day")
    window = window if window in WINDOW_SPANS or window == "week" else "day"  # week: moderators' agreement
    dimension = request.query.get("dimension", "")
    totals = [
        t for t in report.combine(service.store.aggregates(window, 0.0)) if not dimension or t.dimension == dimension
    ]
    try:
        await service.audit(
            request[USER].name,
            "review.aggregates_exported",
            f"aggregates:{window}",
            rows=len(totals),
            dimension=dimension or "all",
        )
    except PublishError:
        log.warning("audit_unavailable", verb="review.aggregates_exported")
    return web.Response(
        text=report.to_csv(totals),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="civicwatch-aggregates-{window}.csv"'},
    )


@need("queue.view")
async def posts_page(request: web.Request) -> web.StreamResponse:
    """Clause 5.6: the city's own posts the worker found confidential or private information in."""
    service = request.app[SERVICE]
    reveal = request[USER].sees_private(service)
    items = [
        {"item": i, "shown": show(i.post.text, i.findings, reveal, limit=4000)} for i in service.store.post_items()
    ]
    return render(request, "posts.html", items=items)


@need("audit.view")
async def audit_page(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    reveal = request[USER].sees_private(service)
    return render(request, "audit.html", records=_audit_shown(service.store.audit_recent(200), reveal))


def _api_item(service: ReviewService, row: Any, identify: bool) -> dict[str, Any]:
    """One queue item, its text always redacted; the platform's comment id (which finds the
    author on the platform) only for roles that may see private information."""
    item = row.item
    text = "".join(s.text for s in show(item.comment.text, item.tags, False).segments)
    return {
        "review_id": item.review_id,
        **({"comment_key": item.comment.key} if identify else {}),
        "post": f"{item.comment.platform}:{item.comment.post_id}",
        "clauses": item.clauses,
        "flags": item.flags,
        "status": row.status,
        "severity": row.severity,
        "target_s": row.target_s,
        "decision": row.decision,
        "decided_by": row.decided_by,
        "action_id": row.action_id,
        "auto_hidden": row.auto_hidden,
        "queued_at": row.queued_at,
        "text": text,
    }


@need("queue.view")
async def api_queue(request: web.Request) -> web.StreamResponse:
    """The queue as JSON, always redacted (unredacted text is only on the audited item page)."""
    service = request.app[SERVICE]
    f, _ = _queue_filter(request, service)
    rows, total = service.store.queue(f)
    identify = request[USER].sees_private(service)
    return web.json_response({"total": total, "items": [_api_item(service, r, identify) for r in rows]})


async def health(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    try:
        db_ok = service.store.ping()
    except Exception:
        db_ok = False
    ok = db_ok and service.ingest.running and service.producer is not None
    pending, _ = service.store.pending_stats() if db_ok else (0, None)
    body = {
        "status": "ok" if ok else "degraded",
        "database": "ok" if db_ok else "failed",
        "consumer": "running" if service.ingest.running else (service.ingest.last_error or "starting"),
        "producer": "ready" if service.producer is not None else "connecting",
        "lag": service.ingest.lag,
        "caught_up": service.ingest.caught_up,
        "pending": pending,
    }
    return web.json_response(body, status=200 if ok else 503)


async def metrics(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    return web.Response(body=generate_latest(service.metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


def build_app(service: ReviewService) -> web.Application:
    app = web.Application(middlewares=[security_headers, sessions], client_max_size=64 * 1024)
    app[SERVICE] = service
    app[TEMPLATES] = templates()
    app.router.add_get("/", home)
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/queue", queue_page)
    app.router.add_get("/items/{review_id}", item_page)
    app.router.add_post("/items/{review_id}/decision", decide)
    app.router.add_get("/dashboard", dashboard)
    app.router.add_get("/agreement", agreement_page)
    app.router.add_get("/export/aggregates.csv", export_csv)
    app.router.add_get("/posts", posts_page)
    app.router.add_get("/audit", audit_page)
    app.router.add_get("/api/queue", api_queue)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    app.router.add_static("/static/", HERE / "static")

    async def on_startup(_: web.Application) -> None:
        await service.start()

    async def on_cleanup(_: web.Application) -> None:
        await service.stop()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app
