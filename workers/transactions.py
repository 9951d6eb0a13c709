"""Exactly-once output of the comment worker: one Kafka transaction per input partition and batch.

Why not faust's own ``processing_guarantee="exactly_once"``: faust picks the transactional producer
from the partition of the *output* key (``TransactionManager.send``) but commits the *input*
offsets by the input partition. That is only atomic when every output topic has the input's
partition count and key; ``audit.log`` has one partition and dead letters may have no key, so
outputs of one input partition would be committed by another partition's transaction, and a crash
between the two commits loses them. Here the outputs of a batch from input partition *p* and the
consumer offset of *p* go into one transaction of a producer whose ``transactional.id`` is bound to
*p*; a worker that crashes leaves an open transaction that the next owner of *p* fences and aborts
when it starts its producer for *p* (KIP-98 zombie fencing: aiokafka's
``send_offsets_to_transaction`` carries the group id only, so fencing must come from the id).

Readers of the outputs use ``isolation_level=read_committed`` and then see every comment exactly
once, whatever crashed when.

Errors::

    any error in a transaction   retried here: drop the producer (aborting), back off, redo the batch;
                                 after a failed commit, the group's offset says whether it landed
    ProducerFenced               becomes PartitionRevoked: another worker owns the partition now and
                                 redoes the batch; nothing of it is visible
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import InvalidProducerEpoch, ProducerFenced
from kafka import KafkaConsumer
from kafka import TopicPartition as KafkaTopicPartition
from kafka.errors import KafkaError as KafkaPythonError
from kafka.errors import UnstableOffsetCommitError

from runtime.settings import kafka_auth

log = structlog.get_logger("civicwatch.transactions")

MAX_BACKOFF = 10.0
STOP_TIMEOUT = 10.0


class PartitionRevoked(RuntimeError):
    """The input partition is no longer ours; its new owner processes the batch again."""


@dataclass(frozen=True, slots=True)
class Output:
    """One record to produce inside a batch's transaction."""

    topic: str
    key: bytes | None
    value: bytes


class PartitionTransactions:
    """A transactional producer per owned input partition; ``commit`` is all-or-nothing per batch."""

    def __init__(
        self,
        bootstrap: str,
        group_id: str,
        owned: Callable[[], set[TopicPartition]],
        *,
        compression: str | None = None,
        transaction_timeout_ms: int = 60_000,
    ) -> None:
        self.bootstrap = bootstrap
        self.group_id = group_id
        self.owned = owned
        self.compression = compression
        self.transaction_timeout_ms = transaction_timeout_ms
        self._producers: dict[TopicPartition, AIOKafkaProducer] = {}
        self._locks: dict[TopicPartition, asyncio.Lock] = {}
        self._fenced: set[TopicPartition] = set()

    def transactional_id(self, tp: TopicPartition) -> str:
        return f"{self.group_id}-{tp.topic}-{tp.partition}"

    async def _producer(self, tp: TopicPartition) -> AIOKafkaProducer:
        producer = self._producers.get(tp)
        if producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap,
                transactional_id=self.transactional_id(tp),
                transaction_timeout_ms=self.transaction_timeout_ms,
                enable_idempotence=True,
                acks="all",
                compression_type=self.compression,
                linger_ms=5,
                max_batch_size=1_048_576,
                client_id=f"civicwatch-{tp.topic}-{tp.partition}",
                **kafka_auth(),
            )
            try:
                await producer.start()  # InitProducerId: fences and aborts a dead owner's transaction
            except BaseException:
                await producer.stop()
                raise
            self._producers[tp] = producer
        return producer

    async def _discard(self, tp: TopicPartition) -> None:
        producer = self._producers.pop(tp, None)
        if producer is not None:
            try:
                # stop() flushes first, which waits forever while the broker is away; unflushed
                # records belong to a transaction that the next producer for ``tp`` aborts.
                await asyncio.wait_for(producer.stop(), STOP_TIMEOUT)
            except (Exception, TimeoutError) as exc:  # a broken producer may fail to stop; it is gone either way
                log.warning("transactional_producer_stop_failed", partition=tp.partition, error=type(exc).__name__)

    async def close(self) -> None:
        for tp in list(self._producers):
            await self._discard(tp)

    def _lock(self, tp: TopicPartition) -> asyncio.Lock:
        return self._locks.setdefault(tp, asyncio.Lock())

    async def _committed(self, tp: TopicPartition) -> int | None:
        return (await self.committed({tp})).get(tp)

    async def committed(self, tps: set[TopicPartition]) -> dict[TopicPartition, int]:
        """The group's committed offsets of ``tps`` (those that have one), once no transaction is
        pending on them; empty if the cluster cannot say."""
        return await asyncio.to_thread(stable_committed, self.bootstrap, self.group_id, tps)

    async def prepare(self, tps: set[TopicPartition]) -> None:
        """Start a fresh producer for each assigned partition, before anything is read from it.

        Its InitProducerId fences the previous owner and aborts its open transaction (or lets a
        commit already in progress finish), so the committed offsets read next are final. Called
        on every assignment, for partitions kept too: a partition may have moved away and back.
        """
        for tp in sorted(tps):
            async with self._lock(tp):
                self._fenced.discard(tp)
                await self._discard(tp)
                try:
                    await self._producer(tp)
                except Exception as exc:  # the first batch retries; fencing then happens there
                    log.warning("transactional_producer_start_failed", partition=tp.partition, error=type(exc).__name__)

    async def commit(self, tp: TopicPartition, outputs: Sequence[Output], next_offset: int) -> int:
        """Produce ``outputs`` and move the group's offset of ``tp`` to ``next_offset``, atomically.

        Retries until done; returns the number of attempts. Raises ``PartitionRevoked`` when ``tp``
        is no longer this worker's: nothing of the batch is then visible, and whoever owns ``tp``
        next reads it again from the committed offset.
        """
        attempt = 0
        while True:
            attempt += 1
            async with self._lock(tp):
                if tp in self._fenced:
                    raise PartitionRevoked(f"{tp.topic}[{tp.partition}]: fenced by its new owner")
                if tp not in self._producers and tp not in self.owned():
                    # Starting a producer would fence the partition's real owner.
                    raise PartitionRevoked(f"{tp.topic}[{tp.partition}]: no longer assigned here")
                producer: AIOKafkaProducer | None = None
                try:
                    producer = await self._producer(tp)
                    await producer.begin_transaction()
                    futures = [await producer.send(o.topic, o.value, key=o.key) for o in outputs]
                    await producer.send_offsets_to_transaction({tp: next_offset}, self.group_id)
                except Exception as exc:
                    # Nothing was committed: abort (by discarding the producer) and redo the batch.
                    await self._failed(tp, attempt, "send", exc)
                    continue
                try:
                    await producer.commit_transaction()
                    await asyncio.gather(*futures)
                    return attempt
                except Exception as exc:
                    await self._failed(tp, attempt, "commit", exc)
                    # The commit may have reached the coordinator before the error: the group's
                    # offset, committed in the same transaction, says whether it did.
                    committed = await self._committed(tp)
                    if committed is not None and committed >= next_offset:
                        log.warning("transaction_commit_confirmed", partition=tp.partition, attempt=attempt)
                        return attempt
            await asyncio.sleep(min(MAX_BACKOFF, 0.1 * 2 ** min(attempt, 7)))

    async def _failed(self, tp: TopicPartition, attempt: int, phase: str, exc: BaseException) -> None:
        """Drop the failed producer; a fenced one means another worker owns ``tp`` now."""
        log.warning(
            "transaction_retried", partition=tp.partition, phase=phase, attempt=attempt, error=type(exc).__name__
        )
        await self._discard(tp)
        if isinstance(exc, ProducerFenced | InvalidProducerEpoch):
            # Until the next assignment: starting a new producer would fence the new owner back.
            self._fenced.add(tp)
            raise PartitionRevoked(f"{tp.topic}[{tp.partition}] was taken over by another worker") from exc


def stable_committed(
    bootstrap: str, group_id: str, tps: set[TopicPartition], timeout: float = 60.0
) -> dict[TopicPartition, int]:
    """Committed offsets read with ``require_stable`` (KIP-447), waiting out pending transactions.

    A plain offset fetch right after fencing may still return the offset from before the previous
    owner's last transaction, whose commit the coordinator is still applying. kafka-python asks for
    stable offsets when it reads ``read_committed``; the broker answers ``UNSTABLE_OFFSET_COMMIT``
    until the pending commit is applied, and we ask again.
    """
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group_id,
        isolation_level="read_committed",
        enable_auto_commit=False,
        client_id="civicwatch-offsets",
        **kafka_auth(),
    )
    deadline = time.monotonic() + timeout
    found: dict[TopicPartition, int] = {}
    try:
        for tp in sorted(tps):
            while True:
                try:
                    offset = consumer.committed(KafkaTopicPartition(tp.topic, tp.partition), timeout_ms=10_000)
                    break
                except UnstableOffsetCommitError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            if offset is not None:
                found[tp] = offset
    except KafkaPythonError as exc:
        log.warning("committed_offsets_unavailable", error=type(exc).__name__)
        return {}
    finally:
        consumer.close()
    return found
