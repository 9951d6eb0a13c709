"""A faust table whose window expiry costs memory per window, not per write.

faust's ``Table`` remembers when each window ends so that it can drop the window once expired: on
every write to a windowed key it pushes the window's end onto a per-partition heap, and the heap is
only emptied when the window expires. Analytics writes each of its counters once per batch, so for
the 14 days an hour window lives (60 for a day) the heap held one entry per write, and an
always-on analytics worker grew with every batch. One entry per window and partition carries the
same information: expiry pops a window's end once and drops every key filed under it.
"""

from __future__ import annotations

from heapq import heappush
from typing import Any

import faust


class ExpiringTable(faust.Table[Any, Any]):
    def _maybe_set_key_ttl(self, key: Any, partition: int) -> None:
        if not self._should_expire_keys():
            return
        _, (_, range_end) = key
        filed = self._partition_timestamp_keys
        if (partition, range_end) not in filed:  # first key of this window here: its end is not queued yet
            heappush(self._partition_timestamps[partition], range_end)
        self._partition_latest_timestamp[partition] = max(self._partition_latest_timestamp[partition], range_end)
        filed[(partition, range_end)].add(key)


def expiring_table(app: faust.App, name: str, **kwargs: Any) -> ExpiringTable:
    """``app.Table(name, **kwargs)`` as an ``ExpiringTable``; window it with ``.tumbling(...)``."""
    table = ExpiringTable(app, name=name, beacon=app.tables.beacon, **kwargs)
    app.tables.add(table)
    return table
