"""The deployment files agree with the code: valid Kubernetes objects, the same settings, topics and broker.

Kubernetes manifests are validated with ``kubernetes-validate`` (schemas bundled in the package, so
this runs offline). Docker cannot run here, so the Compose file is checked for what can go wrong
without it: settings the code does not read, a broker configured unlike ``deploy/local/kafka.sh``,
a Kafka version unlike the one the tests run against.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from runtime.settings import AGENTS, Settings, parse_agents, variables
from schemas.topics import ALL_TOPICS

REPO = Path(__file__).resolve().parents[1]
K8S = REPO / "deploy" / "kubernetes"
COMPOSE = REPO / "deploy" / "docker-compose.yml"
KUBERNETES_VERSION = "1.30.0"

SETTING_NAMES = variables()


def k8s_documents() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                docs.append((path.name, doc))
    return docs


def pod_specs() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(object name, object, pod spec) of every workload."""
    found = []
    for _, doc in k8s_documents():
        spec = doc.get("spec", {})
        template = spec.get("template") or spec.get("jobTemplate", {}).get("spec", {}).get("template")
        if template:
            found.append((doc["metadata"]["name"], doc, template["spec"]))
    return found


@pytest.mark.parametrize(("name", "doc"), k8s_documents(), ids=[f"{n}:{d['kind']}" for n, d in k8s_documents()])
def test_manifest_is_a_valid_kubernetes_object(name: str, doc: dict[str, Any]) -> None:
    if doc.get("kind") == "Kustomization":
        for resource in doc["resources"]:
            assert (K8S / resource).is_file(), f"{resource} listed in kustomization.yaml does not exist"
        return
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_validator_rejects_a_broken_manifest() -> None:
    """The validator really checks: a typo in a field and a wrong type are both caught."""
    _, worker, _ = next(p for p in pod_specs() if p[0] == "civicwatch-worker")
    broken = yaml.safe_load(yaml.safe_dump(worker))
    broken["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    broken = yaml.safe_load(yaml.safe_dump(worker))
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_every_kustomized_file_is_applied_except_the_secret_example() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert present - listed == {"secret.example.yaml"}


def test_workloads_reference_what_exists() -> None:
    configmap = next(d for _, d in k8s_documents() if d["kind"] == "ConfigMap")
    secret = next(d for _, d in k8s_documents() if d["kind"] == "Secret")
    services = [d for _, d in k8s_documents() if d["kind"] == "Service"]
    for name, doc, pod in pod_specs():
        labels = doc["spec"]["template"]["metadata"]["labels"]
        if "selector" in doc["spec"]:
            assert doc["spec"]["selector"]["matchLabels"].items() <= labels.items(), name
        for container in pod["containers"]:
            assert container["image"] == "civicwatch", f"{name}: one image, set in kustomization.yaml"
            refs = container.get("envFrom", [])
            assert {"configMapRef": {"name": configmap["metadata"]["name"]}} in refs, name
            for ref in refs:
                if "secretRef" in ref:
                    assert ref["secretRef"]["name"] == secret["metadata"]["name"], name
            ports = {p["name"] for p in container.get("ports", [])}
            for probe in ("readinessProbe", "livenessProbe"):
                for kind in ("httpGet", "tcpSocket"):
                    port = container.get(probe, {}).get(kind, {}).get("port")
                    if port is not None:
                        assert port in ports, f"{name}: {probe} on undeclared port {port}"
    for service in services:
        selector = service["spec"]["selector"]
        targets = [
            doc
            for _, doc, _ in pod_specs()
            if selector.items() <= doc["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(targets) == 1, f"service {service['metadata']['name']} selects {len(targets)} workloads"
        pod = targets[0]["spec"]["template"]["spec"]
        ports = {p["name"] for c in pod["containers"] for p in c.get("ports", [])}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports


def test_worker_settings_are_real_and_scaling_is_bounded_by_partitions() -> None:
    configmap = next(d for _, d in k8s_documents() if d["kind"] == "ConfigMap")
    for key in configmap["data"]:
        assert key in SETTING_NAMES or key == "CIVICWATCH_LOG_FORMAT", f"{key} is not a setting"
    _, worker, pod = next(p for p in pod_specs() if p[0] == "civicwatch-worker")
    for env in pod["containers"][0]["env"]:
        assert env["name"] in SETTING_NAMES, f"{env['name']} is not a setting"
    hpa = next(d for _, d in k8s_documents() if d["kind"] == "HorizontalPodAutoscaler")
    partitions = int(configmap["data"]["CIVICWATCH_PARTITIONS"])
    assert worker["spec"]["replicas"] <= hpa["spec"]["maxReplicas"] <= partitions
    assert hpa["spec"]["minReplicas"] >= 2, "one worker may die without stopping the flow"
    assert Settings.from_env().web_port == 6066 and "6066" in pod["containers"][0]["args"]


BROKER_SERVICES = {"kafka", "kafka-setup"}
"""Compose services of the broker itself (the Kafka image), not of civicwatch."""
ROLE_OF_SERVICE = {
    "topics": "admin",
    "worker": "worker",
    "analytics": "analytics",
    "review": "review",
    "replay": "connector",
    "connect-x": "connector",
    "connect-facebook": "connector",
    "connect-actions": "actions",
    "connect-forward": "actions",
}


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def local_broker_properties(brokers: int = 1) -> dict[str, str]:
    """The properties ``kafka.sh`` writes for one node, its shell variables resolved as they are for
    a single broker (``brokers=1``) or a cluster."""
    script = (REPO / "deploy" / "local" / "kafka.sh").read_text(encoding="utf-8")
    block = script.split('cat > "$NDIR/server.properties" <<PROPS', 1)[1].split("PROPS", 1)[0]
    replication = min(brokers, 3)
    values = {"$replication": str(replication), "$min_isr": "2" if replication > 1 else "1"}
    props = dict(line.split("=", 1) for line in block.strip().splitlines() if "=" in line)
    return {k: values.get(v, v) for k, v in props.items()}


def test_local_cluster_has_the_durability_settings_the_kubernetes_readme_states() -> None:
    props = local_broker_properties(brokers=3)
    assert props["unclean.leader.election.enable"] == "false"
    for prop, value in (
        ("default.replication.factor", "3"),
        ("offsets.topic.replication.factor", "3"),
        ("transaction.state.log.replication.factor", "3"),
        ("transaction.state.log.min.isr", "2"),
        ("min.insync.replicas", "2"),
    ):
        assert props[prop] == value, prop
        readme = (REPO / "deploy" / "kubernetes" / "README.md").read_text(encoding="utf-8")
        assert f"`{prop}`" in readme, f"deploy/kubernetes/README.md does not state {prop}"


def test_compose_broker_matches_the_local_broker() -> None:
    env = compose()["services"]["kafka"]["environment"]
    local = local_broker_properties()
    for prop in (
        "process.roles",
        "num.partitions",
        "auto.create.topics.enable",
        "offsets.topic.replication.factor",
        "offsets.topic.num.partitions",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "min.insync.replicas",
        "group.initial.rebalance.delay.ms",
    ):
        key = "KAFKA_" + prop.upper().replace(".", "_")
        assert str(env[key]) == local[prop], f"{key}={env[key]} but kafka.sh has {prop}={local[prop]}"
    pom = (REPO / "deploy" / "local" / "pom.xml").read_text(encoding="utf-8")
    version = re.search(r"<kafka.version>(.+?)</kafka.version>", pom)
    assert version is not None
    assert compose()["services"]["kafka"]["image"] == f"apache/kafka:{version.group(1)}"


def test_compose_services_use_real_settings_and_the_topic_set_up() -> None:
    doc = compose()
    services = doc["services"]
    topics = services["topics"]
    assert topics["command"] == ["topics", "create"], "topics come from schemas/topics.py, like the local set-up"
    assert services["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    for name, service in services.items():
        if name in BROKER_SERVICES:
            continue
        assert service["image"] == "civicwatch:local" and service["build"]["dockerfile"] == "Dockerfile", name
        assert (REPO / service["build"]["dockerfile"]).is_file()
        assert service["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092", name
        if name != "topics":
            assert service["depends_on"] == {"topics": {"condition": "service_completed_successfully"}}, name
        own = ("CIVICWATCH_REVIEW_",) if name == "review" else ()
        for key in service["environment"]:
            if key.startswith(own) or key == "CIVICWATCH_LOG_FORMAT":
                continue
            assert key in SETTING_NAMES, f"{name}: {key} is not a setting in runtime/settings.py"
    assert len(ALL_TOPICS) >= 11


def test_dockerfile_installs_every_package() -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    packages = re.search(r"include = \[(.+?)\]", pyproject)
    assert packages is not None
    for package in re.findall(r'"(\w+)\*"', packages.group(1)):
        assert f"COPY {package} ./{package}" in dockerfile, f"the image lacks the {package} package"
    assert 'ENTRYPOINT ["civicwatch"]' in dockerfile


def _agents_of(args: list[str]) -> tuple[str, ...]:
    assert args[0] == "worker", args
    return parse_agents(args[args.index("--agents") + 1]) if "--agents" in args else AGENTS


def test_every_agent_runs_in_exactly_one_kubernetes_workload_and_analytics_apart() -> None:
    """Classification and analytics are separate workloads; none runs an agent twice (analytics
    would count every comment twice) and none is missing."""
    runs: dict[str, tuple[str, ...]] = {}
    app_ids = {}
    for name, _, pod in pod_specs():
        container = pod["containers"][0]
        if container["args"][0] == "worker":
            runs[name] = _agents_of(container["args"])
            app_ids[name] = {e["name"]: e.get("value") for e in container.get("env", [])}.get("CIVICWATCH_APP_ID")
    assert runs == {"civicwatch-worker": ("comments", "decisions", "posts"), "civicwatch-analytics": ("analytics",)}
    assert sorted(a for agents in runs.values() for a in agents) == sorted(AGENTS)
    assert app_ids["civicwatch-worker"] == app_ids["civicwatch-analytics"] == "civicwatch"
    assert Settings(app_id="civicwatch", agents=runs["civicwatch-analytics"]).faust_app_id == "civicwatch-analytics"
    configmap = next(d for _, d in k8s_documents() if d["kind"] == "ConfigMap")
    _, analytics, _ = next(p for p in pod_specs() if p[0] == "civicwatch-analytics")
    assert 1 <= analytics["spec"]["replicas"] <= int(configmap["data"]["CIVICWATCH_PARTITIONS"])
    assert not any(
        d["kind"] == "HorizontalPodAutoscaler" and d["spec"]["scaleTargetRef"]["name"] == "civicwatch-analytics"
        for _, d in k8s_documents()
    ), "analytics is scaled by hand, on its lag"


def test_every_agent_runs_in_exactly_one_compose_service() -> None:
    services = compose()["services"]
    runs = {
        name: _agents_of(service["command"])
        for name, service in services.items()
        if service.get("command", [None])[0] == "worker"
    }
    assert runs == {"worker": ("comments", "decisions", "posts"), "analytics": ("analytics",)}
    for name in runs:
        assert services[name]["depends_on"] == {"topics": {"condition": "service_completed_successfully"}}
        assert "CIVICWATCH_APP_ID" not in services[name]["environment"], "both derive from the default app id"


# ---- the broker trusts no one (issue 13) ----


def acl_script() -> str:
    return (REPO / "deploy" / "kafka-acls.sh").read_text(encoding="utf-8")


def writers_of(topic: str) -> set[str]:
    """Users the ACL script lets write ``topic``."""
    users = set()
    for line in acl_script().splitlines():
        words = line.split()
        if words[:1] == ["writes"] and topic in words[2:]:
            users.add(words[1])
    return users


def test_compose_broker_takes_only_scram_over_tls_with_acls() -> None:
    kafka = compose()["services"]["kafka"]["environment"]
    listeners = kafka["KAFKA_LISTENERS"].split(",")
    reachable = [lst for lst in listeners if not lst.startswith(("CONTROLLER:", "LOCAL://127.0.0.1:"))]
    assert reachable == ["SASL_SSL://:9092"], "clients reach the broker only through SASL_SSL"
    assert "PLAINTEXT" not in kafka["KAFKA_ADVERTISED_LISTENERS"].replace("LOCAL://127.0.0.1", "")
    assert kafka["KAFKA_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    assert kafka["KAFKA_AUTHORIZER_CLASS_NAME"].endswith("StandardAuthorizer")
    assert kafka["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"


def test_every_compose_client_logs_in_as_its_own_role() -> None:
    services = compose()["services"]
    assert set(services) - BROKER_SERVICES == set(ROLE_OF_SERVICE)
    for name, role in ROLE_OF_SERVICE.items():
        env = services[name]["environment"]
        assert env["CIVICWATCH_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL", name
        assert env["CIVICWATCH_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512", name
        assert env["CIVICWATCH_KAFKA_SASL_USERNAME"] == f"civicwatch-{role}", name
        assert env["CIVICWATCH_KAFKA_SASL_PASSWORD"].startswith(f"${{KAFKA_PASSWORD_{role.upper()}:?"), name
        assert "/etc/civicwatch/tls/ca.crt" in " ".join(services[name]["volumes"]), name
        assert f"user civicwatch-{role} " in acl_script(), f"{name}: no such broker user"
    settings = Settings(
        kafka_security_protocol="SASL_SSL", kafka_sasl_username="civicwatch-worker", kafka_sasl_password="x" * 16
    )
    assert settings.kafka_auth()["ssl_context"].check_hostname


def test_every_kubernetes_workload_logs_in_as_its_own_role() -> None:
    configmap = next(d for _, d in k8s_documents() if d["kind"] == "ConfigMap")
    assert configmap["data"]["CIVICWATCH_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert configmap["data"]["CIVICWATCH_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    users = next(d for _, d in k8s_documents() if d.get("metadata", {}).get("name") == "civicwatch-kafka-users")
    for name, _, pod in pod_specs():
        env = {e["name"]: e for e in pod["containers"][0].get("env", [])}
        user = env["CIVICWATCH_KAFKA_SASL_USERNAME"]["value"]
        role = user.removeprefix("civicwatch-")
        ref = env["CIVICWATCH_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "civicwatch-kafka-users", "key": role}, name
        assert role in users["stringData"], f"{name}: no {role} password in the Secret"
        assert f"user {user} " in acl_script(), f"{name}: no such broker user"


def test_only_the_review_service_writes_decisions_and_connectors_only_comments() -> None:
    assert writers_of("moderation.decisions") == {"civicwatch-review"}
    assert writers_of("comments.raw") == {"civicwatch-connector"}
    # Replies (5.5): the forwarder queues them (approval automatic), a moderator approves them (required).
    assert writers_of("moderation.actions") == {"civicwatch-worker", "civicwatch-actions", "civicwatch-review"}
    assert writers_of("audit.log") == {"civicwatch-worker", "civicwatch-review", "civicwatch-actions"}
    for topic in ALL_TOPICS:
        if topic.name not in ("connector.state",):
            assert writers_of(topic.name), f"nobody may write {topic.name}"
