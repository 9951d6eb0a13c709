"""Ids derived from content, shared by every process: the worker's review and forward ids, the review
service's decision ids and the action connector's audit ids must agree without a lookup.

Pure ``hashlib``: importing this loads no NLP, so a connector can hash an id in a millisecond.
"""

from __future__ import annotations

import hashlib


def text_digest(text: str) -> str:
    """A short digest of a comment's text: an edit changes it, a redelivery does not."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def stable_id(*parts: str) -> str:
    """One id for the same parts on every process and every run (unit separator between parts)."""
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
