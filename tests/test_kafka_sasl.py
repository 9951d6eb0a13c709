"""The broker refuses clients without credentials: a real broker with SASL (SCRAM-SHA-512)
listeners, started by ``deploy/local/kafka.sh`` as the test harness starts the usual one.

One listener is SASL_SSL, as Compose and Kubernetes run it, with a certificate for 127.0.0.1
signed by a CA made here (so clients verify the certificate and the host name); one is
SASL_PLAINTEXT. Its ports are the test broker's plus 4 to 7 (``CIVICWATCH_TEST_KAFKA_PORT``), its
data in a temporary folder, so it never meets the shared test broker.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError

from civicwatch import kafka_local
from runtime.admin import ensure_topics
from runtime.settings import Settings
from runtime.sink import KafkaSink
from schemas import TaggedComment, decode
from schemas.topics import COMMENTS_RAW, COMMENTS_TAGGED
from tests import factories
from tests.conftest import WorkerProcess, consume_all
from workers.app import broker_credentials

pytestmark = pytest.mark.integration

KEYSTORE_PASSWORD = "keystore-password-for-tests"
USERS = {
    "civicwatch-review": "review-broker-password-1",
    "civicwatch-connector": "connector-broker-password",
    "civicwatch-worker": "worker-broker-password-12",
}
"""Broker users of these tests (the local broker authenticates; the ACLs are Compose's and the cluster's)."""


def certificates(folder: Path) -> tuple[Path, Path]:
    """A CA and, signed by it, the broker's key and certificate for 127.0.0.1 in a PKCS12 keystore."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
        "-keyout", "ca.key", "-out", "ca.crt",
    )  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "broker.key", "-out", "b.csr")
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl(
        "x509", "-req", "-in", "b.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
        "-extfile", "san.ext", "-out", "broker.crt",
    )  # fmt: skip
    openssl(
        "pkcs12", "-export", "-in", "broker.crt", "-inkey", "broker.key", "-certfile", "ca.crt",
        "-out", "broker.p12", "-passout", f"pass:{KEYSTORE_PASSWORD}",
    )  # fmt: skip
    return folder / "broker.p12", folder / "ca.crt"


@pytest.fixture(scope="module")
def sasl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """The SASL_PLAINTEXT and SASL_SSL addresses and the CA; the broker is stopped at the end."""
    base = int(os.environ.get("CIVICWATCH_TEST_KAFKA_PORT", "19192"))
    keystore, ca = certificates(tmp_path_factory.mktemp("tls"))
    env = {
        "CIVICWATCH_KAFKA_PORT": str(base + 5),
        "CIVICWATCH_KAFKA_CONTROLLER_PORT": str(base + 6),
        "CIVICWATCH_KAFKA_SASL_PORT": str(base + 4),
        "CIVICWATCH_KAFKA_SASL_SSL_PORT": str(base + 7),
        "CIVICWATCH_KAFKA_SSL_KEYSTORE": str(keystore),
        "CIVICWATCH_KAFKA_SSL_KEYSTORE_PASSWORD": KEYSTORE_PASSWORD,
        "CIVICWATCH_KAFKA_DIR": str(tmp_path_factory.mktemp("kafka-sasl")),
        "CIVICWATCH_KAFKA_SCRAM_USERS": ",".join(f"{u}={p}" for u, p in USERS.items()),
        "CIVICWATCH_KAFKA_HEAP": "-Xms128m -Xmx384m",
    }
    kafka_local.up(timeout=120, env={**env, "KAFKA_BOOTSTRAP_SERVERS": ""})
    try:
        yield f"127.0.0.1:{base + 4}", f"127.0.0.1:{base + 7}", ca
    finally:
        kafka_local.down({**env, "KAFKA_BOOTSTRAP_SERVERS": ""})


def auth(user: str | None, password: str | None = None, ca: Path | None = None) -> dict[str, Any]:
    """A client's security keywords, made by the settings every process reads (SASL_SSL when
    given the CA to verify the broker with)."""
    if user is None:
        return {}
    return Settings(
        kafka_security_protocol="SASL_SSL" if ca is not None else "SASL_PLAINTEXT",
        kafka_sasl_username=user,
        kafka_sasl_password=password if password is not None else USERS[user],
        kafka_ssl_cafile=ca,
    ).kafka_auth()


@pytest.fixture(params=["SASL_SSL", "SASL_PLAINTEXT"])
def listener(request: pytest.FixtureRequest, sasl_broker: tuple[str, str, Path]) -> tuple[str, Path | None]:
    """One listener's address, and the CA that signed its certificate when it is TLS."""
    plain, tls, ca = sasl_broker
    return (tls, ca) if request.param == "SASL_SSL" else (plain, None)


@pytest.mark.parametrize(
    "credentials",
    [None, ("civicwatch-review", "not-the-password"), ("nobody-at-all", "review-broker-password-1")],
    ids=["no credentials", "wrong password", "unknown user"],
)
def test_a_client_without_valid_credentials_is_refused(
    listener: tuple[str, Path | None], credentials: tuple[str, str] | None
) -> None:
    address, ca = listener
    if credentials is not None:
        config = auth(*credentials, ca=ca)
    elif ca is not None:  # TLS, but no log-in
        config = {"security_protocol": "SSL", "ssl_context": Settings(kafka_ssl_cafile=ca).kafka_ssl_context()}
    else:
        config = {}
    with pytest.raises(KafkaError):
        admin = KafkaAdminClient(
            bootstrap_servers=address, request_timeout_ms=5000, api_version_auto_timeout_ms=5000, **config
        )
        try:
            admin.list_topics()
        finally:
            admin.close()


def test_clients_with_credentials_produce_and_consume(listener: tuple[str, Path | None]) -> None:
    address, ca = listener
    topic = f"sasl.check.{'tls' if ca else 'plain'}"
    admin = KafkaAdminClient(bootstrap_servers=address, **auth("civicwatch-review", ca=ca))
    try:
        admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=address, **auth("civicwatch-connector", ca=ca))
    producer.send(topic, b"from kafka-python").get(timeout=30)
    producer.close()

    async def with_aiokafka() -> list[bytes]:
        out = AIOKafkaProducer(bootstrap_servers=address, **auth("civicwatch-review", ca=ca))
        await out.start()
        try:
            await out.send_and_wait(topic, b"from aiokafka")
        finally:
            await out.stop()
        reader = AIOKafkaConsumer(
            topic, bootstrap_servers=address, auto_offset_reset="earliest", **auth("civicwatch-review", ca=ca)
        )
        await reader.start()
        try:
            batches = await reader.getmany(timeout_ms=10_000, max_records=10)
            return [m.value for ms in batches.values() for m in ms if m.value is not None]
        finally:
            await reader.stop()

    assert asyncio.run(with_aiokafka()) == [b"from kafka-python", b"from aiokafka"]
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=address,
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
        **auth("civicwatch-connector", ca=ca),
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


def test_the_worker_classifies_over_sasl_ssl(
    sasl_broker: tuple[str, str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The faust worker, the topic admin and a connector's sink, each logged in as its own user
    over TLS, from the environment as deployed."""
    _, address, ca = sasl_broker
    common = {"CIVICWATCH_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "CIVICWATCH_KAFKA_SSL_CAFILE": str(ca)}
    for name, value in {
        **common,
        "CIVICWATCH_KAFKA_SASL_USERNAME": "civicwatch-review",
        "CIVICWATCH_KAFKA_SASL_PASSWORD": USERS["civicwatch-review"],
    }.items():
        monkeypatch.setenv(name, value)
    prefix = "w."
    ensure_topics(address, prefix, default_partitions=4)
    worker = WorkerProcess(address, prefix, "sasl-worker", tmp_path / "worker.log")
    worker.env.update(
        {
            **common,
            "CIVICWATCH_KAFKA_SASL_USERNAME": "civicwatch-worker",
            "CIVICWATCH_KAFKA_SASL_PASSWORD": USERS["civicwatch-worker"],
        }
    )
    worker.start()
    try:
        sink = KafkaSink(address, prefix)
        sink.send(COMMENTS_RAW, factories.comment("sasl-1", "The rink opens on Saturday"))
        sink.flush()
        sink.close()
        tagged = consume_all(
            address, COMMENTS_TAGGED.full_name(prefix), 1, timeout=120, **auth("civicwatch-review", ca=ca)
        )
        assert [decode(m.value, TaggedComment).comment.comment_id for m in tagged] == ["sasl-1"]
    finally:
        worker.stop()
    assert "Traceback" not in worker.log(), worker.log()[-3000:]
