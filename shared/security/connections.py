"""Production connections: Kafka TLS and SASL (SCRAM or mTLS), MongoDB TLS, Redis TLS and ACL user.

The settings come from each service's own Secret (credentials, key material) and the platform ConfigMap
(protocols, mechanisms); a service whose settings ask for TLS or SASL without the material it needs
refuses to start, naming the variables. Left unset, every connection is plain (dev and tests).
"""

from __future__ import annotations

import ssl
from typing import Any, Literal

from faststream.security import BaseSecurity, SASLScram256, SASLScram512
from pydantic import Field, FilePath, SecretStr, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError
from pydantic_settings import BaseSettings

KafkaProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]


class ConnectionSecuritySettings(BaseSettings):
    """TLS and credentials of the connections to Kafka, MongoDB and Redis (mixed into `PlatformSettings`)."""

    kafka_security_protocol: KafkaProtocol = Field(
        default="PLAINTEXT", description="SASL_SSL for SCRAM over TLS, SSL for TLS or mTLS (client certificate)."
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = Field(default=None, description="The service's Kafka user (Secret).")
    kafka_sasl_password: SecretStr | None = Field(default=None, description="Its password (Secret).")
    kafka_ca_cert: str | None = Field(default=None, description="PEM of the brokers' CA (e.g. Strimzi's cluster CA).")
    kafka_ca_file: FilePath | None = Field(default=None, description="The brokers' CA as a file instead.")
    kafka_client_cert_file: FilePath | None = Field(default=None, description="mTLS: the service's certificate.")
    kafka_client_key_file: FilePath | None = Field(default=None, description="mTLS: its private key (Secret).")
    kafka_namespace: str = Field(
        default="",
        pattern=r"^[A-Za-z0-9._-]{0,40}$",
        description="Prefix of every topic and consumer group on the broker (a test run on a shared cluster); "
        "empty in dev and production.",
    )
    mongodb_tls_ca_file: FilePath | None = Field(default=None, description="CA of MongoDB's certificates (tls on).")
    mongodb_tls_certificate_key_file: FilePath | None = Field(
        default=None, description="X.509 client certificate and key in one PEM (tls on); credentials else in the URI."
    )
    redis_username: str | None = Field(default=None, description="Redis ACL user (Secret), if not in REDIS_URL.")
    redis_password: SecretStr | None = Field(default=None, description="Its password (Secret).")
    redis_tls_ca_file: FilePath | None = Field(default=None, description="CA of Redis's certificate (rediss:// only).")

    @model_validator(mode="after")
    def _material_present(self) -> ConnectionSecuritySettings:
        problems = connection_problems(self)
        if problems:
            details = [
                InitErrorDetails(type=PydanticCustomError("secret_missing", message), loc=(field,), input=None)
                for field, message in problems
            ]
            raise ValidationError.from_exception_data(type(self).__name__, details)
        return self


def connection_problems(settings: ConnectionSecuritySettings) -> list[tuple[str, str]]:
    """(setting, what is wrong) for key material the chosen protocols need but lack, or TLS material a plain
    connection would silently ignore."""
    problems: list[tuple[str, str]] = []
    protocol = settings.kafka_security_protocol
    if protocol.startswith("SASL_"):
        for name in ("kafka_sasl_username", "kafka_sasl_password"):
            if not getattr(settings, name):
                problems.append((name, f"required when KAFKA_SECURITY_PROTOCOL={protocol}; set it from the Secret"))
    tls_material = ("kafka_ca_cert", "kafka_ca_file", "kafka_client_cert_file", "kafka_client_key_file")
    if not protocol.endswith("SSL"):
        problems += [
            (name, f"TLS material with KAFKA_SECURITY_PROTOCOL={protocol}: use SSL or SASL_SSL")
            for name in tls_material
            if getattr(settings, name)
        ]
    if bool(settings.kafka_client_cert_file) != bool(settings.kafka_client_key_file):
        missing = "kafka_client_key_file" if settings.kafka_client_cert_file else "kafka_client_cert_file"
        problems.append((missing, "mTLS needs both KAFKA_CLIENT_CERT_FILE and KAFKA_CLIENT_KEY_FILE"))
    redis_url = getattr(settings, "redis_url", None)
    if settings.redis_tls_ca_file and not (redis_url or "").startswith("rediss://"):
        problems.append(("redis_tls_ca_file", "needs a rediss:// REDIS_URL (TLS)"))
    if bool(settings.redis_password) and not (settings.redis_username or redis_url):
        problems.append(("redis_username", "required with REDIS_PASSWORD"))
    return problems


def _tls_context(settings: ConnectionSecuritySettings) -> ssl.SSLContext:
    """Verifies the brokers against the configured CA (else the system's) and presents the client
    certificate for mTLS."""
    context = ssl.create_default_context(
        cafile=str(settings.kafka_ca_file) if settings.kafka_ca_file else None, cadata=settings.kafka_ca_cert or None
    )
    if settings.kafka_client_cert_file and settings.kafka_client_key_file:
        context.load_cert_chain(settings.kafka_client_cert_file, settings.kafka_client_key_file)
    return context


def kafka_security(settings: ConnectionSecuritySettings) -> BaseSecurity | None:
    """faststream's security object for the broker: SCRAM (over TLS or not), TLS/mTLS, or None (plain)."""
    protocol = settings.kafka_security_protocol
    context = _tls_context(settings) if protocol.endswith("SSL") else None
    if protocol.startswith("SASL_"):
        assert settings.kafka_sasl_username and settings.kafka_sasl_password  # checked when the settings load
        scram = SASLScram512 if settings.kafka_sasl_mechanism == "SCRAM-SHA-512" else SASLScram256
        return scram(
            settings.kafka_sasl_username,
            settings.kafka_sasl_password.get_secret_value(),
            ssl_context=context,
            use_ssl=context is not None,
        )
    return BaseSecurity(ssl_context=context) if context is not None else None


def mongo_tls_options(settings: ConnectionSecuritySettings) -> dict[str, Any]:
    """pymongo's TLS options (the URI's own `tls=true&…` works as well; credentials are in the URI)."""
    options: dict[str, Any] = {}
    if settings.mongodb_tls_ca_file:
        options |= {"tls": True, "tlsCAFile": str(settings.mongodb_tls_ca_file)}
    if settings.mongodb_tls_certificate_key_file:
        options |= {"tls": True, "tlsCertificateKeyFile": str(settings.mongodb_tls_certificate_key_file)}
    return options


def redis_options(settings: ConnectionSecuritySettings) -> dict[str, Any]:
    """redis-py's ACL user and TLS options for `from_url` (TLS itself comes from the rediss:// scheme)."""
    options: dict[str, Any] = {}
    if settings.redis_username:
        options["username"] = settings.redis_username
    if settings.redis_password:
        options["password"] = settings.redis_password.get_secret_value()
    if settings.redis_tls_ca_file:
        options |= {"ssl_ca_certs": str(settings.redis_tls_ca_file), "ssl_cert_reqs": "required"}
    return options
