"""Settings of the handover service."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from services.handover.service_layer.ports import HandoverPolicy
from shared.settings import PlatformSettings


class HandoverSettings(PlatformSettings):
    service_name: str = "handover"
    mongodb_database: str = "careplan_handover"
    handover_expiry_seconds: float = Field(
        default=14 * 24 * 3600, gt=0, description="How long a pending handover waits for the receiving unit."
    )
    handover_transfer_timeout_seconds: float = Field(
        default=900, gt=0, description="How long the saga waits for every service's confirmation before it compensates."
    )

    def policy(self) -> HandoverPolicy:
        return HandoverPolicy(
            pending_for=timedelta(seconds=self.handover_expiry_seconds),
            transfer_timeout=timedelta(seconds=self.handover_transfer_timeout_seconds),
        )
