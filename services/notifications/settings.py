"""Settings of the notifications service."""

from pydantic import Field

from shared.settings import PlatformSettings


class NotificationsSettings(PlatformSettings):
    service_name: str = "notifications"
    mongodb_database: str = "careplan_notifications"
    redis_url: str = Field(description="Redis URL of the send-rate limits shared by all replicas (required here).")
    smtp_host: str = Field(description="SMTP server for e-mail notifications.")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "Min vårdplan <no-reply@1177.example.se>"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_tls: bool = False
    sms_gateway_url: str = Field(description="Base URL of the HTTP SMS gateway (POST /messages).")
    sms_gateway_username: str | None = None
    sms_gateway_password: str | None = None
    announcement_check_seconds: float = Field(
        default=300,
        gt=0,
        description="How often an announcement's fan-out is checked; one that made no progress in between "
        "is published again (its missing batches).",
    )
    sms_batch_size: int = Field(
        default=100,
        ge=1,
        le=1000,
        description="Same-text SMS sent in one gateway call (POST /batches); 1 = one call each.",
    )
    sms_timeout_seconds: float = Field(default=5.0, gt=0)
    email_rate_limit_per_second: int = Field(default=200, ge=1)
    sms_rate_limit_per_second: int = Field(default=100, ge=1)
    delivery_concurrency: int = Field(default=64, ge=1, le=1000)
    fanout_workers: int = Field(
        default=4, ge=1, le=64, description="Consumers of the work topic in each replica (partitions shared)."
    )
