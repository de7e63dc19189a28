"""The audit pepper: a service outside dev and test refuses to start without its own, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.settings import PlatformSettings, describe_validation_error

ROOT = Path(__file__).resolve().parents[3]
CONNECTIONS = {
    "service_name": "plans",
    "kafka_bootstrap_servers": "localhost:1",
    "mongodb_uri": "mongodb://localhost:1",
    "mongodb_database": "careplan_plans",
    "redis_url": "redis://localhost:1",
}


def settings_error(**values: str) -> str:
    with pytest.raises(ValidationError) as caught:
        PlatformSettings(**CONNECTIONS, **values)  # type: ignore[arg-type]
    return describe_validation_error(caught.value)


def test_production_without_a_pepper_names_the_missing_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CAREPLAN_ENV", "AUDIT_PEPPER"):
        monkeypatch.delenv(name, raising=False)
    expected = (
        "setting AUDIT_PEPPER is missing: required when CAREPLAN_ENV=prod (only dev and test may use the dev "
        "pepper); set it from the service's Secret"
    )
    assert settings_error() == expected  # no CAREPLAN_ENV: production
    assert settings_error(careplan_env="prod", audit_pepper="careplan-dev-pepper") == expected


def test_dev_and_test_fall_back_to_the_dev_pepper_and_production_takes_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDIT_PEPPER", raising=False)
    assert PlatformSettings(**CONNECTIONS, careplan_env="dev").audit_pepper == "careplan-dev-pepper"  # type: ignore[arg-type]
    assert PlatformSettings(**CONNECTIONS, careplan_env="test").audit_pepper == "careplan-dev-pepper"  # type: ignore[arg-type]
    own = PlatformSettings(**CONNECTIONS, audit_pepper="a-pepper-from-the-vault", kafka_allow_plaintext=True)  # type: ignore[arg-type]
    assert own.careplan_env == "prod" and own.audit_pepper == "a-pepper-from-the-vault"
    assert "CAREPLAN_ENV is invalid" in settings_error(careplan_env="staging")


def test_a_production_service_without_its_pepper_does_not_start() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"AUDIT_PEPPER", "CAREPLAN_ENV", "AUTH_PUBLIC_KEY_FILE"}}
    env |= {"KAFKA_BOOTSTRAP_SERVERS": "localhost:1", "MONGODB_URI": "mongodb://localhost:1"}
    env |= {"REDIS_URL": "redis://localhost:1", "CAREPLAN_ENV": "prod"}
    result = subprocess.run(
        [sys.executable, "-c", "from services.plans.bootstrap import create_app; create_app()"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2
    assert "setting AUDIT_PEPPER is missing: required when CAREPLAN_ENV=prod" in result.stderr


def test_only_notifications_requires_redis() -> None:
    from services.notifications.settings import NotificationsSettings

    assert PlatformSettings(**CONNECTIONS | {"redis_url": None}, careplan_env="dev").redis_url is None  # type: ignore[arg-type]
    assert NotificationsSettings.model_fields["redis_url"].is_required()


def test_production_refuses_an_unencrypted_kafka_connection_unless_told_a_mesh_encrypts_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CAREPLAN_ENV", raising=False)
    pepper = {"audit_pepper": "a-pepper-from-the-vault"}
    for protocol in ("PLAINTEXT", "SASL_PLAINTEXT"):
        extra = {"kafka_sasl_username": "plans", "kafka_sasl_password": "pw"} if protocol.startswith("SASL") else {}
        refused = settings_error(**pepper, kafka_security_protocol=protocol, **extra)
        assert f"KAFKA_SECURITY_PROTOCOL={protocol} is not encrypted" in refused
        assert "KAFKA_ALLOW_PLAINTEXT=true" in refused
    assert PlatformSettings(**CONNECTIONS, **pepper, kafka_security_protocol="SSL").kafka_security_protocol == "SSL"  # type: ignore[arg-type]
    meshed = PlatformSettings(**CONNECTIONS, **pepper, kafka_allow_plaintext=True)  # type: ignore[arg-type]
    assert meshed.kafka_security_protocol == "PLAINTEXT"
    assert PlatformSettings(**CONNECTIONS, careplan_env="dev").kafka_security_protocol == "PLAINTEXT"  # type: ignore[arg-type]
