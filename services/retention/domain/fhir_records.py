"""The plan's records as FHIR R4 resources for the export's Bundle: messages and notifications as
Communication, handovers as Provenance and each service's audit summary as an AuditEvent (the forms
service's records are in `fhir_forms`). Each function returns resources keyed by a local name (the
Bundle gives each one a `urn:uuid` from it)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from services.retention.domain.export_fields import first, iso_time, summary, text_of, time_of
from shared.contracts.export import (
    AuditSummary,
    ConversationPart,
    NotificationPart,
)

HSA_SYSTEM = "urn:oid:1.2.752.129.2.1.4.1"
PATIENT_RECORD = {
    "system": "http://dicom.nema.org/resources/ontology/DCM",
    "code": "110110",
    "display": "Patient Record",
}
Resource = dict[str, Any]
Entries = list[tuple[str, Resource]]
_NOTIFICATION_STATUS = {
    "queued": "preparation",
    "sending": "in-progress",
    "deferred": "on-hold",
    "sent": "completed",
    "failed": "not-done",
}


class Refs:
    """Stable `urn:uuid` references within one export's Bundle (the same export renders the same)."""

    def __init__(self, export_id: str) -> None:
        self._namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:careplan:export:{export_id}")

    def url(self, local: str) -> str:
        return f"urn:uuid:{uuid.uuid5(self._namespace, local)}"

    def to(self, local: str) -> dict[str, str]:
        return {"reference": self.url(local)}


def iso(moment: datetime) -> str:
    return iso_time(moment) or moment.isoformat()


def _staff(hsa_id: str | None, display: str = "") -> dict[str, Any]:
    reference: dict[str, Any] = {"display": display or "Personal"}
    if hsa_id:
        reference["identifier"] = {"system": HSA_SYSTEM, "value": hsa_id}
    return reference


def communications(conversations: list[ConversationPart], refs: Refs, unit_id: str) -> Entries:
    """One Communication per message, answering the one before it in its conversation."""
    entries: Entries = []
    for conversation in conversations:
        previous: str | None = None
        for n, message in enumerate(conversation.messages, start=1):
            local = f"message/{conversation.conversation_id}/{n}"
            by_patient = message.author_kind == "patient"
            resource: Resource = {
                "resourceType": "Communication",
                "identifier": [{"system": "urn:careplan:conversation", "value": f"{conversation.conversation_id}/{n}"}],
                "basedOn": [refs.to("careplan")],
                "status": "completed",
                "category": [{"text": "Meddelande"}],
                "subject": refs.to("patient"),
                "topic": {"text": conversation.subject or "Meddelande"},
                "sent": iso(message.sent_at),
                "sender": refs.to("patient") if by_patient else _staff(message.author_hsa_id, message.author_name),
                "recipient": [_staff(unit_id, "Vårdenheten")] if by_patient else [refs.to("patient")],
                "payload": [{"contentString": message.text}],
            }
            if previous:
                resource["inResponseTo"] = [refs.to(previous)]
            if conversation.deleted_at:
                resource["note"] = [{"text": "Konversationen doldes av personal", "time": iso(conversation.deleted_at)}]
            entries.append((local, resource))
            previous = local
    return entries


def notifications(items: list[NotificationPart], refs: Refs) -> Entries:
    """What was sent when and how (the kind and the channel, never an address)."""
    entries: Entries = []
    for n, item in enumerate(items, start=1):
        resource: Resource = {
            "resourceType": "Communication",
            "basedOn": [refs.to("careplan")],
            "status": _NOTIFICATION_STATUS.get(item.state, "unknown"),
            "category": [{"text": "Avisering"}],
            "medium": [{"text": item.channel}],
            "subject": refs.to("patient"),
            "payload": [{"contentString": f"Avisering: {item.trigger_kind} ({item.state})"}],
        }
        if item.sent_at:
            resource["sent"] = iso(item.sent_at)
        entries.append((f"notification/{n}", resource))
    return entries


def handovers(items: list[dict[str, Any]], refs: Refs, fallback: datetime) -> Entries:
    """Each handover between units as a Provenance of the plan (who held it, who took over, when)."""
    entries: Entries = []
    for n, handover in enumerate(items, start=1):
        agents = [
            {"type": {"text": role}, "who": _staff(text_of(unit), "Vårdenhet")}
            for role, unit in (
                ("Lämnande enhet", first(handover, "from_unit_id", "from_unit", "source_unit_id")),
                ("Mottagande enhet", first(handover, "to_unit_id", "to_unit", "target_unit_id")),
            )
            if unit
        ]
        provenance: Resource = {
            "resourceType": "Provenance",
            "target": [refs.to("careplan")],
            "recorded": time_of(handover) or iso(fallback),
            "activity": {"text": f"Överlämning: {summary(handover)}" if handover else "Överlämning"},
            "agent": agents or [{"who": {"display": "okänd enhet"}}],
        }
        entries.append((f"handover/{n}", provenance))
    return entries


def audit_events(summaries: dict[str, AuditSummary], refs: Refs, fallback: datetime) -> Entries:
    """Each service's audit summary: how often the plan was read or changed, by action (no identities)."""
    entries: Entries = []
    for service, audit in summaries.items():
        event: Resource = {
            "resourceType": "AuditEvent",
            "type": {
                "system": "http://dicom.nema.org/resources/ontology/DCM",
                "code": "110110",
                "display": "Patient Record",
            },
            "recorded": iso(audit.last_at or fallback),
            "agent": [{"requestor": False, "who": {"display": f"careplan {service}"}}],
            "source": {"observer": {"display": f"careplan {service}"}},
            "entity": [
                {
                    "what": refs.to("careplan"),
                    "description": f"Sammanfattning av loggen i {service}",
                    "detail": [{"type": k, "valueString": str(v)} for k, v in sorted(audit.counts.items())],
                }
            ],
        }
        if audit.first_at and audit.last_at:
            event["period"] = {"start": iso(audit.first_at), "end": iso(audit.last_at)}
        entries.append((f"audit/{service}", event))
    return entries
