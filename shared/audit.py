"""The audit log: who read or changed which patient's data, when, at which unit, and why.

Records carry no health information and no identity in clear: the patient is a keyed pseudonym
(the same pepper recomputes it to answer "show me everything about this patient").
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from shared.clock import Clock
from shared.kernel.identity import pseudonym
from shared.kernel.principals import Patient, Principal, Staff

AUDIT_COLLECTION = "audit"
ABOUT_CHUNK = 100
"""Resource ids per query when reading the records about a plan (large `$in` lists are slow)."""


class AuditRecord(BaseModel):
    """One audited access; safe to keep after the plan's content is purged."""

    at: datetime
    service: str
    action: Literal["read", "create", "update", "delete", "export", "purge"]
    resource: str = Field(description="What was touched, e.g. 'plan', 'plan.contacts' (no content).")
    resource_id: str
    patient_ref: str | None = Field(description="Keyed pseudonym of the patient's personnummer.")
    unit_id: str | None
    actor_kind: Literal["staff", "patient", "system"]
    actor_ref: str = Field(description="Staff HSA-id, a patient pseudonym, or the service name.")
    reason: str = ""


def build_record(
    principal: Principal | None,
    action: str,
    resource: str,
    resource_id: str,
    *,
    patient: str | None,
    unit_id: str | None,
    reason: str,
    service: str,
    at: datetime,
    patient_ref: Callable[[str], str],
) -> AuditRecord:
    """A record of `principal` doing `action`; patients appear only as `patient_ref` of their number."""
    if isinstance(principal, Staff):
        actor_kind, actor_ref, unit_id = "staff", principal.hsa_id, unit_id or principal.unit_id
    elif isinstance(principal, Patient):
        actor_kind, actor_ref = "patient", patient_ref(principal.personnummer)
    else:
        actor_kind, actor_ref = "system", service
    return AuditRecord(
        at=at,
        service=service,
        action=action,
        resource=resource,
        resource_id=resource_id,
        patient_ref=patient_ref(patient) if patient else None,
        unit_id=unit_id,
        actor_kind=actor_kind,
        actor_ref=actor_ref,
        reason=reason,
    )


class AuditReader(Protocol):
    """Reads back the records about a plan: those whose `resource_id` is the plan's id or the id of
    something in it (a conversation, a response…), optionally only those about one patient."""

    async def about(
        self, resource_ids: Collection[str], *, patient: str | None = None, session: Any = None
    ) -> list[AuditRecord]: ...


class AuditLog:
    """Builds, stores and queries audit records of one service."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], *, service: str, pepper: str, clock: Clock) -> None:
        self._collection = db[AUDIT_COLLECTION]
        self._service = service
        self._pepper = pepper
        self._clock = clock

    async def ensure_indexes(self) -> None:
        await self._collection.create_index([("patient_ref", ASCENDING), ("unit_id", ASCENDING), ("at", DESCENDING)])
        await self._collection.create_index([("resource_id", ASCENDING), ("at", DESCENDING)])

    def patient_ref(self, personnummer: str) -> str:
        return pseudonym(personnummer, self._pepper)

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
    ) -> AuditRecord:
        """A record of `principal` doing `action` (None means the system itself)."""
        return build_record(
            principal,
            action,
            resource,
            resource_id,
            patient=patient,
            unit_id=unit_id,
            reason=reason,
            service=self._service,
            at=self._clock.now(),
            patient_ref=self.patient_ref,
        )

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
    ) -> None:
        """Build and store one record at once (reads; changes are audited inside their transaction)."""
        await self.write(
            [self.build(principal, action, resource, resource_id, patient=patient, unit_id=unit_id, reason=reason)]
        )

    async def write(self, records: list[AuditRecord], session: AsyncClientSession | None = None) -> None:
        if records:
            await self._collection.insert_many([r.model_dump() for r in records], session=session)

    async def for_patient(self, personnummer: str, unit_id: str, limit: int = 500) -> list[AuditRecord]:
        """The newest records about one patient at one unit."""
        query = {"patient_ref": self.patient_ref(personnummer), "unit_id": unit_id}
        cursor = self._collection.find(query, {"_id": 0})
        return [AuditRecord(**doc) async for doc in cursor.sort("at", DESCENDING).limit(limit)]

    async def about(
        self, resource_ids: Collection[str], *, patient: str | None = None, session: Any = None
    ) -> list[AuditRecord]:
        """The records about these resources (the `resource_id` index), oldest first; only those about
        `patient` when given (an announcement's trigger id is shared by many patients)."""
        ids = sorted(set(resource_ids))
        found: list[AuditRecord] = []
        for start in range(0, len(ids), ABOUT_CHUNK):
            query: dict[str, Any] = {"resource_id": {"$in": ids[start : start + ABOUT_CHUNK]}}
            if patient is not None:
                query["patient_ref"] = self.patient_ref(patient)
            found += [AuditRecord(**doc) async for doc in self._collection.find(query, {"_id": 0}, session=session)]
        return sorted(found, key=lambda r: r.at)
