"""Use cases of the handover service (they arrive with the handover issue; the shape is set here)."""

from __future__ import annotations

from shared.storage.unit_of_work import UnitOfWork


class HandoverService:
    """Every handover operation will live here: routes and consumers only parse and dispatch to it."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
