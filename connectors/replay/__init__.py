"""Replays a JSON Lines file of posts and comments into Kafka: the demo's source and the tests' fixture.

Each line is either an event in our schema with a ``"type": "comment"|"post"`` key, or a labeled
row in the evaluation format (``text`` and optional ``context``), which becomes a comment on a post
made from its context. A line that cannot be mapped goes to ``comments.deadletter`` with its line
number; the replay goes on.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from runtime.sink import Sink
from schemas import Comment, Post, dead_letter
from schemas.codec import InvalidEvent, MalformedMessage, describe_validation
from schemas.topics import COMMENTS_DEADLETTER, COMMENTS_RAW, POSTS

STRIP_KEYS = ("type", "expect")


@dataclass
class ReplayStats:
    posts: int = 0
    comments: int = 0
    dead_lettered: int = 0


def _from_labeled(row: dict[str, Any], line_no: int) -> tuple[Post | None, Comment]:
    now = datetime.now(UTC)
    context = row.get("context")
    post = None
    post_id = "replay-no-context"
    if isinstance(context, str) and context:
        post_id = "ctx-" + hashlib.sha1(context.encode("utf-8", "replace")).hexdigest()[:12]
        post = Post(platform="replay", post_id=post_id, account="replay", text=context, created_at=now)
    comment = Comment(
        platform="replay",
        comment_id=str(row.get("id") or f"line-{line_no}"),
        post_id=post_id,
        author_id="replay",
        text=row["text"],
        language=row.get("lang") or row.get("language"),
        created_at=now,
    )
    return post, comment


def parse_line(raw: bytes, line_no: int) -> tuple[Post | None, Comment | None]:
    """Map one line to events; raises ``SchemaError`` (line number in the reason) when it cannot."""
    try:
        row = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedMessage(f"line {line_no}: not valid JSON: {exc.msg}") from None
    if not isinstance(row, dict):
        raise MalformedMessage(f"line {line_no}: expected a JSON object")
    kind = row.get("type")
    data = {k: v for k, v in row.items() if k not in STRIP_KEYS}
    try:
        if kind == "post":
            return Post.model_validate(data), None
        if kind == "comment":
            return None, Comment.model_validate(data)
        if isinstance(row.get("text"), str):
            return _from_labeled(row, line_no)
    except ValidationError as exc:
        raise InvalidEvent(f"line {line_no}: {describe_validation(exc)}") from None
    raise InvalidEvent(f"line {line_no}: neither a post, a comment nor a labeled row with text")


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as fh:
        for i, line in enumerate(fh, start=1):
            if line.strip():
                yield i, line.rstrip(b"\r\n")


def read_events(path: Path) -> Iterator[Post | Comment]:
    """Every post and comment of ``path`` in file order; raises ``SchemaError`` at the first bad line."""
    for line_no, raw in _lines(path):
        post, comment = parse_line(raw, line_no)
        yield from (e for e in (post, comment) if e is not None)


def replay_file(
    path: Path,
    sink: Sink,
    *,
    rate: float | None = None,
    limit: int | None = None,
    progress: bool = True,
) -> ReplayStats:
    """Produce every post and comment of ``path``; returns what was sent where."""
    stats = ReplayStats()
    total = sum(1 for _ in _lines(path)) if progress else None
    bar: Any = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total if limit is None else min(total or 0, limit), unit="line", desc="replay")
    started = time.monotonic()
    try:
        for line_no, raw in _lines(path):
            if limit is not None and stats.comments + stats.dead_lettered >= limit:
                break
            try:
                post, comment = parse_line(raw, line_no)
            except (MalformedMessage, InvalidEvent) as exc:
                sink.send(
                    COMMENTS_DEADLETTER,
                    dead_letter(raw, stage="replay", error=exc, key=f"{path.name}:{line_no}"),
                )
                stats.dead_lettered += 1
            else:
                if post is not None:
                    sink.send(POSTS, post)
                    stats.posts += 1
                if comment is not None:
                    sink.send(COMMENTS_RAW, comment)
                    stats.comments += 1
                    if rate:
                        delay = started + stats.comments / rate - time.monotonic()
                        if delay > 0:
                            time.sleep(delay)
            if bar is not None:
                bar.update(1)
        sink.flush()
    finally:
        if bar is not None:
            bar.close()
    return stats
