"""Prometheus counters for connectors and the action executor.

Labels are the connector's name, a topic or an outcome: never an author, a comment id or any text
(clause 6.1). ``serve(port)`` exposes them on ``/metrics`` when ``CIVICWATCH_METRICS_PORT`` is set.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, start_http_server

FETCHED = Counter("civicwatch_connector_fetched", "Items returned by a platform API", ["connector"])
PRODUCED = Counter("civicwatch_connector_produced", "Events committed to Kafka", ["connector", "topic"])
RETRIED = Counter("civicwatch_connector_retried", "Polls or calls deferred or retried", ["connector", "reason"])
DEAD_LETTERED = Counter("civicwatch_connector_dead_lettered", "Unmappable payloads dead-lettered", ["connector"])
RESOURCES = Counter(
    "civicwatch_connector_resources_read",
    "Resources a platform returned and billed (X: posts, users)",
    ["connector", "resource"],
)
SPEND = Gauge("civicwatch_connector_spend_usd", "Estimated spend on reads today (UTC), in US dollars", ["connector"])
BUDGET = Gauge("civicwatch_connector_budget_usd", "Daily read budget, in US dollars", ["connector"])
REFUSED = Counter(
    "civicwatch_connector_scope_refused",
    "Requests a platform refused (permission, spending limit)",
    ["connector", "reason"],
)
ACTIONS = Counter("civicwatch_actions", "Moderation actions carried out", ["platform", "action", "outcome"])
FORWARDS = Counter("civicwatch_forwards", "Clause 5.5 forwards e-mailed (ok) or dead-lettered (failed)", ["outcome"])


def serve(port: int | None) -> None:
    """Start the ``/metrics`` endpoint on 127.0.0.1 (nothing when ``port`` is falsy)."""
    if port:
        start_http_server(port, addr="127.0.0.1")
