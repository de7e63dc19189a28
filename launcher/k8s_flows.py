"""Checks of a rendered overlay against what the code uses: network flows, Kafka topics, users and KEDA.

- a default-deny NetworkPolicy in every namespace with services, and per service the flows it needs: DNS,
  Kafka, MongoDB, the OTLP collector, ingress from the gateway, Redis and the SMTP/SMS providers only where
  the service is configured with them;
- a `KafkaTopic` per registry topic (partitions, cleanup policy, retention, replication as declared) and
  none for topics the code does not declare; per service a `KafkaUser` with exactly the generated ACLs;
- KEDA's Kafka triggers never scale past the work topic's partitions and talk to the platform's brokers.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from launcher.catalogue import SERVICES, all_topics
from launcher.consumer_groups import consumer_groups, settings_class
from launcher.k8s import kafka_user, service_access
from launcher.k8s_policy import config_maps, container_environment, pod_spec, workloads
from launcher.k8s_render import describe

Port = tuple[str, str]  # (port number or name, protocol)


def _selects(policy: dict[str, Any], doc: dict[str, Any]) -> bool:
    labels = doc["spec"]["template"]["metadata"].get("labels", {})
    wanted = policy["spec"].get("podSelector", {}).get("matchLabels", {})
    same_namespace = policy["metadata"].get("namespace") == doc["metadata"].get("namespace")
    return bool(same_namespace and wanted.items() <= labels.items())


def _ports(rules: list[dict[str, Any]]) -> set[Port]:
    return {(str(p.get("port")), p.get("protocol", "TCP")) for rule in rules for p in rule.get("ports", [])}


def _host_port(address: str, default: int) -> str:
    """The port of `host:port`, a URL, or the default."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    return str(parts.port or (443 if parts.scheme == "https" else default))


def needed_egress(env: dict[str, str], secret_keys: set[str]) -> dict[str, Port]:
    """What a container needs to reach, from its configuration: flow name → (port, protocol)."""
    needed = {
        "DNS": ("53", "UDP"),
        "Kafka": (_host_port(env.get("KAFKA_BOOTSTRAP_SERVERS", "").split(",")[0], 9092), "TCP"),
        "MongoDB": ("27017", "TCP"),
        "OTLP collector": (_host_port(env.get("OTEL_EXPORTER_OTLP_ENDPOINT", ""), 4318), "TCP"),
    }
    if "REDIS_URL" in secret_keys | set(env):
        needed["Redis"] = ("6379", "TCP")
    if "SMTP_HOST" in env:
        needed["SMTP"] = (env.get("SMTP_PORT", "25"), "TCP")
    if "SMS_GATEWAY_URL" in env:
        needed["SMS gateway"] = (_host_port(env["SMS_GATEWAY_URL"], 80), "TCP")
    return needed


def _peer_problems(policy: dict[str, Any]) -> list[str]:
    """A peer selecting the policy's own pods is what kustomize's labels transformer makes of a peer's
    `matchLabels`: flag it rather than allow traffic to nobody."""
    own = policy["spec"].get("podSelector", {}).get("matchLabels", {})
    rules = policy["spec"].get("ingress", []) + policy["spec"].get("egress", [])
    peers = [peer for rule in rules for peer in rule.get("from", []) + rule.get("to", [])]
    return [
        f"{describe(policy)}: a peer's podSelector selects the policy's own pods {own} (use matchExpressions)"
        for peer in peers
        if own and "namespaceSelector" in peer and (peer.get("podSelector") or {}).get("matchLabels") == own
    ]


def _default_deny_problems(docs: list[dict[str, Any]], policies: list[dict[str, Any]]) -> list[str]:
    namespaces = {doc["metadata"].get("namespace") for doc in workloads(docs)}
    denying = {
        p["metadata"].get("namespace")
        for p in policies
        if not p["spec"].get("podSelector")
        and {"Ingress", "Egress"} <= set(p["spec"].get("policyTypes", []))
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    }
    return [
        f"namespace {ns}: no default-deny NetworkPolicy (podSelector {{}}, Ingress and Egress)"
        for ns in sorted(namespaces - denying, key=str)
    ]


def _secret_keys(container: dict[str, Any]) -> set[str]:
    return {e["name"] for e in container.get("env", []) if "secretKeyRef" in (e.get("valueFrom") or {})}


def network_problems(docs: list[dict[str, Any]]) -> list[str]:
    """Default deny, and for every service the flows it needs and no Redis/provider flow it does not."""
    policies = [d for d in docs if d.get("kind") == "NetworkPolicy"]
    problems = _default_deny_problems(docs, policies)
    for policy in policies:
        problems += _peer_problems(policy)
    maps = config_maps(docs)
    for doc in workloads(docs):
        mine = [p for p in policies if p["spec"].get("podSelector") and _selects(p, doc)]
        if not mine:
            problems.append(f"{describe(doc)}: no NetworkPolicy of its own (only the default deny)")
            continue
        egress = _ports([rule for p in mine for rule in p["spec"].get("egress", [])])
        ingress = _ports([rule for p in mine for rule in p["spec"].get("ingress", [])])
        container = pod_spec(doc)["containers"][0]
        needed = needed_egress(container_environment(container, maps), _secret_keys(container))
        problems += [
            f"{describe(doc)}: no NetworkPolicy egress to {flow} (port {port}/{protocol})"
            for flow, (port, protocol) in needed.items()
            if (port, protocol) not in egress
        ]
        if "Redis" not in needed and ("6379", "TCP") in egress:
            problems.append(f"{describe(doc)}: egress to Redis (6379) although the service is given no REDIS_URL")
        if not ingress & {("http", "TCP"), ("8000", "TCP")}:
            problems.append(f"{describe(doc)}: no NetworkPolicy ingress to its HTTP port (from the gateway)")
    return problems


def _kafka_topic_problems(topic: Any, resource: dict[str, Any] | None) -> list[str]:
    if resource is None:
        return [f"topic {topic.name} (declared in the code) has no KafkaTopic"]
    spec, name = resource["spec"], describe(resource)
    config = spec.get("config", {})
    problems = []
    if spec.get("partitions") != topic.partitions:
        problems.append(f"{name}: partitions {spec.get('partitions')}, the code declares {topic.partitions}")
    if config.get("cleanup.policy") != ("compact" if topic.compacted else "delete"):
        problems.append(f"{name}: cleanup.policy {config.get('cleanup.policy')} differs from the code")
    if topic.retention_ms is not None and int(config.get("retention.ms", -1)) != topic.retention_ms:
        problems.append(f"{name}: retention.ms {config.get('retention.ms')}, the code declares {topic.retention_ms}")
    if topic.replicas is not None and spec.get("replicas") != topic.replicas:
        problems.append(f"{name}: replicas {spec.get('replicas')}, the code declares {topic.replicas}")
    if int(config.get("min.insync.replicas", 1)) > int(spec.get("replicas", 1)):
        problems.append(f"{name}: min.insync.replicas above replicas: no write could succeed")
    return problems


def kafka_problems(docs: list[dict[str, Any]]) -> list[str]:
    """Topics as the code declares them, nothing else; each service's user with exactly its ACLs."""
    topics = {t.name: t for t in all_topics()}
    resources = {d["spec"].get("topicName", d["metadata"]["name"]): d for d in docs if d.get("kind") == "KafkaTopic"}
    problems = [p for name, topic in topics.items() for p in _kafka_topic_problems(topic, resources.get(name))]
    problems += [
        f"{describe(d)}: topic {name} is not declared in the code"
        for name, d in resources.items()
        if name not in topics
    ]
    users = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "KafkaUser"}
    access = service_access(consumer_groups())
    for service in SERVICES:
        user = users.get(f"careplan-{service}")
        if user is None:
            problems.append(f"service {service} has no KafkaUser careplan-{service}")
            continue
        expected = kafka_user(service, access[service])["spec"]["authorization"]["acls"]
        if user["spec"].get("authorization", {}).get("acls") != expected:
            problems.append(f"{describe(user)}: ACLs differ from what {service} reads and writes (regenerate them)")
    return problems


def _default_workers(service: str) -> int:
    """Members of the scaled consumer group per replica, by the service's settings (1 if it has no such setting)."""
    field = settings_class(service).model_fields.get("fanout_workers") if service in SERVICES else None
    return int(field.default) if field is not None else 1


def keda_problems(docs: list[dict[str, Any]]) -> list[str]:
    """A Kafka-lag ScaledObject never scales past its topic's partitions and uses the platform's brokers."""
    topics = {t.name: t for t in all_topics()}
    maps = config_maps(docs)
    deployments = {d["metadata"]["name"]: d for d in workloads(docs)}
    problems = []
    for scaled in (d for d in docs if d.get("kind") == "ScaledObject"):
        target = deployments.get(scaled["spec"]["scaleTargetRef"]["name"])
        if target is None:
            continue  # reported by availability_problems
        env = container_environment(pod_spec(target)["containers"][0], maps)
        service = env.get("SERVICE_NAME", "")
        workers = int(env.get("FANOUT_WORKERS", _default_workers(service)))
        for trigger in (t for t in scaled["spec"]["triggers"] if t["type"] == "kafka"):
            meta = trigger["metadata"]
            topic = topics.get(meta.get("topic", ""))
            if topic is None:
                problems.append(f"{describe(scaled)}: topic {meta.get('topic')} is not declared in the code")
            elif scaled["spec"].get("maxReplicaCount", 100) * workers > topic.partitions:
                problems.append(
                    f"{describe(scaled)}: maxReplicaCount {scaled['spec'].get('maxReplicaCount')} x {workers} "
                    f"consumers per replica exceeds the {topic.partitions} partitions of {topic.name}"
                )
            if meta.get("bootstrapServers") != env.get("KAFKA_BOOTSTRAP_SERVERS"):
                problems.append(
                    f"{describe(scaled)}: bootstrapServers differs from the service's KAFKA_BOOTSTRAP_SERVERS"
                )
    return problems
