"""Settings of the handover service."""

from shared.settings import PlatformSettings


class HandoverSettings(PlatformSettings):
    service_name: str = "handover"
    mongodb_database: str = "careplan_handover"
