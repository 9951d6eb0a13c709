"""The comment agent's gap handling, without a broker: after a seek back to the committed offset,
events queued before the seek are dropped and the partition continues from the re-read ones."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import TopicPartition

from workers.agents import comments as agent

TP0 = TopicPartition("comments.raw", 0)


def event(offset: int, partition: int = 0) -> Any:
    return SimpleNamespace(message=SimpleNamespace(topic="comments.raw", partition=partition, offset=offset))


def batch(*offsets: int) -> agent.CommentBatch:
    """A prepared batch as ``prepare_batch`` fills it, for events that were all taken."""
    prepared = agent.CommentBatch([event(o) for o in offsets], time.perf_counter())
    prepared.taken = list(prepared.events)
    prepared.starts[TP0] = offsets[0]
    prepared.ends[TP0] = offsets[-1] + 1
    return prepared


@pytest.fixture()
def seeks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[int, int]]]:
    done: list[tuple[int, int]] = []

    async def seek_wait(offsets: dict[Any, int]) -> None:
        done.extend((tp.partition, offset) for tp, offset in offsets.items())

    monkeypatch.setattr(agent.app, "_consumer", SimpleNamespace(seek_wait=seek_wait), raising=False)
    monkeypatch.setattr(type(agent.app), "consumer", property(lambda self: self._consumer), raising=False)
    agent._next_offset.clear()
    agent._resyncing.clear()
    agent._seeks.clear()
    yield done
    agent._next_offset.clear()
    agent._resyncing.clear()
    agent._seeks.clear()


def test_a_batch_continuing_from_the_committed_offset_has_no_gap(seeks: list[tuple[int, int]]) -> None:
    agent._next_offset[TP0] = 10
    assert agent.gaps(batch(10, 11, 12)) == {}


def test_a_batch_starting_past_or_holing_the_committed_offset_is_a_gap(seeks: list[tuple[int, int]]) -> None:
    agent._next_offset[TP0] = 10
    assert agent.gaps(batch(31, 32)) == {TP0: 10}
    assert agent.gaps(batch(10, 11, 15)) == {TP0: 10}


def test_after_a_resync_queued_events_are_dropped_until_the_sought_offset(seeks: list[tuple[int, int]]) -> None:
    async def run() -> list[bool]:
        await agent.resync(TP0, 10, 31)
        await agent.resync(TP0, 10, 40)  # the same gap again: no second seek
        return [await agent.stale(TP0, offset) for offset in (41, 42, 10, 11)]

    assert asyncio.run(run()) == [True, True, False, False]
    assert seeks == [(0, 10)]
    assert TP0 not in agent._resyncing


def test_a_resync_whose_offset_never_comes_back_seeks_again(
    seeks: list[tuple[int, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def run() -> bool:
        await agent.resync(TP0, 10, 31)
        clock = time.monotonic() + agent.RESEEK_S + 1
        monkeypatch.setattr(agent.time, "monotonic", lambda: clock)
        return await agent.stale(TP0, 50)

    assert asyncio.run(run()) is True
    assert seeks == [(0, 10), (0, 10)]


def test_the_watchdog_seeks_again_when_nothing_arrives_at_all(
    seeks: list[tuple[int, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def run() -> None:
        await agent.resync(TP0, 10, 31)
        await agent.reseek_overdue()  # too early: nothing to do
        clock = time.monotonic() + agent.RESEEK_S + 1
        monkeypatch.setattr(agent.time, "monotonic", lambda: clock)
        await agent.reseek_overdue()

    asyncio.run(run())
    assert seeks == [(0, 10), (0, 10)]


def test_faust_never_filters_the_transactional_input_by_read_offset() -> None:
    """faust drops messages below a read offset that stale deliveries raise after a seek back; for
    comments.raw the agent orders its input itself, so faust must see no read offset there."""
    from workers.app import TRANSACTIONAL_INPUTS, _ReadOffsets

    offsets = _ReadOffsets(lambda: None)
    raw = TopicPartition(next(iter(TRANSACTIONAL_INPUTS)), 0)
    other = TopicPartition("posts", 0)
    offsets[raw] = 5000
    offsets[other] = 7
    assert offsets[raw] is None
    assert offsets[other] == 7
