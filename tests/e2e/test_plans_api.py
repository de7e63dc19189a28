"""The plans service through its HTTP API on the real embedded servers."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import httpx
import pytest
from fhir.resources.R4B.careplan import CarePlan

from launcher.stack import Platform
from shared.contracts.plans import PLANS_TOPIC, PlanEnded
from shared.contracts.retention import RETENTION_TOPIC, RetentionLimitReached
from shared.kernel.roles import Role
from shared.messaging.events import EventRecord
from tests.conftest import PROGRAMS_DIR, Tokens, bearer, new_personnummer
from tests.support.kafka_helpers import eventually, find_record, header, produce

pytestmark = pytest.mark.integration
BREAST = {"program_id": "min-vardplan-brostcancer", "program_version": "1.0"}


async def start_plan(api: httpx.AsyncClient, token: str, personnummer: str | None = None, **extra: object) -> dict:
    body = {"personnummer": personnummer or new_personnummer(), "patient_name": "Plan, Patient", **BREAST, **extra}
    response = await api.post("/plans", headers=bearer(token), json=body)
    assert response.status_code == 201, response.text
    return response.json()


def module(view: dict, module_id: str) -> dict:
    return next(m for m in view["modules"] if m["id"] == module_id)


async def test_programs_are_immutable_once_published(
    plans_api: httpx.AsyncClient, tokens: Tokens, published_programs: list[str]
) -> None:
    publisher = bearer(tokens.staff(Role.PUBLISHER))
    program = json.loads((PROGRAMS_DIR / "somnhjalpen-2025.1.json").read_text())
    again = await plans_api.post("/programs", headers=publisher, json=program)
    assert again.status_code == 200 and again.json()["created"] is False
    changed = program | {"title": "Sömnhjälpen (ändrad)"}
    refused = await plans_api.post("/programs", headers=publisher, json=changed)
    assert refused.status_code == 409 and refused.json()["field"] == "version"
    new_version = changed | {"version": "2026.1"}
    assert (await plans_api.post("/programs", headers=publisher, json=new_version)).status_code == 201
    therapist_publishing = await plans_api.post(
        "/programs", headers=bearer(tokens.staff()), json=changed | {"version": "2027.1"}
    )
    assert therapist_publishing.status_code == 403
    duplicate_ids = program | {"version": "9.9", "modules": program["modules"] + program["modules"][:1]}
    invalid = await plans_api.post("/programs", headers=publisher, json=duplicate_ids)
    assert invalid.status_code == 422 and "duplicate module id" in invalid.text
    listed = await plans_api.get("/programs", headers=bearer(tokens.staff()))
    versions = {(p["program_id"], p["version"]) for p in listed.json()}
    assert {("somnhjalpen", "2025.1"), ("somnhjalpen", "2026.1"), ("min-vardplan-brostcancer", "1.0")} <= versions


async def test_the_breast_cancer_program_has_the_twelve_modules_of_the_seed(
    plans_api: httpx.AsyncClient, tokens: Tokens, published_programs: list[str]
) -> None:
    program = (
        await plans_api.get("/programs/min-vardplan-brostcancer/versions/1.0", headers=bearer(tokens.staff()))
    ).json()
    titles = [m["title"] for m in program["modules"]]
    assert len(titles) == 12
    assert titles[0] == "Att fylla i - Vad är viktigt för mig just nu?"
    assert "Cancerrehabilitering och Egenvård för symtom och biverkningar" in titles
    assert titles[-1] == "Att fylla i - Distresstermometern"
    egenvard = next(s for m in program["modules"] for s in m["sections"] if s["title"] == "Egenvårdsråd")
    assert {"Diarré", "Förstoppning", "Illamående"} <= {s["title"] for s in egenvard["steps"]}


async def test_a_therapist_tailors_a_plan_and_the_patient_sees_exactly_the_projection(
    platform: Platform, plans_api: httpx.AsyncClient, tokens: Tokens, published_programs: list[str]
) -> None:
    therapist = bearer(tokens.staff())
    personnummer = new_personnummer("19670902")
    plan = await start_plan(plans_api, tokens.staff(), personnummer)
    plan_id = plan["id"]
    assert plan["progress"] == {
        "days_since_start": 0,
        "limit_days": 730,
        "days_left": 730,
        "purge_due": plan["progress"]["purge_due"],
    }
    rehab = module(plan, "cancerrehabilitering-och-egenvard")
    assert rehab["state"] == "current" and (rehab["visible_steps"], rehab["total_steps"]) == (7, 23)
    assert module(plan, "utredning")["state"] == "upcoming"

    # visible to the patient at once
    patient = bearer(tokens.patient(personnummer))
    mine = (await plans_api.get("/me/plans", headers=patient)).json()
    assert [p["id"] for p in mine] == [plan_id]

    # set a module current, hide and show steps
    response = await plans_api.put(
        f"/plans/{plan_id}/modules/utredning/state", headers=therapist, json={"state": "current"}
    )
    assert response.status_code == 200
    utredning = module(response.json(), "utredning")
    assert utredning["state"] == "current" and utredning["days_left"] == 30
    assert (utredning["visible_steps"], utredning["total_steps"]) == (3, 5)
    for step, visible in (
        ("ev-diarre", False),
        ("ev-haravfall", True),
        ("ut-blodprov", False),
        ("ut-tumormarkorer", False),
    ):
        answer = await plans_api.put(
            f"/plans/{plan_id}/steps/{step}/visibility", headers=therapist, json={"visible": visible}
        )
        assert answer.status_code == 200, answer.text
    staff_view = answer.json()
    sections = {s["id"]: s for s in module(staff_view, "utredning")["sections"]}
    assert (sections["s-ut-blodanalys"]["visible_steps"], sections["s-ut-blodanalys"]["total_steps"]) == (0, 2)

    # contacts, planning, comments, welcome text
    contact = await plans_api.post(
        f"/plans/{plan_id}/contacts",
        headers=therapist,
        json={
            "name": "Karin Vriste",
            "role_title": "Kontaktsjuksköterska",
            "phone": "070-123 45 67",
            "responsible": True,
        },
    )
    assert contact.status_code == 201
    contact_id = contact.json()["contacts"][0]["id"]
    assert contact.json()["contacts"][0]["created_by"] == "SE2321000016-T001"
    other = await plans_api.post(
        f"/plans/{plan_id}/contacts",
        headers=therapist,
        json={"name": "Pigge Frisk", "role_title": "Fysioterapeut", "responsible": True},
    )
    responsible = {c["name"]: c["responsible"] for c in other.json()["contacts"]}
    assert responsible == {"Karin Vriste": False, "Pigge Frisk": True}
    changed = await plans_api.patch(
        f"/plans/{plan_id}/contacts/{contact_id}", headers=therapist, json={"phone": "070-765 43 21"}
    )
    assert next(c for c in changed.json()["contacts"] if c["id"] == contact_id)["phone"] == "070-765 43 21"
    await plans_api.post(
        f"/plans/{plan_id}/planning",
        headers=therapist,
        json={"text": "Cytostatikabehandling", "approximate": "början av maj", "month": "2027-05"},
    )
    await plans_api.post(
        f"/plans/{plan_id}/planning", headers=therapist, json={"text": "Operation", "exact_date": "2027-04-03"}
    )
    by_patient = await plans_api.post(
        f"/plans/{plan_id}/planning", headers=patient, json={"text": "Min systers bröllop", "exact_date": "2027-06-12"}
    )
    assert by_patient.status_code == 201 and "responsible_hsa_id" not in by_patient.json()
    comment = await plans_api.post(
        f"/plans/{plan_id}/comments",
        headers=therapist,
        json={"page_id": "motet-med-varden", "text": "Sammanfattning av ditt besök: ..."},
    )
    assert comment.status_code == 201, comment.text
    hidden_page_comment = await plans_api.post(
        f"/plans/{plan_id}/comments",
        headers=therapist,
        json={"page_id": "diagnos", "text": "Visas när modulen blir aktuell"},
    )
    assert hidden_page_comment.status_code == 201
    welcome = await plans_api.put(
        f"/plans/{plan_id}/welcome-text",
        headers=therapist,
        json={"text": "Välkommen, Anna! Din kontaktsjuksköterska är Karin."},
    )
    assert welcome.json()["welcome_text_individual"] is True

    # the patient's projection
    view = (await plans_api.get(f"/plans/{plan_id}/patient-view", headers=patient)).json()
    preview = (await plans_api.get(f"/plans/{plan_id}/patient-view", headers=therapist)).json()
    assert view == preview  # staff "preview as patient" shows exactly the same
    assert {m["id"] for m in view["modules"]} == {
        "att-fylla-i-vad-ar-viktigt-for-mig-just-nu",
        "motet-med-varden",
        "cancerrehabilitering-och-egenvard",
        "mina-rattigheter-som-patient",
        "utredning",
    }
    shown_steps = {s["id"] for m in view["modules"] for sec in m["sections"] for s in sec["steps"]}
    assert (
        "ev-haravfall" in shown_steps
        and "ev-diarre" not in shown_steps
        and "ut-pet-kameraundersokning" not in shown_steps
    )
    assert "s-ut-blodanalys" not in {sec["id"] for m in view["modules"] for sec in m["sections"]}
    assert view["welcome_text"].startswith("Välkommen, Anna!")
    assert [e["text"] for e in view["planning"]] == ["Operation", "Cytostatikabehandling", "Min systers bröllop"]
    assert [c["page_id"] for c in view["comments"]] == ["motet-med-varden"]
    text = json.dumps(view)
    for staff_only in (
        "visible_steps",
        "total_steps",
        "responsible_hsa_id",
        "personnummer",
        "SE2321000016-T001",
        "flags",
        "revision",
    ):
        assert staff_only not in text

    # illegal moves and unknown ids
    illegal = await plans_api.put(
        f"/plans/{plan_id}/modules/diagnos/state", headers=therapist, json={"state": "completed"}
    )
    assert illegal.status_code == 409 and illegal.json()["field"] == "state"
    assert (
        await plans_api.put(f"/plans/{plan_id}/modules/nope/state", headers=therapist, json={"state": "current"})
    ).status_code == 404
    assert (
        await plans_api.put(f"/plans/{plan_id}/steps/nope/visibility", headers=therapist, json={"visible": True})
    ).status_code == 404
    assert (
        await plans_api.put(f"/plans/{plan_id}/steps/ev-diarre/visibility", headers=patient, json={"visible": True})
    ).status_code == 403

    # every change is an event on the plan's key
    bootstrap = platform.addresses.kafka_bootstrap_servers
    for ce_type in (
        "module_state_changed",
        "step_visibility_changed",
        "contacts_changed",
        "planning_changed",
        "page_comment_added",
        "welcome_text_changed",
    ):
        await find_record(
            bootstrap,
            "careplan.plans.v1",
            lambda r, t=ce_type: r.key == plan_id.encode() and header(r, "ce_type") == f"se.careplan.plan.{t}.v1",
        )


async def test_bad_input_answers(plans_api: httpx.AsyncClient, tokens: Tokens, published_programs: list[str]) -> None:
    therapist = tokens.staff()
    for bad in ("191212121213", "19121312-1212", "١٩١٢١٢١٢١٢١٢"):
        response = await plans_api.post(
            "/plans", headers=bearer(therapist), json={"personnummer": bad, "patient_name": "X", **BREAST}
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["location"] == "body"
        assert response.json()["errors"][0]["field"] == "personnummer"
        assert bad not in response.text  # the refused value is not echoed
    samordning = await plans_api.post(
        "/plans",
        headers=bearer(therapist),
        json={"personnummer": "19121272-1219", "patient_name": "Samordning, Sam", **BREAST},
    )
    assert samordning.status_code in (201, 409)
    unknown = await plans_api.post(
        "/plans",
        headers=bearer(therapist),
        json={
            "personnummer": new_personnummer(),
            "patient_name": "X",
            "program_id": "min-vardplan-brostcancer",
            "program_version": "9.9",
        },
    )
    assert unknown.status_code == 404 and unknown.json()["field"] == "program_version"
    personnummer = new_personnummer()
    await start_plan(plans_api, therapist, personnummer)
    second = await plans_api.post(
        "/plans", headers=bearer(therapist), json={"personnummer": personnummer, "patient_name": "X", **BREAST}
    )
    assert second.status_code == 409
    elsewhere = await plans_api.post(
        "/plans",
        headers=bearer(tokens.staff(unit="SE2321000016-TEST03")),
        json={"personnummer": personnummer, "patient_name": "X", **BREAST},
    )
    assert elsewhere.status_code == 201  # a patient may have plans at several units


async def test_concurrent_edits_lose_no_update(
    plans_api: httpx.AsyncClient, tokens: Tokens, published_programs: list[str]
) -> None:
    plan = await start_plan(plans_api, tokens.staff())
    names = [f"Kontakt {i}" for i in range(8)]
    results = await asyncio.gather(
        *(
            plans_api.post(f"/plans/{plan['id']}/contacts", headers=bearer(tokens.staff()), json={"name": n})
            for n in names
        )
    )
    assert all(r.status_code == 201 for r in results)
    final = (await plans_api.get(f"/plans/{plan['id']}", headers=bearer(tokens.staff()))).json()
    assert sorted(c["name"] for c in final["contacts"]) == names


async def test_ended_plans_move_to_the_ended_list_and_refuse_changes(
    plans_api: httpx.AsyncClient, tokens: Tokens, published_programs: list[str]
) -> None:
    therapist = bearer(tokens.staff())
    plan = await start_plan(plans_api, tokens.staff())
    ended = await plans_api.post(f"/plans/{plan['id']}/end", headers=therapist, json={"reason": "no_longer_needed"})
    assert ended.status_code == 200 and ended.json()["status"] == "ended"
    again = await plans_api.put(
        f"/plans/{plan['id']}/modules/utredning/state", headers=therapist, json={"state": "current"}
    )
    assert again.status_code == 409
    ended_list = (
        await plans_api.get("/units/me/plans", params={"list": "ended", "page_size": 200}, headers=therapist)
    ).json()
    assert plan["id"] in {r["plan_id"] for r in ended_list["items"]}
    still_readable = await plans_api.get(f"/plans/{plan['id']}", headers=bearer(tokens.staff(hsa_id="SE2321000016-T9")))
    assert still_readable.status_code == 200 and still_readable.json()["status"] == "ended"
    twice = await plans_api.post(f"/plans/{plan['id']}/end", headers=therapist, json={"reason": "completed"})
    assert twice.status_code == 409 and "ended" in twice.json()["detail"]


async def test_a_plan_reaching_the_retention_limit_is_ended_by_the_system(
    platform: Platform, plans_api: httpx.AsyncClient, tokens: Tokens, published_programs: list[str]
) -> None:
    therapist = bearer(tokens.staff())
    plan = await start_plan(plans_api, tokens.staff())
    limit = RetentionLimitReached(plan_id=plan["id"], unit_id=plan["unit_id"], limit_at=datetime.now(UTC))
    message = EventRecord.from_event(limit, source="/careplan/retention", time=datetime.now(UTC)).to_kafka()
    bootstrap = platform.addresses.kafka_bootstrap_servers
    await produce(bootstrap, RETENTION_TOPIC.name, message.value, plan["id"].encode(), list(message.headers.items()))

    async def ended() -> bool:
        view = await plans_api.get(f"/plans/{plan['id']}", headers=therapist)
        return view.json()["status"] == "ended"

    await eventually(ended)
    record = await find_record(
        bootstrap,
        PLANS_TOPIC.name,
        lambda r: r.key == plan["id"].encode() and header(r, "ce_type") == PlanEnded.ce_type,
    )
    assert json.loads(record.value or b"{}")["reason"] == "limit"
    refused = await plans_api.post(f"/plans/{plan['id']}/end", headers=therapist, json={})
    assert refused.status_code == 409


async def test_responsible_is_changed_by_a_patient_admin_only(
    plans_api: httpx.AsyncClient, tokens: Tokens, published_programs: list[str]
) -> None:
    plan = await start_plan(plans_api, tokens.staff())
    body = {"responsible_hsa_id": "SE2321000016-T002"}
    refused = await plans_api.put(f"/plans/{plan['id']}/responsible", headers=bearer(tokens.staff()), json=body)
    assert refused.status_code == 403
    done = await plans_api.put(
        f"/plans/{plan['id']}/responsible", headers=bearer(tokens.staff(Role.PATIENT_ADMIN)), json=body
    )
    assert done.status_code == 200 and done.json()["responsible_hsa_id"] == "SE2321000016-T002"


async def test_fhir_export_is_a_valid_r4_care_plan(
    plans_api: httpx.AsyncClient, tokens: Tokens, published_programs: list[str]
) -> None:
    personnummer = new_personnummer("19480202")
    plan = await start_plan(plans_api, tokens.staff(), personnummer)
    await plans_api.post(
        f"/plans/{plan['id']}/contacts",
        headers=bearer(tokens.staff()),
        json={"name": "Karin Vriste", "role_title": "Kontaktsjuksköterska", "responsible": True},
    )
    response = await plans_api.get(f"/plans/{plan['id']}/fhir", headers=bearer(tokens.staff()))
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/fhir+json")
    resource = CarePlan.model_validate(response.json())
    assert resource.status == "active" and resource.intent == "plan"
    assert resource.subject.identifier.value == personnummer
    assert len(resource.activity) == 12
    states = {a.detail.code.coding[0].code: a.detail.status for a in resource.activity}
    assert states["motet-med-varden"] == "in-progress" and states["diagnos"] == "not-started"
    team = resource.contained[0]
    assert "Karin Vriste" in json.dumps(team.model_dump(mode="json"))
    other_unit = await plans_api.get(f"/plans/{plan['id']}/fhir", headers=bearer(tokens.staff(unit="SE2321000016-X")))
    assert other_unit.status_code == 404
