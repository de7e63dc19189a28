"""The handover service's use cases, grouped by concern; HTTP routes, consumers and timers call these."""

from __future__ import annotations

from services.handover.service_layer.ports import EXPIRY_TIMER, TRANSFER_TIMEOUT_TIMER, HandoverPolicy, Stores
from services.handover.service_layer.reads import HandoverReads
from services.handover.service_layer.requests import HandoverRequests
from services.handover.service_layer.saga import HandoverSaga
from shared.storage.timers import TimerHandler
from shared.storage.unit_of_work import UnitOfWork


class HandoverService:
    """`requests`: initiate, accept, decline, withdraw, expiry; `saga`: the transfer in every service;
    `reads`: history, one handover, incoming."""

    def __init__(self, uow: UnitOfWork, stores: Stores, policy: HandoverPolicy | None = None) -> None:
        self.uow = uow
        self.stores = stores
        self.policy = policy or HandoverPolicy()
        self.requests = HandoverRequests(uow, stores, self.policy)
        self.saga = HandoverSaga(stores)
        self.reads = HandoverReads(uow, stores)

    def timer_handlers(self) -> dict[str, TimerHandler]:
        return {EXPIRY_TIMER: self.requests.on_expiry_timer, TRANSFER_TIMEOUT_TIMER: self.saga.on_timeout_timer}
