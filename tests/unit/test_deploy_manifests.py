"""The Kubernetes base: every service has a Deployment and Service, probes on /livez and /readyz,
and is configured only through settings the services actually read."""

from __future__ import annotations

import importlib
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


def settings_class(service: str) -> type[PlatformSettings]:
    module = importlib.import_module(f"services.{service}.settings")
    return next(
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, PlatformSettings) and v is not PlatformSettings
    )


def test_each_service_gets_every_setting_it_needs_and_none_it_does_not_read() -> None:
    docs = {d["metadata"]["name"]: d for d in documents() if d["kind"] == "ConfigMap"}
    platform = set(docs["careplan-platform"]["data"])
    for service in SERVICES:
        fields = settings_class(service).model_fields
        known = {name.upper() for name in fields} | {"OTEL_EXPORTER_OTLP_ENDPOINT"}
        given = platform | set(docs[f"careplan-{service}"]["data"])
        assert not given - known, f"{service} is given settings it does not read: {given - known}"
        required = {name.upper() for name, field in fields.items() if field.is_required()}
        assert required <= given, f"{service} would not start: {required - given} missing"
