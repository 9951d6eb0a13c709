"""Keeps the city's posts in a global table: the context the off-topic detector (5.7.1) needs."""

from __future__ import annotations

from typing import Any

import structlog

from schemas import Post, SchemaError, decode
from workers.agents.deadletters import send_dead_letter
from workers.app import app, post_texts, posts_topic

log = structlog.get_logger("civicwatch.posts")


@app.agent(posts_topic)
async def posts(stream: Any) -> None:
    async for event in stream.events():
        try:
            post = decode(event.value, Post)
        except SchemaError as exc:
            await send_dead_letter(event, "posts", exc)
            continue
        post_texts[post.key] = post.text
        log.info("post_stored", post_key=post.key)
