"""Settings every service reads from its environment (pydantic-settings)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class PlatformSettings(BaseSettings):
    """Connection and platform settings; each service subclasses this with its own defaults."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    service_name: str = Field(description="Name of the service, used in traces, logs and consumer groups.")
    kafka_bootstrap_servers: str = Field(description="Comma-separated host:port list of Kafka brokers.")
    kafka_enable_idempotence: bool = Field(
        default=False, description="Producer idempotence; on for real Kafka, off for tansu (unsupported there)."
    )
    mongodb_uri: str = Field(description="MongoDB connection string (a replica set: transactions are used).")
    mongodb_database: str = Field(description="This service's own database.")
    redis_url: str = Field(description="Redis URL, e.g. redis://host:6379/0.")
    redis_max_connections: int = Field(default=50, ge=1)
    auth_public_key_file: Path | None = Field(default=None, description="PEM public key verifying bearer tokens.")
    auth_public_key: str | None = Field(default=None, description="PEM public key text (instead of the file).")
    auth_audience: str = "careplan"
    auth_issuer: str = "careplan-dev"
    auth_algorithms: list[str] | None = Field(
        default=None,
        description="Accepted token algorithms; by default those the configured key can verify "
        "(listing one the key cannot verify is refused at start).",
    )
    audit_pepper: str = Field(
        default="careplan-dev-pepper",
        min_length=8,
        description="Secret that pseudonymises patient identities in the audit log.",
    )
    trace_file: Path | None = Field(default=None, description="Dev mode: write spans as JSON lines to this file.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    clock_offset_seconds: float = Field(
        default=0.0, description="Dev/test only: shift this service's clock (durable timers, SLA) forward."
    )
    http_max_body_bytes: int = Field(
        default=256 * 1024, ge=1024, description="Largest request body accepted; larger ones answer 413."
    )
    outbox_poll_seconds: float = Field(default=0.5, gt=0)
    timer_poll_seconds: float = Field(default=1.0, gt=0)

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _kafka_has_ports(cls, value: str) -> str:
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"expected host:port[,host:port], got {server!r}")
        return value

    @field_validator("mongodb_uri")
    @classmethod
    def _mongo_scheme(cls, value: str) -> str:
        if not value.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("must start with mongodb:// or mongodb+srv://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    def public_key_pem(self) -> str:
        """The PEM text of the token verification key, or a clear error naming the settings."""
        if self.auth_public_key:
            return self.auth_public_key
        if self.auth_public_key_file:
            return self.auth_public_key_file.read_text()
        raise ValueError("set AUTH_PUBLIC_KEY_FILE or AUTH_PUBLIC_KEY to verify bearer tokens")


S = TypeVar("S", bound=PlatformSettings)


def describe_validation_error(exc: ValidationError) -> str:
    """One line per bad setting, naming the environment variable."""
    lines = []
    for error in exc.errors():
        name = "_".join(str(part) for part in error["loc"]).upper() or "?"
        problem = "is missing" if error["type"] == "missing" else f"is invalid: {error['msg']}"
        lines.append(f"setting {name} {problem}")
    return "\n".join(lines)


def load_settings(settings_class: type[S]) -> S:
    """Read settings from the environment; on error print what is wrong and exit with status 2."""
    try:
        return settings_class()
    except ValidationError as exc:
        print(f"{settings_class.__name__}: cannot start\n{describe_validation_error(exc)}", file=sys.stderr)
        raise SystemExit(2) from None
