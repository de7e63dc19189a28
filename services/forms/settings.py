"""Settings of the forms service."""

from shared.settings import PlatformSettings


class FormsSettings(PlatformSettings):
    service_name: str = "forms"
    mongodb_database: str = "careplan_forms"
