"""A service's answer to retention's purge request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from opentelemetry.trace import Span

from shared.contracts.purge import PurgeReceiptBase
from shared.contracts.retention import PurgeRequested
from shared.messaging.consumer import Subscription
from shared.messaging.events import ReceivedEvent
from shared.observability.workflow import workflow_span
from shared.purge.store import Tombstones

PURGE_WORKFLOW = "purge"
"""`careplan.workflow.kind` of every span of a purge (its `careplan.workflow.id` is the purge id)."""
PURGE_SERVICE = "careplan.purge.service"
PURGE_ATTEMPT = "careplan.purge.attempt"
PURGE_DELETED = "careplan.purge.deleted"
"""Span attributes of a participant's step: who answered, which request, how much went (counts only)."""


class PlanDataPurger(Protocol):
    """Deletes every piece of personal data of one plan this service holds, inside `tx`; returns counts
    by collection (or key space)."""

    async def purge(self, plan_id: str, tx: Any) -> dict[str, int]: ...


class PurgeParticipant:
    """Consumes `purge_requested`: deletes the plan's data, writes the tombstone and publishes this
    service's receipt, all in one transaction. Asked again (a re-request), it deletes what may have
    arrived since and answers again: retention counts each service once."""

    def __init__(
        self, service: str, purger: PlanDataPurger, tombstones: Tombstones, receipt: type[PurgeReceiptBase]
    ) -> None:
        self.service = service
        self.purger = purger
        self.tombstones = tombstones
        self.receipt = receipt

    def subscriptions(self) -> list[Subscription]:
        """For the service's consumer of the retention topic."""
        return [Subscription(PurgeRequested.ce_type, PurgeRequested, self.on_purge_requested, allow_purged=True)]

    async def on_purge_requested(self, request: PurgeRequested, _: ReceivedEvent | None, tx: Any) -> None:
        if self.service not in request.services:
            return  # a re-request for the services still missing: ours is in
        with participant_span(self.service, request.purge_id, request.attempt) as span:
            deleted = await self.purger.purge(request.plan_id, tx)
            span.set_attribute(PURGE_DELETED, sum(deleted.values()))
            now = tx.clock.now()
            await self.tombstones.add(request.plan_id, request.purge_id, now, tx.session)
            tx.publish(  # in the span: the receipt travels in the purge's trace
                self.receipt(
                    plan_id=request.plan_id,
                    purge_id=request.purge_id,
                    service=self.service,
                    deleted=deleted,
                    purged_at=now,
                )
            )


@contextmanager
def participant_span(service: str, purge_id: str, attempt: int) -> Iterator[Span]:
    """The span of one service's answer to a purge request, in the purge's trace (carried by the
    request's headers): ids and counts only, never what was deleted."""
    with workflow_span(PURGE_WORKFLOW, purge_id, "deleted") as span:
        span.set_attributes({PURGE_SERVICE: service, PURGE_ATTEMPT: attempt})
        yield span
