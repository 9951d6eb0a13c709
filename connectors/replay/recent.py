"""The bundled sample, replayed as if it had just been written, for demos and screenshots.

The sample's dates are fixed; analytics windows expire (``CIVICWATCH_ANALYTICS_*_EXPIRES_DAYS``)
and the dashboard shows recent windows, so a demo moves every timestamp by the same amount, keeping
the spacing, until the newest comment is ``newest_age`` old.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from connectors.replay import read_events
from runtime.settings import REPO_ROOT
from runtime.sink import Sink
from schemas import Comment, Post
from schemas.topics import COMMENTS_RAW, POSTS

SAMPLE = REPO_ROOT / "deploy" / "sample" / "windsor_sample.jsonl"


def replay_recent(sink: Sink, path: Path = SAMPLE, newest_age: timedelta = timedelta(minutes=30)) -> tuple[int, int]:
    """Send every post and comment of ``path`` with shifted times; return (posts, comments)."""
    events = list(read_events(path))
    newest = max(e.created_at for e in events if isinstance(e, Comment))
    shift = datetime.now(UTC) - newest_age - newest
    posts = comments = 0
    for event in events:
        moved = event.model_copy(update={"created_at": event.created_at + shift})
        if isinstance(moved, Post):
            sink.send(POSTS, moved)
            posts += 1
        else:
            sink.send(COMMENTS_RAW, moved)
            comments += 1
    sink.flush()
    return posts, comments
