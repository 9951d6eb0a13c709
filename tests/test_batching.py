"""``workers.batching``: batches of what a stream has queued, never held across a cleared queue.

The stream here is a queue behind the two things the agents use of a faust stream (``events()``
and ``channel.empty()``); ``cleared`` reproduces a rebalance emptying the queue just after the agent
saw it non-empty, which once left a worker's batch unacked and the group's rebalance stuck.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from workers import batching
from workers.batching import queued_batches


class Channel:
    def __init__(self, stream: FakeStream) -> None:
        self.stream = stream

    def empty(self) -> bool:
        return self.stream.claims_empty if self.stream.claims_empty is not None else self.stream.queue.empty()


class FakeStream:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[int] = asyncio.Queue()
        self.claims_empty: bool | None = None
        self.channel = Channel(self)

    async def events(self) -> AsyncIterator[int]:
        while True:
            yield await self.queue.get()

    def put(self, *items: int) -> None:
        for item in items:
            self.queue.put_nowait(item)

    def cleared(self) -> None:
        """The queue said it held more, then a rebalance cleared it: nothing more comes."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.claims_empty = False


async def take(batches: AsyncIterator[list[int]], timeout: float = 5.0) -> list[int]:
    return await asyncio.wait_for(batches.__anext__(), timeout)


def test_batch_held_when_the_queue_is_cleared_is_handed_over() -> None:
    async def run() -> tuple[list[int], list[int]]:
        stream = FakeStream()
        batches = queued_batches(stream, max_size=100)
        stream.put(1, 2, 3)
        stream.claims_empty = False  # as if more were queued behind 3
        first = asyncio.ensure_future(take(batches))
        await asyncio.sleep(0.05)
        stream.cleared()
        got = await first
        stream.claims_empty = None
        stream.put(4)  # the stream goes on after the rebalance: the iterator survived the deadline
        after = await take(batches)
        await batches.aclose()  # type: ignore[attr-defined]
        return got, after

    assert asyncio.run(run()) == ([1, 2, 3], [4])


def test_idle_queue_hands_over_at_once_and_full_batches_split() -> None:
    async def run() -> list[list[int]]:
        stream = FakeStream()
        batches = queued_batches(stream, max_size=3)
        stream.put(*range(7))
        got = [await take(batches, 1.0) for _ in range(3)]
        await batches.aclose()  # type: ignore[attr-defined]
        return got

    assert asyncio.run(run()) == [[0, 1, 2], [3, 4, 5], [6]]


def test_gather_waits_once_for_more_before_handing_over() -> None:
    async def run() -> list[list[int]]:
        stream = FakeStream()
        batches = queued_batches(stream, max_size=100, gather=0.5)
        stream.put(1)

        async def later() -> None:
            await asyncio.sleep(0.05)
            stream.put(2)
            await asyncio.sleep(1.0)  # after the one gather: a batch of its own
            stream.put(3)

        feeder = asyncio.ensure_future(later())
        got = [await take(batches), await take(batches)]
        await feeder
        await batches.aclose()  # type: ignore[attr-defined]
        return got

    assert asyncio.run(run()) == [[1, 2], [3]]


def test_closing_cancels_the_pending_fetch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batching, "HOLD_SECONDS", 0.05)

    async def run() -> int:
        stream = FakeStream()
        batches = queued_batches(stream, max_size=100)
        stream.put(1)
        assert await take(batches) == [1]
        waiting = asyncio.ensure_future(take(batches))
        await asyncio.sleep(0.05)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        await batches.aclose()  # type: ignore[attr-defined]
        await asyncio.sleep(0)
        return sum(1 for task in asyncio.all_tasks() if not task.done()) - 1  # this task

    assert asyncio.run(run()) == 0
