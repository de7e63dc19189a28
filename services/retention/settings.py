"""Settings of the retention service."""

from shared.settings import PlatformSettings


class RetentionSettings(PlatformSettings):
    service_name: str = "retention"
    mongodb_database: str = "careplan_retention"
