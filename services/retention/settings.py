"""Settings of the retention service."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from services.retention.domain.purge import RetryPolicy
from services.retention.service_layer.stores import RetentionPolicy
from shared.settings import PlatformSettings


class RetentionSettings(PlatformSettings):
    service_name: str = "retention"
    mongodb_database: str = "careplan_retention"
    retention_reminder_days: list[int] = [60, 14]
    """Days before the 730-day limit when the patient and the responsible therapist are reminded."""
    retention_purge_grace_days: int = Field(
        default=30, ge=0, description="Days after a plan ended at its limit until it is purged automatically."
    )
    retention_purge_retry_first_seconds: float = Field(
        default=60, gt=0, description="Wait before the first re-request of missing purge receipts (then doubling)."
    )
    retention_purge_retry_max_seconds: float = Field(
        default=3600, gt=0, description="The longest wait between re-requests of missing purge receipts."
    )

    retention_export_retry_first_seconds: float = Field(
        default=60, gt=0, description="Wait before the first re-request of missing export parts (then doubling)."
    )
    retention_export_retry_max_seconds: float = Field(
        default=3600, gt=0, description="The longest wait between re-requests of missing export parts."
    )
    retention_export_wait_days: float = Field(
        default=7,
        ge=0,
        description="At the limit, days the automatic purge waits for the plan's export for the journal before "
        "it purges without one (forced, with the reason in the audit trail).",
    )

    def policy(self) -> RetentionPolicy:
        return RetentionPolicy(
            reminder_days=tuple(self.retention_reminder_days),
            purge_grace=timedelta(days=self.retention_purge_grace_days),
            retry=RetryPolicy(
                first=timedelta(seconds=self.retention_purge_retry_first_seconds),
                cap=timedelta(seconds=self.retention_purge_retry_max_seconds),
            ),
            export_retry=RetryPolicy(
                first=timedelta(seconds=self.retention_export_retry_first_seconds),
                cap=timedelta(seconds=self.retention_export_retry_max_seconds),
            ),
            export_wait=timedelta(days=self.retention_export_wait_days),
        )
