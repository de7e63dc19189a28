"""Settings of the plans service."""

from shared.settings import PlatformSettings


class PlansSettings(PlatformSettings):
    service_name: str = "plans"
    mongodb_database: str = "careplan_plans"
