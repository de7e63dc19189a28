"""Settings of the retention service."""

from shared.settings import PlatformSettings


class RetentionSettings(PlatformSettings):
    service_name: str = "retention"
    mongodb_database: str = "careplan_retention"
    retention_reminder_days: list[int] = [60, 14]
    """Days before the 730-day limit when the patient and the responsible therapist are reminded."""
