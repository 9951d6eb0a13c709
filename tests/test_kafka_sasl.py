"""The broker refuses clients without credentials: a real broker with a SASL (SCRAM-SHA-512)
listener, started by ``deploy/local/kafka.sh`` as the test harness starts the usual one.

It runs on loopback, so SASL_PLAINTEXT; Compose and Kubernetes use SASL_SSL with the same users.
Its ports are the test broker's plus 4 to 6 (``CIVICWATCH_TEST_KAFKA_PORT``), its data in a
temporary folder, so it never meets the shared test broker.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError

from civicwatch import kafka_local
from runtime.settings import Settings
from workers.app import broker_credentials

pytestmark = pytest.mark.integration

USERS = {"civicwatch-review": "review-broker-password-1", "civicwatch-connector": "connector-broker-password"}


@pytest.fixture(scope="module")
def sasl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The SASL listener's address; the broker is stopped at the end."""
    base = int(os.environ.get("CIVICWATCH_TEST_KAFKA_PORT", "19192"))
    env = {
        "CIVICWATCH_KAFKA_PORT": str(base + 5),
        "CIVICWATCH_KAFKA_CONTROLLER_PORT": str(base + 6),
        "CIVICWATCH_KAFKA_SASL_PORT": str(base + 4),
        "CIVICWATCH_KAFKA_DIR": str(tmp_path_factory.mktemp("kafka-sasl")),
        "CIVICWATCH_KAFKA_SCRAM_USERS": ",".join(f"{u}={p}" for u, p in USERS.items()),
        "CIVICWATCH_KAFKA_HEAP": "-Xms128m -Xmx384m",
    }
    kafka_local.up(timeout=120, env={**env, "KAFKA_BOOTSTRAP_SERVERS": ""})
    try:
        yield f"127.0.0.1:{base + 4}"
    finally:
        kafka_local.down({**env, "KAFKA_BOOTSTRAP_SERVERS": ""})


def auth(user: str | None, password: str | None = None, protocol: str = "SASL_PLAINTEXT") -> dict[str, Any]:
    """A client's security keywords, made by the settings every process reads."""
    if user is None:
        return {}
    return Settings(
        kafka_security_protocol=protocol,
        kafka_sasl_username=user,
        kafka_sasl_password=password if password is not None else USERS[user],
    ).kafka_auth()


@pytest.mark.parametrize(
    "credentials",
    [None, ("civicwatch-review", "not-the-password"), ("nobody-at-all", "review-broker-password-1")],
    ids=["no credentials", "wrong password", "unknown user"],
)
def test_a_client_without_valid_credentials_is_refused(sasl_broker: str, credentials: tuple[str, str] | None) -> None:
    config = auth(*credentials) if credentials else {}
    with pytest.raises(KafkaError):
        admin = KafkaAdminClient(
            bootstrap_servers=sasl_broker, request_timeout_ms=5000, api_version_auto_timeout_ms=5000, **config
        )
        try:
            admin.list_topics()
        finally:
            admin.close()


def test_clients_with_credentials_produce_and_consume(sasl_broker: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=sasl_broker, **auth("civicwatch-review"))
    try:
        admin.create_topics([NewTopic("sasl.check", 1, 1)])
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=sasl_broker, **auth("civicwatch-connector"))
    producer.send("sasl.check", b"from kafka-python").get(timeout=30)
    producer.close()

    async def with_aiokafka() -> list[bytes]:
        out = AIOKafkaProducer(bootstrap_servers=sasl_broker, **auth("civicwatch-review"))
        await out.start()
        try:
            await out.send_and_wait("sasl.check", b"from aiokafka")
        finally:
            await out.stop()
        reader = AIOKafkaConsumer(
            "sasl.check", bootstrap_servers=sasl_broker, auto_offset_reset="earliest", **auth("civicwatch-review")
        )
        await reader.start()
        try:
            batches = await reader.getmany(timeout_ms=10_000, max_records=10)
            return [m.value for ms in batches.values() for m in ms if m.value is not None]
        finally:
            await reader.stop()

    assert asyncio.run(with_aiokafka()) == [b"from kafka-python", b"from aiokafka"]
    consumer = KafkaConsumer(
        "sasl.check",
        bootstrap_servers=sasl_broker,
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
        **auth("civicwatch-connector"),
    )
    assert [m.value for m in consumer] == [b"from kafka-python", b"from aiokafka"]
    consumer.close()


def test_the_faust_worker_logs_in_with_the_same_settings(tmp_path: Path) -> None:
    settings = Settings(
        kafka_security_protocol="SASL_SSL", kafka_sasl_username="civicwatch-worker", kafka_sasl_password="w" * 20
    )
    credentials = broker_credentials(settings)
    assert credentials is not None
    assert (credentials.username, credentials.mechanism.value, credentials.protocol.value) == (
        "civicwatch-worker",
        "SCRAM-SHA-512",
        "SASL_SSL",
    )
    assert credentials.ssl_context is not None and credentials.ssl_context.check_hostname
    assert broker_credentials(Settings()) is None, "PLAINTEXT for the local development broker"
