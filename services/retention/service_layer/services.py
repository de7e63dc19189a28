"""The retention service's use-case objects, built together from one set of stores and one policy."""

from __future__ import annotations

from dataclasses import dataclass

from services.retention.service_layer.automatic_purge import AutomaticPurge
from services.retention.service_layer.export_reads import ExportReads
from services.retention.service_layer.exports import ExportCoordinator, PdfRenderer
from services.retention.service_layer.participant import PurgeParticipant
from services.retention.service_layer.purges import PurgeCoordinator
from services.retention.service_layer.schedules import RetentionService
from services.retention.service_layer.stores import (
    AUTO_PURGE_TIMER,
    EXPORT_RETRY_TIMER,
    EXPORT_WAIT_TIMER,
    LIMIT_TIMER,
    PURGE_RETRY_TIMER,
    REMINDER_TIMER,
    RetentionPolicy,
    Stores,
)
from shared.storage.timers import TimerHandler
from shared.storage.unit_of_work import UnitOfWork


@dataclass
class RetentionServices:
    """What the routes (`request.app.state.service`), the consumers and the timer runner call."""

    schedules: RetentionService
    purges: PurgeCoordinator
    participant: PurgeParticipant
    exports: ExportCoordinator
    export_reads: ExportReads
    automatic_purge: AutomaticPurge
    stores: Stores

    @classmethod
    def build(
        cls, uow: UnitOfWork, stores: Stores, policy: RetentionPolicy, *, render_pdf: PdfRenderer
    ) -> RetentionServices:
        """`render_pdf` renders a complete export's PDF (the adapter's, given by the bootstrap)."""
        purges = PurgeCoordinator(uow, stores, policy)
        exports = ExportCoordinator(uow, stores, policy, render_pdf)
        return cls(
            schedules=RetentionService(uow, stores, policy),
            purges=purges,
            participant=PurgeParticipant(stores),
            exports=exports,
            export_reads=ExportReads(uow, stores, policy),
            automatic_purge=AutomaticPurge(stores, policy, purges, exports),
            stores=stores,
        )

    def timer_handlers(self) -> dict[str, TimerHandler]:
        return {
            LIMIT_TIMER: self.schedules.on_limit_timer,
            REMINDER_TIMER: self.schedules.on_reminder_timer,
            AUTO_PURGE_TIMER: self.automatic_purge.on_automatic_purge_timer,
            PURGE_RETRY_TIMER: self.purges.on_retry_timer,
            EXPORT_RETRY_TIMER: self.exports.on_retry_timer,
            EXPORT_WAIT_TIMER: self.automatic_purge.on_export_wait_timer,
        }
