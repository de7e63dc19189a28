"""The plans service's part of a plan's export for the journal: what the care team wrote on the plan,
as the patient saw it, for an ended plan; nothing for a request naming other services or an unknown plan."""

from __future__ import annotations

from datetime import UTC, date, datetime

from launcher.consumer_groups import service_consumer_groups
from services.plans.domain import commands
from services.plans.domain.plan import ModuleState
from services.plans.service_layer.export import PlanExport
from shared.contracts import plans as events
from shared.contracts.export import PlanPart
from shared.contracts.retention import RETENTION_TOPIC, ExportRequested, PurgeRequested
from tests.unit.plans.conftest import PATIENT, PNR, THERAPIST, UNIT, World

ASKED_AT = datetime(2026, 6, 1, tzinfo=UTC)


def request(plan_id: str, services: tuple[str, ...] = ("plans", "messaging"), attempt: int = 1) -> ExportRequested:
    return ExportRequested(
        plan_id=plan_id, export_id="export-1", requested_at=ASKED_AT, attempt=attempt, services=list(services)
    )


async def export(world: World, asked: ExportRequested) -> list[events.ExportPart]:
    before = len(world.uow.events_of(events.ExportPart))
    handler = PlanExport(world.service.lifecycle.access, world.uow.audit_log)
    await world.uow.run(lambda tx: handler.on_export_requested(asked, None, tx))
    return world.uow.events_of(events.ExportPart)[before:]


async def written_and_ended_plan(world: World) -> str:
    plan = await world.start()
    editing = world.service.editing
    await editing.set_welcome_text(plan.id, commands.SetWelcomeText(text="Välkommen Pia, här är din plan."), THERAPIST)
    await editing.add_contact(
        plan.id, commands.AddContact(name="Karin Kontakt", role_title="Sjuksköterska", phone="010-123 45 67"), THERAPIST
    )
    await editing.add_planning(
        plan.id, commands.AddPlanningEntry(text="Strålbehandling börjar", exact_date=date(2026, 4, 1)), THERAPIST
    )
    await editing.add_planning(
        plan.id,
        commands.AddPlanningEntry(text="Mitt eget mål", approximate="början av maj", month="2026-05"),
        PATIENT,
    )
    await editing.add_comment(plan.id, commands.AddPageComment(page_id="s-intro", text="Läs detta först."), THERAPIST)
    await editing.set_module_state(plan.id, "treatment", commands.SetModuleState(state=ModuleState.CURRENT), THERAPIST)
    await world.service.lifecycle.end_plan(plan.id, commands.EndPlan(reason="completed"), THERAPIST)
    return plan.id


async def test_an_ended_plan_is_exported_with_everything_written_on_it(world: World) -> None:
    plan_id = await written_and_ended_plan(world)

    [answer] = await export(world, request(plan_id))

    assert (answer.plan_id, answer.export_id, answer.service) == (plan_id, "export-1", "plans")
    part = PlanPart.model_validate(answer.content)
    assert (part.patient_personnummer, part.patient_name, part.unit_id) == (PNR, "Patient, Pia", UNIT)
    assert (part.program_id, part.program_version, part.program_title) == ("prog", "1.0", "Programmet")
    assert part.end_reason == "completed" and part.ended_at is not None and part.ended_by is not None
    assert part.ended_by["hsa_id"] == THERAPIST.hsa_id and part.started_by == THERAPIST.hsa_id
    assert part.welcome_text == "Välkommen Pia, här är din plan."
    assert [(c["name"], c["role_title"], c["phone"]) for c in part.contacts] == [
        ("Karin Kontakt", "Sjuksköterska", "010-123 45 67")
    ]
    assert [(e["text"], e["created_by_kind"]) for e in part.planning] == [
        ("Strålbehandling börjar", "staff"),
        ("Mitt eget mål", "patient"),
    ]
    assert [(c["page_id"], c["text"]) for c in part.page_comments] == [("s-intro", "Läs detta först.")]


async def test_the_modules_hold_their_states_and_only_the_visible_steps(world: World) -> None:
    plan_id = await written_and_ended_plan(world)

    [answer] = await export(world, request(plan_id))

    modules = PlanPart.model_validate(answer.content).modules
    assert [(m.module_id, m.title, m.state) for m in modules] == [
        ("intro", "Introduktion", "current"),
        ("treatment", "Behandling", "current"),
    ]
    assert [(s["id"], s["section_title"], s["form_ref"]) for s in modules[0].visible_steps] == [
        ("welcome", "Om dig", "what-matters")
    ]  # the hidden step "later" is not there


async def test_the_part_summarises_the_plans_audit_trail_and_the_export_is_audited(world: World) -> None:
    plan_id = await written_and_ended_plan(world)
    await world.service.reads.staff_view(plan_id, THERAPIST)

    [answer] = await export(world, request(plan_id))

    audit = PlanPart.model_validate(answer.content).audit
    assert audit.counts["create plan"] == 1 and audit.counts["read plan"] == 1
    assert audit.counts["update plan"] == 1 and audit.counts["update plan.contacts"] == 1
    assert audit.first_at is not None and audit.last_at is not None and audit.first_at <= audit.last_at
    exported = world.uow.audit_log.records[-1]
    assert (exported.action, exported.resource, exported.resource_id) == ("export", "plan", plan_id)
    assert (exported.actor_kind, exported.patient_ref, exported.unit_id) == ("system", PNR, UNIT)
    assert "Pia" not in str(audit.model_dump())  # counts and times only


async def test_a_request_not_naming_plans_publishes_nothing(world: World) -> None:
    plan_id = await written_and_ended_plan(world)
    assert await export(world, request(plan_id, services=("messaging", "forms"), attempt=2)) == []


async def test_a_plan_unknown_here_is_not_exported(world: World) -> None:
    assert await export(world, request("no-such-plan")) == []
    assert not [r for r in world.uow.audit_log.records if r.action == "export"]


async def test_a_repeated_request_answers_with_the_same_content(world: World) -> None:
    plan_id = await written_and_ended_plan(world)
    [first] = await export(world, request(plan_id))
    [second] = await export(world, request(plan_id, services=("plans",), attempt=2))
    without_audit = [{k: v for k, v in a.content.items() if k != "audit"} for a in (first, second)]
    assert without_audit[0] == without_audit[1]


def test_export_requests_are_read_by_the_consumer_of_purge_requests() -> None:
    """One consumer group reads both in the topic's order: a plan's export is answered before its purge."""
    [group] = [g for g in service_consumer_groups("plans") if PurgeRequested.ce_type in g.ce_types]
    assert group.topics == (RETENTION_TOPIC.name,) and ExportRequested.ce_type in group.ce_types
