"""facebook-sdk 3.1.0's ``GraphAPI``, wrapped thinly where it falls short. The only module that imports it.

Workarounds, each pinned by a test in ``tests/test_connectors_facebook.py`` (when a fixed release or
a replacement arrives, those tests say which workaround can go, and only this file changes):

1. The constructor accepts only versions matching ``^\\d\\.\\d{1,2}$`` from a list ending at 3.1, so
   no current (two-digit) version can be passed. We construct without one and set ``version``.
2. ``get_all_connections`` rebuilds the next request from ``paging.next`` with ``parse_qs`` and
   ``del args["access_token"]``: it raises ``KeyError`` when the ``next`` URL carries no token
   (Graph omits it, e.g. when the token was sent in a header or for some edges), and it keeps the
   original path even when ``next`` points elsewhere. ``next_request`` follows the URL's own path
   and query, with or without a token.
3. ``GraphAPIError`` keeps neither the HTTP status nor the headers, and a non-JSON answer (an HTML
   502 from a proxy) becomes a "Maintype" error or a ``KeyError`` on ``content-type``. A session that
   remembers the last response gives us status and rate-limit headers (``X-App-Usage``,
   ``X-Business-Use-Case-Usage``) to translate errors properly.

Error translation (Graph error codes): 190 -> ``CredentialError``; 4, 17, 32, 613, 80001 ->
``RateLimited``; 1, 2, ``is_transient`` and any 5xx -> ``TransientError``; 10 and 200-299 ->
``NotPermitted``; 100 with subcode 33 -> ``NotFound``.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qsl, urlparse

import facebook
import orjson
import requests

from connectors.core import (
    Clock,
    ConnectorError,
    CredentialError,
    NotFound,
    NotPermitted,
    RateLimited,
    TransientError,
)

TOKEN_VARIABLE = "FACEBOOK_PAGE_ACCESS_TOKEN"
THROTTLE_CODES = {4, 17, 32, 613, 80001}
TRANSIENT_CODES = {1, 2}
PERMISSION_CODES = {10, *range(200, 300)}


class RecordingSession(requests.Session):
    """Keeps the last response so that status and headers survive facebook-sdk's error handling."""

    last: requests.Response | None = None

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        self.last = None
        self.last = super().request(method, url, *args, **kwargs)
        return self.last


def make_graph(token: str, version: str, timeout: float = 30.0) -> tuple[facebook.GraphAPI, RecordingSession]:
    """A ``GraphAPI`` on ``version`` (e.g. ``"25.0"``); see workaround 1."""
    session = RecordingSession()
    graph = facebook.GraphAPI(access_token=token, timeout=timeout, session=session)
    graph.version = "v" + version.lstrip("v")
    return graph, session


def next_request(next_url: str) -> tuple[str, dict[str, str]]:
    """Path and arguments of a ``paging.next`` URL, without its token (workaround 2)."""
    parsed = urlparse(next_url)
    args = {
        k: v for k, v in parse_qsl(parsed.query, keep_blank_values=True) if k not in ("access_token", "appsecret_proof")
    }
    return parsed.path.lstrip("/"), args


def usage_percent(headers: Any) -> float:
    """Highest percentage in ``X-App-Usage`` and ``X-Business-Use-Case-Usage`` (0 when absent)."""
    highest = 0.0
    for name in ("x-app-usage", "x-business-use-case-usage", "x-page-usage"):
        raw = headers.get(name) if headers is not None else None
        if not raw:
            continue
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        entries = [doc] if "call_count" in doc else [e for v in doc.values() if isinstance(v, list) for e in v]
        for entry in entries:
            if isinstance(entry, dict):
                for key in ("call_count", "total_cputime", "total_time"):
                    value = entry.get(key)
                    if isinstance(value, int | float):
                        highest = max(highest, float(value))
    return highest


def regain_seconds(headers: Any) -> float | None:
    """``estimated_time_to_regain_access`` (minutes) from the business-use-case header, in seconds."""
    raw = headers.get("x-business-use-case-usage") if headers is not None else None
    if not raw:
        return None
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    minutes = [
        e.get("estimated_time_to_regain_access")
        for v in doc.values()
        if isinstance(v, list)
        for e in v
        if isinstance(e, dict)
    ]
    waits = [float(m) for m in minutes if isinstance(m, int | float) and m > 0]
    return max(waits) * 60 if waits else None


class GraphClient:
    """Calls through the SDK and translates every failure into the connector error tree."""

    def __init__(
        self,
        graph: facebook.GraphAPI,
        session: RecordingSession,
        clock: Clock,
        *,
        throttle_wait: float = 600.0,
        usage_ceiling: float = 90.0,
        app_secret: str | None = None,
        token_variable: str = TOKEN_VARIABLE,
    ) -> None:
        self.graph = graph
        self.token_variable = token_variable
        self.proof = (
            hmac.new(app_secret.encode(), str(graph.access_token).encode(), hashlib.sha256).hexdigest()
            if app_secret and graph.access_token
            else None
        )
        """``appsecret_proof`` (HMAC-SHA256 of the token keyed with the app secret): sent with every call,
        so an app that requires it ("Require App Secret") accepts us and a stolen token alone is useless."""
        self.session = session
        self.clock = clock
        self.throttle_wait = throttle_wait
        self.usage_ceiling = usage_ceiling
        self.paused_until = 0.0

    @property
    def version(self) -> str:
        return str(self.graph.version)

    def request(
        self,
        path: str,
        args: dict[str, Any] | None = None,
        post_args: dict[str, Any] | None = None,
        method: str | None = None,
    ) -> dict[str, Any]:
        now = self.clock.time()
        if self.paused_until > now:
            raise RateLimited(self.paused_until - now, "usage_ceiling")
        if self.proof is not None:
            args = {**(args or {}), "appsecret_proof": self.proof}
        try:
            result = self.graph.request(path, args=args, post_args=post_args, method=method)
        except facebook.GraphAPIError as exc:
            raise self._translate(exc.result) from None
        except KeyError:  # the SDK reads headers["content-type"] unguarded
            raise self._translate(None) from None
        except requests.RequestException as exc:
            raise TransientError(f"network error calling the Graph API: {type(exc).__name__}") from None
        last = self.session.last
        if last is not None and usage_percent(last.headers) >= self.usage_ceiling:
            # Slow down before Graph throttles us: a throttled app is locked out for longer.
            self.paused_until = now + (regain_seconds(last.headers) or self.throttle_wait / 4)
        if not isinstance(result, dict):
            raise TransientError("the Graph API answered with something that is not a JSON object")
        return result

    def _translate(self, result: Any) -> ConnectorError:
        last = self.session.last
        status = last.status_code if last is not None else None
        error = result.get("error") if isinstance(result, dict) else None
        if not isinstance(error, dict):
            if status is not None and status >= 500:
                return TransientError(f"the Graph API answered {status}")
            if last is None:
                return TransientError("no answer from the Graph API")
            return ConnectorError(f"the Graph API answered {status} with an unexpected body")
        code = error.get("code")
        subcode = error.get("error_subcode")
        label = f"Graph error {code}" + (f"/{subcode}" if subcode else "")
        if code == 190:
            return CredentialError(self.token_variable, f"was rejected by the Graph API ({label})")
        if code in THROTTLE_CODES:
            headers = last.headers if last is not None else None
            wait = regain_seconds(headers) or self.throttle_wait
            self.paused_until = self.clock.time() + wait
            return RateLimited(wait, f"rate_limited_{code}")
        if code in TRANSIENT_CODES or error.get("is_transient") or (status is not None and status >= 500):
            return TransientError(f"the Graph API failed transiently ({label})")
        if code in PERMISSION_CODES:
            return NotPermitted(f"the page token lacks a permission for this ({label})")
        if code == 100 and subcode == 33:
            return NotFound(f"the object no longer exists ({label})")
        return ConnectorError(f"the Graph API refused the request ({label})")
