"""Settings of the notifications service."""

from shared.settings import PlatformSettings


class NotificationsSettings(PlatformSettings):
    service_name: str = "notifications"
    mongodb_database: str = "careplan_notifications"
