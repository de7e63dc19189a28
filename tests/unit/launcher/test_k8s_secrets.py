"""Production connections in the manifests: every service speaks SCRAM over TLS to Kafka with its own
user, whose password, like the pepper and the MongoDB URI, comes from its own Secret and never a ConfigMap."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from launcher.catalogue import SERVICES
from launcher.k8s import DEPLOY_DIR
from launcher.k8s_policy import config_maps, container_environment, secret_problems
from launcher.k8s_render import render
from shared.security.connections import ConnectionSecuritySettings

Docs = list[dict[str, Any]]


@pytest.fixture(scope="module")
def prod() -> Docs:
    return render(DEPLOY_DIR / "overlays" / "prod")


def app_container(docs: Docs, service: str) -> dict[str, Any]:
    deployment = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == f"careplan-{service}")
    return dict(deployment["spec"]["template"]["spec"]["containers"][0])


def test_each_service_takes_its_kafka_user_and_the_cluster_ca_from_its_own_secret(prod: Docs) -> None:
    maps = config_maps(prod)
    for service in SERVICES:
        app = app_container(prod, service)
        environment = container_environment(app, maps)
        assert (environment["KAFKA_SECURITY_PROTOCOL"], environment["KAFKA_SASL_MECHANISM"]) == (
            "SASL_SSL",
            "SCRAM-SHA-512",
        )
        from_secrets = {
            e["name"]: e["valueFrom"]["secretKeyRef"]["name"]
            for e in app["env"]
            if "secretKeyRef" in e.get("valueFrom", {})
        }
        for name in ("MONGODB_URI", "AUDIT_PEPPER", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "KAFKA_CA_CERT"):
            assert from_secrets[name] == f"careplan-{service}-secrets", (service, name)
        assert [s["secretRef"]["name"] for s in app["envFrom"] if "secretRef" in s] == [f"careplan-{service}-secrets"]
    secret_settings = {"KAFKA_SASL_PASSWORD", "REDIS_PASSWORD", "MONGODB_URI", "AUDIT_PEPPER"}
    assert not secret_settings & {key for data in maps.values() for key in data}
    assert {"KAFKA_SASL_PASSWORD", "KAFKA_CA_CERT"} <= {n.upper() for n in ConnectionSecuritySettings.model_fields}


def test_a_production_service_without_its_kafka_password_from_the_secret_fails_naming_it(prod: Docs) -> None:
    docs = copy.deepcopy(prod)
    deployment = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "careplan-forms")
    app = deployment["spec"]["template"]["spec"]["containers"][0]
    app["env"] = [e for e in app["env"] if e["name"] != "KAFKA_SASL_PASSWORD"]
    assert secret_problems(docs) == [
        "Deployment careplan/careplan-forms: CAREPLAN_ENV=prod needs KAFKA_SASL_PASSWORD from the service's Secret "
        "(env KAFKA_SASL_PASSWORD with valueFrom.secretKeyRef, not optional)"
    ]
