"""One MongoDB transaction holding a state change, its events (the outbox) and its audit records."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from opentelemetry import propagate
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from shared.audit import AuditLog, AuditRecord
from shared.clock import Clock
from shared.kernel.principals import Principal
from shared.messaging.events import Event, EventRecord

T = TypeVar("T")
OUTBOX_COLLECTION = "outbox"


class ConcurrentModification(Exception):
    """An optimistic-concurrency check failed: someone else changed the object first; the work is re-run."""


COMMIT_ATTEMPTS = 6
"""How often a commit whose outcome is unknown is sent again (pymongo's `with_transaction` does the same)."""


def is_transient_transaction_error(exc: BaseException) -> bool:
    """A conflict: nothing was committed, and running the work again is the remedy. (A commit whose
    outcome is unknown is not one: the work may have committed, so only the commit is retried.)"""
    if isinstance(exc, ConcurrentModification):
        return True
    return isinstance(exc, PyMongoError) and exc.has_error_label("TransientTransactionError")


class Transaction(Protocol):
    """What a use case may do inside one unit of work: pass `session` to every repository call,
    `publish` events and `audit` accesses; all of it commits or none of it does."""

    @property
    def session(self) -> Any: ...

    @property
    def clock(self) -> Clock: ...

    def publish(self, *events: Event) -> None:
        """Queue events; they reach the outbox in this transaction and Kafka after it commits."""

    def audit(
        self,
        principal: Principal | None,
        action: str,
        resource: str,
        resource_id: str,
        *,
        patient: str | None,
        unit_id: str | None,
        reason: str = "",
    ) -> None:
        """Record an access to patient data in this transaction."""


class AuditTrail(Protocol):
    """Audit records written outside a transaction (for reads)."""

    def build(
        self,
        principal: Principal | None,
        action: str,
        resource: str,
        resource_id: str,
        *,
        patient: str | None,
        unit_id: str | None,
        reason: str = "",
    ) -> AuditRecord: ...

    async def write(self, records: list[AuditRecord], session: Any = None) -> None: ...

    async def record(
        self,
        principal: Principal | None,
        action: str,
        resource: str,
        resource_id: str,
        *,
        patient: str | None,
        unit_id: str | None,
        reason: str = "",
    ) -> None: ...


class UnitOfWork(Protocol):
    """Runs `work` atomically: its writes, events and audit records commit together or not at all.
    The service layer depends on this; `MongoUnitOfWork` implements it, tests use a fake."""

    @property
    def clock(self) -> Clock: ...

    @property
    def audit_log(self) -> AuditTrail: ...

    async def run(self, work: Callable[[Transaction], Awaitable[T]]) -> T: ...


class MongoTransaction:
    """One MongoDB transaction: `session` goes to every read and write; events and audit records
    queued here are written in it."""

    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        session: AsyncClientSession,
        clock: Clock,
        source: str,
        audit_log: AuditLog,
    ) -> None:
        self.db = db
        self.session = session
        self.clock = clock
        self._source = source
        self._audit_log = audit_log
        self.events: list[EventRecord] = []
        self.audit_records: list[AuditRecord] = []

    def publish(self, *events: Event) -> None:
        """Queue events; they reach the outbox in this transaction and Kafka after it commits.

        Each event travels with the trace context active here, not at commit: an event published in a
        workflow's step (a timer days later, a receipt) stays in that workflow's trace."""
        now = self.clock.now()
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        self.events.extend(EventRecord.from_event(e, source=self._source, time=now, trace=carrier) for e in events)

    def audit(
        self,
        principal: Principal | None,
        action: str,
        resource: str,
        resource_id: str,
        *,
        patient: str | None,
        unit_id: str | None,
        reason: str = "",
    ) -> None:
        """Record an access to patient data in this transaction."""
        self.audit_records.append(
            self._audit_log.build(
                principal, action, resource, resource_id, patient=patient, unit_id=unit_id, reason=reason
            )
        )


def outbox_document(record: EventRecord, seq: int) -> dict[str, Any]:
    """The stored form of an event waiting to be relayed."""
    return {
        "_id": record.id,
        "seq": seq,
        "ce_type": record.ce_type,
        "source": record.source,
        "topic": record.topic,
        "key": record.key,
        "time": record.time,
        "data": record.data,
        "trace": record.trace,
    }


class MongoUnitOfWork:
    """Runs handler code in a MongoDB transaction, retried on transient transaction errors."""

    def __init__(
        self,
        client: AsyncMongoClient[dict[str, Any]],
        db: AsyncDatabase[dict[str, Any]],
        *,
        clock: Clock,
        source: str,
        audit_log: AuditLog,
    ) -> None:
        self.client = client
        self.db = db
        self.clock = clock
        self.source = source
        self.audit_log = audit_log
        self.committed = asyncio.Event()
        """Set after every commit that wrote events: wakes the outbox relay."""

    async def run(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        """Run `work` in a transaction; its events and audit records commit with it."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_transient_transaction_error),
            stop=stop_after_attempt(12),
            wait=wait_random_exponential(multiplier=0.02, max=1.0),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                result, wrote_events = await self._run_once(work)
        if wrote_events:
            self.committed.set()
        return result

    async def _run_once(self, work: Callable[[Transaction], Awaitable[T]]) -> tuple[T, bool]:
        async with self.client.start_session() as session:
            await session.start_transaction()
            try:
                tx = MongoTransaction(self.db, session, self.clock, self.source, self.audit_log)
                result = await work(tx)
                await self._write_outbox(tx, session)
                await self.audit_log.write(tx.audit_records, session=session)
            except BaseException:
                if session.in_transaction:
                    await session.abort_transaction()
                raise
            await commit(session)
        return result, bool(tx.events)

    async def _write_outbox(self, tx: MongoTransaction, session: AsyncClientSession) -> None:
        if not tx.events:
            return
        base = time.time_ns() // 1000 * 1000  # relay order: commit order, then order within the commit
        documents = [outbox_document(record, seq=base + i) for i, record in enumerate(tx.events)]
        await self.db[OUTBOX_COLLECTION].insert_many(documents, session=session)


async def commit(session: AsyncClientSession) -> None:
    """Commit, sending the commit again while its outcome is unknown (a lost acknowledgement, a
    failover): commitTransaction is idempotent, whereas running the work again would apply the change
    and publish its events (under new ids) a second time if the first commit had in fact succeeded."""
    for attempt in range(1, COMMIT_ATTEMPTS + 1):
        try:
            await session.commit_transaction()
            return
        except PyMongoError as exc:
            if attempt == COMMIT_ATTEMPTS or not exc.has_error_label("UnknownTransactionCommitResult"):
                raise
            await asyncio.sleep(min(0.02 * 2**attempt, 1.0))
