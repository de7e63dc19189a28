"""The handover service's skeleton: the shared platform's app, in the shape every service has."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.handover.bootstrap import create_app
from services.handover.service_layer.service import HandoverService
from services.handover.settings import HandoverSettings
from shared.messaging.events import TOPICS


def public_pem() -> str:
    key = Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def test_the_app_runs_on_the_platform_with_its_service_and_topic() -> None:
    settings = HandoverSettings(
        kafka_bootstrap_servers="localhost:1",
        mongodb_uri="mongodb://localhost:1",
        redis_url="redis://localhost:1",
        auth_public_key=public_pem(),
        careplan_env="test",
    )
    app = create_app(settings)
    assert isinstance(app.state.service, HandoverService)
    paths = {getattr(route, "path", None) for route in app.routes}
    assert {"/livez", "/readyz", "/metrics"} <= paths
    assert "careplan.handover.v1" in TOPICS
