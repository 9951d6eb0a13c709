"""Batches of whatever a faust stream has queued, for agents that ack by hand.

A rebalance suspends the stream, clears its queue and then waits until every event an agent has
taken is acked (faust's ``Consumer.wait_empty``). An agent that holds a part-built batch while it
waits for the next event, expecting more because the queue was not empty a moment before, never
gets one: the queue was cleared, the batch is never acked, and the rebalance waits for ever while
the group's other members wait on it. So the next event is awaited with a deadline whenever a batch
is held, and the batch is handed over when the deadline passes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

HOLD_SECONDS = 0.5
"""How long a held batch waits for an event the queue promised; only a cleared queue takes this long."""


async def _next(events: AsyncIterator[Any]) -> Any:
    return await events.__anext__()


async def queued_batches(stream: Any, max_size: int, gather: float = 0.0) -> AsyncIterator[list[Any]]:
    """Yield up to ``max_size`` events at a time from ``stream`` (a ``noack()`` stream).

    A batch is yielded when full, when the queue is empty (after waiting ``gather`` seconds once for
    more), or when an event the queue held does not arrive within ``HOLD_SECONDS``. The next event
    is fetched in a task of its own that is never cancelled while the stream runs, so a deadline
    passing leaves the stream's iterator intact.
    """
    events = stream.events().__aiter__()
    pending: asyncio.Task[Any] | None = None
    batch: list[Any] = []
    gathered = False
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(_next(events))
            if batch and not pending.done():
                if stream.channel.empty():
                    timeout, gathered = (0.0 if gathered else gather), True
                else:
                    timeout = HOLD_SECONDS
                if timeout <= 0 or not (await asyncio.wait({pending}, timeout=timeout))[0]:
                    yield batch
                    batch, gathered = [], False
                    continue
            try:
                event = await pending
            except StopAsyncIteration:
                break
            finally:
                pending = None
            batch.append(event)
            if len(batch) >= max_size:
                yield batch
                batch, gathered = [], False
        if batch:
            yield batch
    finally:
        if pending is not None:
            pending.cancel()
