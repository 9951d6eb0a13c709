"""structlog set-up: JSON lines when not on a terminal, one renderer for stdlib loggers too.

faust, aiokafka, kafka-python and tweepy log through the standard library; routing them through the
same processor chain keeps one format for operators and one place that scrubs secrets. Event names
are facts (``comment_classified``) and keys come from a small vocabulary: ids and counts, never
comment text, handles or matched spans.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_SECRET_KEYS = re.compile(r"(token|secret|password|passwd|api[_-]?key|authorization|cookie)", re.I)
_SECRET_VALUES: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret so that any log line containing it is scrubbed."""
    if value and len(value) >= 6:
        _SECRET_VALUES.add(value)


def _scrub(value: Any) -> Any:
    if isinstance(value, str) and _SECRET_VALUES:
        for secret in _SECRET_VALUES:
            if secret in value:
                value = value.replace(secret, "[redacted]")
    return value


def scrub_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Processor: hide values of secret-looking keys and any registered secret anywhere."""
    for key in list(event_dict):
        if _SECRET_KEYS.search(key):
            event_dict[key] = "[redacted]"
        else:
            event_dict[key] = _scrub(event_dict[key])
    return event_dict


_configured = False


def configure_logging(level: str | None = None, json: bool | None = None) -> None:
    """Idempotent; JSON unless stderr is a terminal (override with ``CIVICWATCH_LOG_FORMAT``)."""
    global _configured
    level_name = (level or os.environ.get("CIVICWATCH_LOG_LEVEL", "INFO")).upper()
    fmt = os.environ.get("CIVICWATCH_LOG_FORMAT", "")
    use_json = json if json is not None else (fmt == "json" or (fmt != "console" and not sys.stderr.isatty()))
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        scrub_secrets,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.processors.format_exc_info],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    if _configured:
        for h in list(root.handlers):
            if getattr(h, "_civicwatch", False):
                root.removeHandler(h)
    handler._civicwatch = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level_name)
    for noisy in ("kafka", "aiokafka", "faust", "mode", "tweepy", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level_name)))
    _configured = True


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
