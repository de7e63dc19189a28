"""Settings of the messaging service."""

from shared.settings import PlatformSettings


class MessagingSettings(PlatformSettings):
    service_name: str = "messaging"
    mongodb_database: str = "careplan_messaging"
