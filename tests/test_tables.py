"""The analytics tables' window expiry: memory per window, not per write (issue 17's flat memory)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import faust

from workers.tables import ExpiringTable, expiring_table

HOUR = 3600.0


def table(name: str) -> ExpiringTable:
    app = faust.App(f"test-tables-{name}", broker="kafka://127.0.0.1:1", store="memory://")
    table = expiring_table(app, name, key_type=str, default=dict)
    table.tumbling(timedelta(hours=1), expires=timedelta(days=14))
    return table


def key(name: str, start: float) -> tuple[str, tuple[float, float]]:
    return (name, (start, start + HOUR - 0.1))


def test_a_window_written_many_times_is_queued_once_per_partition() -> None:
    t = table("once")
    for i in range(5000):  # every batch rewrites its counters: 5,000 writes, 3 keys, 2 windows
        t._maybe_set_key_ttl(key(f"k{i % 3}", HOUR * (i % 2)), partition=0)
    t._maybe_set_key_ttl(key("k0", 0.0), partition=1)
    assert sorted(t._partition_timestamps[0]) == [HOUR - 0.1, 2 * HOUR - 0.1]
    assert t._partition_timestamps[1] == [HOUR - 0.1]
    assert t._partition_timestamp_keys[(0, HOUR - 0.1)] == {key(f"k{i}", 0.0) for i in range(3)}


def test_expiry_still_drops_every_key_of_an_expired_window_and_requeues_a_rewritten_one() -> None:
    t = table("expiry")
    data: dict[Any, Any] = t.data  # type: ignore[assignment]
    for name in ("a", "b"):
        for _ in range(10):
            data[key(name, 0.0)] = {"n": 1}  # 1970: long expired
            t._maybe_set_key_ttl(key(name, 0.0), partition=0)
    asyncio.run(t._del_old_keys())
    assert key("a", 0.0) not in data and key("b", 0.0) not in data
    assert t._partition_timestamps[0] == [] and (0, HOUR - 0.1) not in t._partition_timestamp_keys
    t._maybe_set_key_ttl(key("a", 0.0), partition=0)  # a late write re-opens the window: queued again
    assert t._partition_timestamps[0] == [HOUR - 0.1]
