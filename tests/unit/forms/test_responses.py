"""Answering forms: drafts, submissions (scored, flagged, counted), re-scoring, a response as FHIR."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from shared.contracts import forms as events
from shared.kernel.errors import Conflict, Invalid, NotFound
from shared.kernel.principals import Patient
from tests.conftest import new_personnummer
from tests.unit.forms.conftest import DESIGNER, STRANGER, THERAPIST, World
from tests.unit.test_form_scoring import instrument


async def test_a_submission_is_scored_published_and_audited(world: World) -> None:
    plan_id, patient = await world.start_plan(refs=("distress_thermometer",))
    response = await world.service.responses.respond(
        plan_id, "distress_thermometer", {"distress": 3}, draft=False, by=patient
    )
    assert response.status == "submitted" and response.submitted_at == world.clock.now()
    assert [(r.result_id, r.value, r.label, r.flag) for r in response.results] == [("distress", 3, "Låg", False)]
    [submitted] = world.events(events.FormSubmitted)
    assert (submitted.response_id, submitted.form_id, submitted.form_version) == (
        response.id,
        "distress_thermometer",
        1,
    )
    assert world.uow.audit_log.actions()[-1] == ("create", "form_response.distress_thermometer", response.id)
    assert await world.stores.responses.get(response.id) == response


async def test_a_draft_may_leave_questions_out_and_is_neither_scored_nor_published(world: World) -> None:
    plan_id, patient = await world.start_plan(refs=("phq_9",))
    draft = await world.service.responses.respond(plan_id, "phq_9", {"q1": "2"}, draft=True, by=patient)
    assert (draft.status, draft.results, draft.submitted_at) == ("draft", [], None)
    assert world.events(events.FormSubmitted) == []
    with pytest.raises(Invalid, match="is required"):
        await world.service.responses.respond(plan_id, "phq_9", {"q1": "2"}, draft=False, by=patient)


async def test_a_form_nothing_opened_is_refused(world: World) -> None:
    plan_id, patient = await world.start_plan(refs=("gad_7",))
    with pytest.raises(Conflict, match="not open") as refused:
        await world.service.responses.respond(plan_id, "phq_9", {}, draft=True, by=patient)
    assert refused.value.field == "form_id"
    assert world.stores.responses.items == {}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "answers, field, rule",
    [
        ({"distress": 11}, "distress", "above the maximum"),
        ({"distress": 1, "mood": 2}, "mood", "not a question"),
        ({"distress": [3]}, "distress", "must be a number"),
    ],
)
async def test_bad_answers_are_refused_naming_the_question(
    world: World, answers: dict[str, Any], field: str, rule: str
) -> None:
    plan_id, patient = await world.start_plan(refs=("distress_thermometer",))
    with pytest.raises(Invalid, match=rule) as refused:
        await world.service.responses.respond(plan_id, "distress_thermometer", answers, draft=False, by=patient)
    assert refused.value.field == field
    assert world.uow.published == []


@pytest.mark.parametrize("answer", [["1"], {"value": "1"}, ["1", "2"], 1, None])
async def test_a_choice_answered_with_a_list_or_an_object_is_invalid_not_a_crash(world: World, answer: Any) -> None:
    """Issue 13: `TypeError: unhashable type` (a 500) for lists and objects; now a 422 naming the question."""
    plan_id, patient = await world.start_plan(refs=("phq_9",))
    answers = {f"q{n}": "0" for n in range(1, 10)} | {"q3": answer}
    with pytest.raises(Invalid) as refused:
        await world.service.responses.respond(plan_id, "phq_9", answers, draft=False, by=patient)
    assert refused.value.field == "q3" and "q3" in refused.value.message


async def test_an_unknown_form_is_not_found(world: World) -> None:
    plan_id, patient = await world.start_plan()
    with pytest.raises(NotFound, match="no form 'rcads_25'"):
        await world.service.responses.respond(plan_id, "rcads_25", {}, draft=True, by=patient)


async def test_only_the_plans_own_patient_may_answer(world: World) -> None:
    plan_id, _ = await world.start_plan(refs=("distress_thermometer",))
    other = Patient(personnummer=new_personnummer())
    with pytest.raises(NotFound, match="no such plan"):
        await world.service.responses.respond(plan_id, "distress_thermometer", {"distress": 1}, draft=False, by=other)


async def test_a_result_in_a_flagging_interval_raises_a_flag(world: World) -> None:
    plan_id, patient = await world.start_plan(refs=("distress_thermometer",))
    response = await world.service.responses.respond(
        plan_id, "distress_thermometer", {"distress": 7}, draft=False, by=patient
    )
    [flag] = await world.service.flags.of_plan(plan_id, THERAPIST)
    assert (flag.kind, flag.response_id, flag.label) == ("result", response.id, "Förhöjd")
    assert [e.flag_id for e in world.events(events.FlagRaised)] == [flag.id]
    assert [(e.result_id, e.label) for e in world.events(events.ResultFlagged)] == [("distress", "Förhöjd")]


async def test_what_matters_is_always_open_goes_to_the_journal_and_flags_the_unit(world: World) -> None:
    plan_id, patient = await world.start_plan()
    answer = {"answer": "Att kunna fortsätta arbeta."}
    response = await world.service.responses.respond(plan_id, "what_matters_to_me", answer, draft=False, by=patient)
    [journal] = world.events(events.WhatMattersAnswered)
    assert (journal.response_id, journal.answer) == (response.id, "Att kunna fortsätta arbeta.")
    assert [f.kind for f in await world.service.flags.of_plan(plan_id, THERAPIST)] == ["what_matters"]


async def test_an_answer_is_activity(world: World) -> None:
    plan_id, patient = await world.start_plan(refs=("distress_thermometer",))
    await world.pass_time(days=1)
    await world.service.responses.respond(plan_id, "distress_thermometer", {"distress": 1}, draft=True, by=patient)
    assert (await world.plan_forms(plan_id)).last_activity_at == world.clock.now()


async def test_rescoring_applies_the_latest_rules_to_submissions_and_is_audited(world: World) -> None:
    plan_id, patient = await world.start_plan(refs=("distress_thermometer",))
    first = await world.service.responses.respond(
        plan_id, "distress_thermometer", {"distress": 5}, draft=False, by=patient
    )
    await world.service.responses.respond(plan_id, "distress_thermometer", {}, draft=True, by=patient)
    fixed = instrument("distress_thermometer").model_dump()
    fixed["version"] = 2
    fixed["results"][0] |= {
        "version": 2,
        "intervals": [
            {"min": 0, "max": 8, "label": "Låg", "colour": "#2e7d32"},
            {"min": 8, "max": 10, "label": "Förhöjd", "colour": "#c62828", "flag": True},
        ],
    }
    await world.service.definitions.publish(type(instrument("distress_thermometer")).model_validate(fixed), DESIGNER)
    rescored = await world.service.responses.rescore(plan_id, "distress_thermometer", THERAPIST)
    assert [(r.id, r.form_version, r.results[0].label, r.results[0].rule_version) for r in rescored] == [
        (first.id, 2, "Låg", 2)
    ]
    assert world.uow.audit_log.records[-1].reason == "re-scored with version 2"
    stored = await world.stores.responses.get(first.id)
    assert stored is not None and stored.rescored_at == world.clock.now()
    with pytest.raises(NotFound):
        await world.service.responses.rescore(plan_id, "distress_thermometer", STRANGER)


async def test_a_response_as_a_fhir_questionnaire_response_for_the_plans_staff_and_patient(world: World) -> None:
    plan_id, patient = await world.start_plan(refs=("distress_thermometer",))
    response = await world.service.responses.respond(
        plan_id, "distress_thermometer", {"distress": 4}, draft=False, by=patient
    )
    for reader in (THERAPIST, patient):
        exported = await world.service.responses.as_fhir(plan_id, "distress_thermometer", response.id, reader)
        resource = QuestionnaireResponse.model_validate(exported)
        assert resource.subject.identifier.value == patient.personnummer  # type: ignore[union-attr]
    assert world.uow.audit_log.actions()[-2:] == [("read", "form_response.distress_thermometer", response.id)] * 2
    with pytest.raises(NotFound, match="no such response"):
        await world.service.responses.as_fhir(plan_id, "phq_9", response.id, THERAPIST)
    with pytest.raises(NotFound, match="no such plan"):
        await world.service.responses.as_fhir(plan_id, "distress_thermometer", response.id, STRANGER)


async def test_open_forms_are_read_by_the_plans_staff_and_patient_and_audited(world: World) -> None:
    plan_id, patient = await world.start_plan(refs=("isi",))
    assert await world.service.responses.open_forms(plan_id, THERAPIST) == {"start": ["isi"]}
    assert await world.service.responses.open_forms(plan_id, patient) == {"start": ["isi"]}
    assert world.uow.audit_log.actions() == [("read", "open_forms", plan_id)] * 2
    with pytest.raises(NotFound):
        await world.service.responses.open_forms(plan_id, STRANGER)
