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
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

SECRET_NAMES = re.compile(r"(token|secret|password|passwd|api[_-]?key|authorization|cookie)", re.I)
SHORT_SECRET = 6
"""Secrets shorter than this are scrubbed as whole words only (a 4-character password inside a
longer word is not that password; replacing it there would mangle every log line)."""
NOT_SECRETS = frozenset({"true", "false", "yes", "no", "on", "off", "none", "null", "json", "console"})
_SECRET_VALUES: set[str] = set()
_pattern: re.Pattern[str] | None = None


def register_secret(value: str | None) -> None:
    """Remember a secret so that any log line containing it is scrubbed, however deep."""
    global _pattern
    if not value or len(value) < 3 or value.lower() in NOT_SECRETS or value.isdigit() or value in _SECRET_VALUES:
        return
    _SECRET_VALUES.add(value)
    parts = [
        re.escape(v) if len(v) >= SHORT_SECRET else rf"(?<![\w-]){re.escape(v)}(?![\w-])"
        for v in sorted(_SECRET_VALUES, key=len, reverse=True)
    ]
    _pattern = re.compile("|".join(parts))


def register_environment_secrets(environ: Mapping[str, str] | None = None) -> None:
    """Scrub from every log line the values of secret-looking variables (tokens, passwords, keys).

    A process may read no token itself, yet share an environment with connectors in Compose and
    Kubernetes, and a library may log its settings or a URL one day. civicwatch's own settings
    are not secrets (``CIVICWATCH_REVIEW_COOKIE_SECURE=true`` is not), except the broker password.
    """
    from runtime.settings import PUBLIC_VARIABLES

    for name, value in (os.environ if environ is None else environ).items():
        if SECRET_NAMES.search(name) and name not in PUBLIC_VARIABLES:
            register_secret(value)


def _scrub(value: Any, depth: int = 0) -> Any:
    """``value`` with every registered secret replaced, inside dicts, lists, tuples and sets too;
    a secret-looking key hides its whole value. Exceptions and other objects become their scrubbed
    ``repr`` when they carry a secret (a renderer would print that ``repr`` anyway)."""
    if isinstance(value, str):
        return _pattern.sub("[redacted]", value) if _pattern is not None else value
    if depth > 8 or isinstance(value, int | float | bool) or value is None:
        return value
    if isinstance(value, Mapping):
        return {
            k: "[redacted]" if isinstance(k, str) and SECRET_NAMES.search(k) else _scrub(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(_scrub(v, depth + 1) for v in value) if not hasattr(value, "_fields") else value
    if _pattern is not None:
        shown = repr(value)
        scrubbed = _pattern.sub("[redacted]", shown)
        if scrubbed != shown:
            return scrubbed
    return value


def scrub_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Processor: hide values of secret-looking keys and any registered secret anywhere."""
    for key in list(event_dict):
        if SECRET_NAMES.search(key):
            event_dict[key] = "[redacted]"
        else:
            event_dict[key] = _scrub(event_dict[key])
    return event_dict


def scrub_rendered(_: Any, __: str, line: Any) -> Any:
    """Processor after the renderer (which hands it the line): a last pass over the whole line,
    for whatever a renderer printed of an object the field scrub could not look into."""
    return _pattern.sub("[redacted]", line) if _pattern is not None and isinstance(line, str) else line


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        scrub_secrets,
    ]


def _use_json(json: bool | None) -> bool:
    fmt = os.environ.get("CIVICWATCH_LOG_FORMAT", "")
    return json if json is not None else (fmt == "json" or (fmt != "console" and not sys.stderr.isatty()))


def make_formatter(json: bool | None = None) -> logging.Formatter:
    """The one formatter every handler uses (also handed to faust's worker via ``logging_config``)."""
    renderer: Any = structlog.processors.JSONRenderer() if _use_json(json) else structlog.dev.ConsoleRenderer()
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_shared_processors(), structlog.processors.format_exc_info],
        # Tracebacks are rendered here, after the shared chain: scrub again so a secret inside an
        # exception message is hidden too.
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            scrub_secrets,
            renderer,
            scrub_rendered,
        ],
    )


def logging_config(level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` document routing everything through ``make_formatter``."""
    quiet = max(logging.WARNING, logging.getLevelName(level.upper()))
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"civicwatch": {"()": make_formatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "civicwatch",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        "loggers": {
            name: {"level": logging.getLevelName(quiet)}
            for name in ("kafka", "aiokafka", "faust", "mode", "tweepy", "urllib3")
        },
    }


def configure_logging(level: str | None = None, json: bool | None = None) -> None:
    """JSON unless stderr is a terminal (override with ``CIVICWATCH_LOG_FORMAT=json|console``)."""
    import logging.config

    level_name = (level or os.environ.get("CIVICWATCH_LOG_LEVEL", "INFO")).upper()
    structlog.configure(
        processors=[*_shared_processors(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    config = logging_config(level_name)
    if json is not None:
        config["formatters"]["civicwatch"] = {"()": make_formatter, "json": json}
    logging.config.dictConfig(config)


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
