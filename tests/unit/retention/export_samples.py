"""Export parts as the five services send them (the shapes of their own models, as JSON), with Swedish
text, and characters no PDF core font has (which must not break anything)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shared.contracts.export import (
    AuditSummary,
    ConversationPart,
    FormResponsePart,
    FormsPart,
    HandoverPart,
    MessagePart,
    MessagingPart,
    NotificationPart,
    NotificationsPart,
    PlanModulePart,
    PlanPart,
)
from tests.unit.retention.fakes import NOW, PNR, UNIT

PATIENT_NAME = "Åberg, Örjan"
STEP_TEXT = "Sömn är viktigt för hälsan."
MESSAGE = "Hej! Jag sover dåligt och känner mig trött – vad ska jag göra? 😴"
REPLY = "Vi ringer dig i morgon förmiddag."
ANSWER_TEXT = "Svårt att somna på kvällen"
RESULT = {
    "result_id": "isi-total",
    "title": "ISI totalpoäng",
    "value": 17.0,
    "scorable": True,
    "label": "Måttlig sömnlöshet",
    "explanation": "15–21 poäng",
    "flag": True,
    "rule_version": 2,
    "visible_to_patient": False,
}
STAFF = "SE2321000016-T1"


def at(days: int) -> str:
    """ISO text of a moment `days` from NOW (parts carry their times as JSON does)."""
    return (NOW + timedelta(days=days)).isoformat()


def answer(question_id: str, text: str, value: Any, shown: str) -> dict[str, Any]:
    return {"question_id": question_id, "text": text, "answer": value, "answer_text": shown}


def step(step_id: str, title: str, text: str) -> dict[str, Any]:
    return {
        "id": step_id,
        "section_id": "intro",
        "section_title": "Introduktion",
        "title": title,
        "text": text,
        "links": [],
        "media": [],
        "form_ref": None,
    }


def plan_part() -> PlanPart:
    return PlanPart(
        program_id="somnhjalpen",
        program_version="2025.1",
        program_title="Sömnhjälpen",
        unit_id=UNIT,
        patient_personnummer=PNR,
        patient_name=PATIENT_NAME,
        started_at=NOW - timedelta(days=100),
        ended_at=NOW - timedelta(days=1),
        end_reason="completed",
        welcome_text="Välkommen till Sömnhjälpen! Här får du stöd för bättre sömn.",
        modules=[
            PlanModulePart(
                module_id="m1",
                title="Sömnvanor",
                state="completed",
                state_changed_at=NOW - timedelta(days=40),
                visible_steps=[step("s1", "Läs om sömn", STEP_TEXT)],
            ),
            PlanModulePart(module_id="m2", title="Avslappning", state="upcoming"),
        ],
        contacts=[
            {
                "id": "k1",
                "name": "Märta Söderström",
                "role_title": "Sjuksköterska",
                "phone": "08-123 45 67",
                "responsible": True,
                "created_by": STAFF,
                "created_at": at(-99),
            }
        ],
        planning=[
            {
                "id": "pl1",
                "text": "Återbesök på mottagningen",
                "exact_date": "2026-02-20",
                "created_by": STAFF,
                "created_by_name": "Märta Söderström",
                "created_by_kind": "staff",
                "created_at": at(-90),
            }
        ],
        page_comments=[
            {
                "id": "pc1",
                "page_id": "m1",
                "text": "Läs gärna igen.",
                "created_by": STAFF,
                "created_by_name": "Märta Söderström",
                "created_at": at(-50),
            }
        ],
        audit=AuditSummary(
            counts={"read plan": 12, "update plan.contacts": 3}, first_at=NOW - timedelta(100), last_at=NOW
        ),
        responsible_hsa_id=STAFF,
        started_by=STAFF,
        ended_by={"kind": "staff", "hsa_id": STAFF, "name": "Märta Söderström"},
    )


def messaging_part() -> MessagingPart:
    return MessagingPart(
        conversations=[
            ConversationPart(
                conversation_id="c1",
                subject="Fråga om sömn",
                started_at=NOW - timedelta(days=20),
                messages=[
                    MessagePart(author_kind="patient", sent_at=NOW - timedelta(days=20), text=MESSAGE),
                    MessagePart(
                        author_kind="staff",
                        author_hsa_id=STAFF,
                        author_name="Märta Söderström",
                        sent_at=NOW - timedelta(days=19),
                        text=REPLY,
                    ),
                ],
            )
        ],
        audit=AuditSummary(counts={"read conversation": 4}),
    )


def forms_part() -> FormsPart:
    return FormsPart(
        responses=[
            FormResponsePart(
                response_id="r1",
                form_id="isi",
                form_title="Insomnia Severity Index",
                form_version=3,
                submitted_at=NOW - timedelta(days=30),
                answers=[
                    answer("q1", ANSWER_TEXT, 3, "3"),
                    answer("q2", "Hur nöjd är du med din sömn?", "dissatisfied", "Ganska missnöjd"),
                    answer("q3", "Vilka dagar?", ["mon", "tue"], "måndag, tisdag"),
                    answer("q4", "Timmar sömn per natt", 5.5, "5.5 timmar"),
                    answer("q5", "Frivilligt", None, ""),
                ],
                result=RESULT,
                results=[RESULT],
            )
        ],
        activity_plans=[
            {
                "id": "a1",
                "title": "Promenader",
                "instructions": "Gå en promenad i dagsljus.",
                "schedule": [{"weekday": "mon", "time": "08:00"}],
                "start_date": "2026-01-05",
                "measurements": [{"id": "min", "title": "Minuter", "unit": "min"}],
            }
        ],
        registrations=[
            {
                "id": "reg1",
                "activity_plan_id": "a1",
                "occasion": at(-5),
                "skipped": False,
                "values": {"min": 30.0},
                "comment": "Skönt väder",
                "registered_at": at(-5),
            },
            {"id": "reg2", "activity_plan_id": "a1", "occasion": at(-4), "skipped": True, "registered_at": at(-4)},
        ],
        flags=[{"id": "f1", "kind": "result", "label": "Hög ISI-poäng", "raised_at": at(-30), "handled_at": at(-29)}],
        batteries=[
            {"id": "b1", "name": "Uppföljning", "form_ids": ["isi"], "trigger": "plan_start", "created_at": at(-100)}
        ],
        audit=AuditSummary(counts={"submit response": 1}),
    )


def notifications_part() -> NotificationsPart:
    return NotificationsPart(
        notifications=[
            NotificationPart(
                trigger_kind="new_message",
                channel="email",
                state="sent",
                created_at=NOW - timedelta(days=19),
                sent_at=NOW - timedelta(days=19),
                recipient_kind="patient",
                attempts=1,
            ),
            NotificationPart(trigger_kind="plan_ended", channel="sms", state="failed", created_at=NOW),
        ]
    )


def handover_part() -> HandoverPart:
    return HandoverPart(handovers=[{"from_unit_id": "SE2321000016-OLD1", "to_unit_id": UNIT, "completed_at": at(-60)}])


def all_parts() -> dict[str, dict[str, Any]]:
    """Each service's part as JSON content (what an `export_part` event carries)."""
    return {
        "plans": plan_part().model_dump(mode="json"),
        "messaging": messaging_part().model_dump(mode="json"),
        "forms": forms_part().model_dump(mode="json"),
        "notifications": notifications_part().model_dump(mode="json"),
        "handover": handover_part().model_dump(mode="json"),
    }
