"""The Kubernetes base: every service has a Deployment and Service, probes on /livez and /readyz,
and is configured only through settings the services actually read."""

from __future__ import annotations

from pathlib import Path

import yaml

from launcher.catalogue import SERVICES
from shared.settings import PlatformSettings

BASE = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "base"


def documents() -> list[dict]:
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    docs = []
    for resource in kustomization["resources"]:
        docs.extend(d for d in yaml.safe_load_all((BASE / resource).read_text()) if d)
    return docs


def test_every_service_is_deployed_with_probes_and_a_service() -> None:
    docs = documents()
    for service in SERVICES:
        name = f"careplan-{service}"
        deployment = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name)
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert f"services.{service}.bootstrap:create_app" in container["command"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert any(d["kind"] == "Service" and d["metadata"]["name"] == name for d in docs)


def test_configmaps_only_set_known_settings() -> None:
    known = {name.upper() for name in PlatformSettings.model_fields} | {"OTEL_EXPORTER_OTLP_ENDPOINT"}
    for doc in documents():
        if doc["kind"] == "ConfigMap":
            unknown = set(doc["data"]) - known
            assert not unknown, f"{doc['metadata']['name']} sets settings no service reads: {unknown}"
