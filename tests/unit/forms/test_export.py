"""The forms service's part of a plan's export for the journal: the patient's answers with the
questions asked, results with their rule versions, flags, activity plans and registrations, for an
ended plan; an empty part for a plan without any; nothing for a request naming other services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from launcher.consumer_groups import service_consumer_groups
from services.forms.domain.activity import STOCKHOLM, ActivityPlanSpec, RegistrationInput
from services.forms.domain.model import Response
from services.forms.service_layer.export import FormsExport
from shared.contracts import forms as events
from shared.contracts.export import FormsPart
from shared.contracts.retention import RETENTION_TOPIC, ExportRequested, PurgeRequested
from tests.unit.forms.conftest import THERAPIST, UNIT, World
from tests.unit.forms.fakes import InMemoryResponseStore

MONDAY_EVENING = datetime(2026, 11, 23, 18, 0, tzinfo=STOCKHOLM)  # the world starts at 10:00 that day
WALKING = ActivityPlanSpec.model_validate(
    {
        "title": "Promenad",
        "start_date": "2026-11-23",
        "allow_comments": True,
        "schedule": [{"weekday": "mon", "time": "18:00"}],
        "measurements": [{"id": "distance", "title": "Sträcka", "unit": "km", "min_target": 2}],
    }
)


class FakePlanResponses:
    """Every response of a plan, over the in-memory response store."""

    def __init__(self, store: Any) -> None:
        assert isinstance(store, InMemoryResponseStore)
        self.store = store

    async def of_plan(self, plan_id: str, session: Any = None) -> list[Response]:
        return [r.model_copy(deep=True) for r in self.store.items.values() if r.plan_id == plan_id]


def request(plan_id: str, services: tuple[str, ...] = ("forms", "notifications")) -> ExportRequested:
    return ExportRequested(
        plan_id=plan_id, export_id="export-7", requested_at=datetime(2027, 1, 1, tzinfo=UTC), services=list(services)
    )


async def export(world: World, asked: ExportRequested) -> list[events.ExportPart]:
    handler = FormsExport(world.stores, FakePlanResponses(world.stores.responses), world.uow.audit_log)
    before = len(world.events(events.ExportPart))
    await world.uow.run(lambda tx: handler.on_export_requested(asked, None, tx))
    return world.events(events.ExportPart)[before:]


async def answered_and_ended_plan(world: World) -> tuple[str, str]:
    plan_id, patient = await world.start_plan(refs=("distress_thermometer",))
    answers = world.service.responses
    await answers.respond(
        plan_id, "what_matters_to_me", {"answer": "Att orka leka med barnbarnen"}, draft=False, by=patient
    )
    await answers.respond(plan_id, "distress_thermometer", {"distress": 7}, draft=False, by=patient)
    activity = await world.service.activities.save(plan_id, WALKING, THERAPIST)
    world.clock.set(MONDAY_EVENING + timedelta(hours=1))
    entry = RegistrationInput(occasion=MONDAY_EVENING.astimezone(UTC), values={"distance": 3.5}, comment="Skönt!")
    await world.service.activities.register(plan_id, activity.id, entry, patient)
    await world.end_plan(plan_id)
    return plan_id, patient.personnummer


async def test_the_patients_answers_are_exported_with_the_questions_and_results(world: World) -> None:
    plan_id, _ = await answered_and_ended_plan(world)

    [answer] = await export(world, request(plan_id))

    assert (answer.plan_id, answer.export_id, answer.service) == (plan_id, "export-7", "forms")
    part = FormsPart.model_validate(answer.content)
    what_matters, distress = part.responses
    assert (what_matters.form_id, what_matters.form_title) == ("what_matters_to_me", "Vad är viktigt för mig?")
    assert [(a["question_id"], a["text"], a["answer"]) for a in what_matters.answers] == [
        ("answer", "Viktigt för mig är att...", "Att orka leka med barnbarnen")
    ]
    assert (distress.form_id, distress.form_version, distress.answers[0]["answer"]) == ("distress_thermometer", 1, 7)
    assert distress.result is not None and distress.results == [distress.result]
    assert (distress.result["value"], distress.result["label"], distress.result["flag"]) == (7, "Förhöjd", True)
    assert distress.result["rule_version"] == 1


async def test_flags_activity_plans_and_registrations_are_exported(world: World) -> None:
    plan_id, _ = await answered_and_ended_plan(world)

    [answer] = await export(world, request(plan_id))

    part = FormsPart.model_validate(answer.content)
    assert "what_matters" in {f["kind"] for f in part.flags}
    [activity] = part.activity_plans
    assert (activity["title"], activity["measurements"][0]["id"]) == ("Promenad", "distance")
    [registration] = part.registrations
    assert (registration["values"], registration["comment"]) == ({"distance": 3.5}, "Skönt!")


async def test_the_part_summarises_the_audit_trail_and_the_export_is_audited(world: World) -> None:
    plan_id, personnummer = await answered_and_ended_plan(world)

    [answer] = await export(world, request(plan_id))

    counts = FormsPart.model_validate(answer.content).audit.counts
    assert counts["create form_response.distress_thermometer"] == 1
    assert counts["create activity_plan"] == 1 and counts["create activity_registration"] == 1
    exported = world.uow.audit_log.records[-1]
    assert (exported.action, exported.resource_id, exported.actor_kind) == ("export", plan_id, "system")
    assert (exported.patient_ref, exported.unit_id) == (personnummer, UNIT)


async def test_a_draft_is_not_part_of_the_export(world: World) -> None:
    plan_id, patient = await world.start_plan(refs=("phq_9",))
    await world.service.responses.respond(plan_id, "phq_9", {"q1": "2"}, draft=True, by=patient)

    [answer] = await export(world, request(plan_id))

    assert FormsPart.model_validate(answer.content).responses == []


async def test_a_plan_without_forms_data_gets_an_empty_part(world: World) -> None:
    [answer] = await export(world, request("a-plan-never-heard-of"))
    assert FormsPart.model_validate(answer.content) == FormsPart()


async def test_a_request_not_naming_forms_publishes_nothing(world: World) -> None:
    plan_id, _ = await answered_and_ended_plan(world)
    assert await export(world, request(plan_id, services=("plans", "messaging"))) == []


def test_export_requests_are_read_by_the_consumer_of_purge_requests() -> None:
    """One consumer group reads both in the topic's order: a plan's export is answered before its purge."""
    [group] = [g for g in service_consumer_groups("forms") if PurgeRequested.ce_type in g.ce_types]
    assert group.topics == (RETENTION_TOPIC.name,) and ExportRequested.ce_type in group.ce_types
