"""Settings every service reads from its environment (pydantic-settings)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import SettingsConfigDict

from shared.security.connections import ConnectionSecuritySettings

DEV_PEPPER = "careplan-dev-pepper"


class PlatformSettings(ConnectionSecuritySettings):
    """Connection and platform settings; each service subclasses this with its own defaults (TLS and
    credentials of the connections: `shared.security.connections`)."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    service_name: str = Field(description="Name of the service, used in traces, logs and consumer groups.")
    careplan_env: Literal["dev", "test", "prod"] = Field(
        default="prod",
        description="Where the service runs: outside dev and test, secrets such as AUDIT_PEPPER must be set "
        "(the dev launcher says dev; a deployment that says nothing is production).",
    )
    kafka_bootstrap_servers: str = Field(description="Comma-separated host:port list of Kafka brokers.")
    kafka_enable_idempotence: bool = Field(
        default=False, description="Producer idempotence; on for real Kafka, off for tansu (unsupported there)."
    )
    mongodb_uri: str = Field(description="MongoDB connection string (a replica set: transactions are used).")
    mongodb_database: str = Field(description="This service's own database.")
    redis_url: str | None = Field(
        default=None, description="Redis URL, e.g. redis://host:6379/0; only for services that use Redis."
    )
    redis_max_connections: int = Field(default=50, ge=1)
    auth_public_key_file: Path | None = Field(default=None, description="PEM public key verifying bearer tokens.")
    auth_public_key: str | None = Field(default=None, description="PEM public key text (instead of the file).")
    auth_jwks_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="The identity provider's JWKS endpoint (instead of a PEM): keys by kid, refetched for a new "
        "kid (key rotation) and when the cache expires.",
    )
    auth_jwks_cache_seconds: float = Field(
        default=300.0, gt=0, description="How long the JWKS is cached: a key removed there verifies until then."
    )
    auth_jwks_cooldown_seconds: float = Field(
        default=30.0, ge=0, description="Least time between refetches for unknown kids (bounds made-up kids)."
    )
    auth_audience: str = "careplan"
    auth_issuer: str = "careplan-dev"
    auth_algorithms: list[str] | None = Field(
        default=None,
        description="Accepted token algorithms; by default those the configured key can verify "
        "(listing one the key cannot verify is refused at start).",
    )
    audit_pepper: str = Field(
        default=DEV_PEPPER,
        min_length=8,
        validate_default=True,
        description="Secret that pseudonymises patient identities in the audit log (required outside dev/test).",
    )
    trace_file: Path | None = Field(default=None, description="Dev mode: write spans as JSON lines to this file.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    clock_offset_seconds: float = Field(
        default=0.0, description="Dev/test only: shift this service's clock (durable timers, SLA) forward."
    )
    http_max_body_bytes: int = Field(
        default=256 * 1024, ge=1024, description="Largest request body accepted; larger ones answer 413."
    )
    keyring_mongodb_uri: str | None = Field(
        default=None, description="MongoDB of the plan keyring, if not MONGODB_URI (production: a KMS instead)."
    )
    keyring_database: str = Field(
        default="careplan_keyring", description="The database of the plan keys that seal personal data on Kafka."
    )
    keyring_cache_seconds: float = Field(
        default=30.0, ge=0, description="How long a process keeps a plan key in memory (bounds use after a purge)."
    )
    keyring_work_key_seconds: float = Field(
        default=7 * 86400,
        gt=0,
        description="Lifetime of a work item's key (announcement batches) if its reader never destroys it.",
    )
    outbox_poll_seconds: float = Field(default=0.5, gt=0)
    timer_poll_seconds: float = Field(default=1.0, gt=0)
    kafka_allow_plaintext: bool = Field(
        default=False,
        description="Production only: accept a Kafka connection without TLS (a service mesh encrypts it); "
        "without this, CAREPLAN_ENV=prod refuses PLAINTEXT and SASL_PLAINTEXT.",
    )

    @model_validator(mode="after")
    def _kafka_encrypted_in_production(self) -> PlatformSettings:
        # Events carry plan ids and sealed personal fields; credentials (SCRAM) must not cross the network
        # in clear either. A deployment that forgot KAFKA_SECURITY_PROTOCOL must not start quietly.
        encrypted = self.kafka_security_protocol.endswith("SSL")
        if self.careplan_env == "prod" and not encrypted and not self.kafka_allow_plaintext:
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} is not encrypted: production "
                "(CAREPLAN_ENV=prod) needs SSL or SASL_SSL, or KAFKA_ALLOW_PLAINTEXT=true where a "
                "service mesh encrypts the connection"
            )
        return self

    @field_validator("audit_pepper")
    @classmethod
    def _pepper_outside_dev(cls, value: str, info: ValidationInfo) -> str:
        # A dev pepper in production would make the audit log's pseudonyms reversible by anyone with the code.
        environment = info.data.get("careplan_env", "prod")
        if value == DEV_PEPPER and environment not in ("dev", "test"):
            raise PydanticCustomError(
                "secret_missing",
                "required when CAREPLAN_ENV={environment} (only dev and test may use the dev pepper); "
                "set it from the service's Secret",
                {"environment": environment},
            )
        return value

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _kafka_has_ports(cls, value: str) -> str:
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"expected host:port[,host:port], got {server!r}")
        return value

    @field_validator("mongodb_uri", "keyring_mongodb_uri")
    @classmethod
    def _mongo_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("must start with mongodb:// or mongodb+srv://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    def public_key_pem(self) -> str:
        """The PEM text of the token verification key, or a clear error naming the settings."""
        if self.auth_public_key:
            return self.auth_public_key
        if self.auth_public_key_file:
            return self.auth_public_key_file.read_text()
        raise ValueError("set AUTH_PUBLIC_KEY_FILE, AUTH_PUBLIC_KEY or AUTH_JWKS_URL to verify bearer tokens")


S = TypeVar("S", bound=PlatformSettings)


def describe_validation_error(exc: ValidationError) -> str:
    """One line per bad setting, naming the environment variable."""
    lines = []
    for error in exc.errors():
        name = "_".join(str(part) for part in error["loc"]).upper() or "?"
        if error["type"] == "missing":
            problem = "is missing"
        elif error["type"] == "secret_missing":
            problem = f"is missing: {error['msg']}"
        else:
            problem = f"is invalid: {error['msg']}"
        lines.append(f"setting {name} {problem}")
    return "\n".join(lines)


def load_settings(settings_class: type[S]) -> S:
    """Read settings from the environment; on error print what is wrong and exit with status 2."""
    try:
        return settings_class()
    except ValidationError as exc:
        print(f"{settings_class.__name__}: cannot start\n{describe_validation_error(exc)}", file=sys.stderr)
        raise SystemExit(2) from None
