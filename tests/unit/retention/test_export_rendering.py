"""The two renderings of a complete export: a FHIR R4 Bundle that `fhir.resources` accepts and that
holds the plan's content, and a PDF whose text (extracted as a reader's tool would) shows it in
Swedish, whatever characters the texts hold."""

from __future__ import annotations

import io
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader

from services.retention.adapters.pdf_export import render_pdf
from services.retention.domain.export import Export
from services.retention.domain.export_document import ExportDocument
from services.retention.domain.fhir_export import PERSONNUMMER_SYSTEM, export_bundle
from tests.unit.retention.export_samples import ANSWER_TEXT, MESSAGE, REPLY, STEP_TEXT, all_parts, plan_part
from tests.unit.retention.fakes import NOW, PNR, UNIT

# The codes the resources use, from their required value sets (fhir.resources checks types, not codes).
STATUS_CODES = {
    "CarePlan": {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"},
    "Communication": {"preparation", "in-progress", "not-done", "on-hold", "stopped", "completed", "unknown"},
    "QuestionnaireResponse": {"in-progress", "completed", "amended", "entered-in-error", "stopped"},
    "Observation": {"registered", "preliminary", "final", "amended"},
    "Flag": {"active", "inactive", "entered-in-error"},
}


def document(parts: dict[str, dict[str, Any]] | None = None) -> ExportDocument:
    export = Export(
        export_id="e1",
        plan_id="p1",
        unit_id=UNIT,
        requested_by="system",
        requested_at=NOW,
        last_requested_at=NOW,
        state="completed",
        completed_at=NOW,
    )
    return ExportDocument.assemble(export, parts or all_parts())


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_bundle_is_a_valid_fhir_r4_collection_with_every_kind_of_record() -> None:
    bundle = export_bundle(document())
    parsed = Bundle.model_validate(bundle)
    assert (parsed.type, parsed.id, len(parsed.entry)) == ("collection", "e1", len(bundle["entry"]))
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    for kind in ("Patient", "CarePlan", "Communication", "QuestionnaireResponse", "Observation", "Flag"):
        assert kind in kinds
    assert {"Provenance", "AuditEvent"} <= set(kinds)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert entry["fullUrl"].startswith("urn:uuid:")
        assert resource.get("status", "completed") in STATUS_CODES.get(resource["resourceType"], {"completed"})
    urls = {e["fullUrl"] for e in bundle["entry"]}
    references = [r["subject"]["reference"] for r in (e["resource"] for e in bundle["entry"]) if "subject" in r]
    assert references and set(references) <= urls  # every subject is the bundle's Patient
    assert export_bundle(document()) == bundle  # stable: the same export renders the same


def test_the_bundle_names_the_patient_and_holds_the_plan_messages_and_answers() -> None:
    bundle = export_bundle(document())
    [patient] = resources(bundle, "Patient")
    assert patient["identifier"] == [{"system": PERSONNUMMER_SYSTEM, "value": PNR}]
    assert patient["name"][0] == {"text": "Åberg, Örjan", "family": "Åberg", "given": ["Örjan"]}
    care_plan = resources(bundle, "CarePlan")[0]
    assert (care_plan["title"], care_plan["status"], care_plan["instantiatesUri"]) == (
        "Sömnhjälpen",
        "completed",
        ["urn:careplan:program:somnhjalpen:2025.1"],
    )
    assert [a["detail"]["status"] for a in care_plan["activity"]] == ["completed", "not-started"]
    assert STEP_TEXT in care_plan["activity"][0]["progress"][0]["text"]
    assert "Planering: 2026-02-20: Återbesök på mottagningen" in [n["text"] for n in care_plan["note"]][1]
    messages = [c for c in resources(bundle, "Communication") if c["category"][0]["text"] == "Meddelande"]
    assert [m["payload"][0]["contentString"] for m in messages] == [MESSAGE, REPLY]
    assert messages[1]["inResponseTo"] == [{"reference": bundle["entry"][2]["fullUrl"]}]
    [response] = resources(bundle, "QuestionnaireResponse")
    assert response["questionnaire"] == "urn:careplan:form:isi|3"
    assert [(i["text"], i.get("answer")) for i in response["item"][:2]] == [
        (ANSWER_TEXT, [{"valueInteger": 3}]),
        ("Hur nöjd är du med din sömn?", [{"valueCoding": {"code": "dissatisfied", "display": "Ganska missnöjd"}}]),
    ]
    assert "answer" not in response["item"][-1]  # unanswered
    score = next(o for o in resources(bundle, "Observation") if "derivedFrom" in o)
    assert (score["valueQuantity"], score["method"]["text"]) == ({"value": 17.0}, "Regelversion 2")
    assert score["interpretation"] == [{"text": "Måttlig sömnlöshet (flaggat)"}]


def test_notifications_say_what_and_how_never_where() -> None:
    bundle = export_bundle(document())
    notices = [c for c in resources(bundle, "Communication") if c["category"][0]["text"] == "Avisering"]
    assert [(n["status"], n["medium"][0]["text"]) for n in notices] == [("completed", "email"), ("not-done", "sms")]
    assert all("recipient" not in n and "@" not in str(n) for n in notices)


def test_a_plan_with_nothing_but_its_part_renders_both_ways() -> None:
    bare = {"plans": plan_part().model_dump(mode="json", include={"program_id", "program_version", "unit_id"})}
    bare["plans"] |= {"patient_personnummer": "198112629280", "started_at": NOW.isoformat()}
    parts = bare | {service: {} for service in ("messaging", "forms", "notifications", "handover")}
    bundle = export_bundle(document(parts))
    Bundle.model_validate(bundle)
    assert resources(bundle, "Patient")[0]["identifier"][0]["system"].endswith("samordningsnummer")
    assert "Inget att visa." in pdf_text(render_pdf(document(parts)))


def test_the_pdf_shows_the_plan_in_swedish() -> None:
    pdf = render_pdf(document())
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    for expected in (
        "Vårdplan – export för journalen",
        "Sömnhjälpen (version 2025.1)",
        "Åberg, Örjan",
        PNR,
        "Märta Söderström, Sjuksköterska",
        "Återbesök på mottagningen",
        "Hej! Jag sover dåligt och känner mig trött – vad ska jag göra? ?",  # the emoji as "?"
        REPLY,
        f"{ANSWER_TEXT}: 3",
        "ISI totalpoäng: 17 (Måttlig sömnlöshet, flaggat)",
        "Regelversion 2",
        "Promenader: Minuter 30 min – Skönt väder",
        "Hög ISI-poäng",
        "new_message till patienten via email: sent",
        "Överlämningar",
        "read plan: 12",
    ):
        assert expected in text, expected


@pytest.mark.parametrize(
    "awkward",
    [
        "😀🎉 emoji",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and 中文",
        "tab\tand\x00null\x1bescape\u2028separator",
        "ÅÄÖåäö é ü – — “citat” …",
        "x" * 3000,
    ],
)
def test_no_text_breaks_the_pdf(awkward: str) -> None:
    parts = all_parts()
    parts["messaging"]["conversations"][0]["messages"][0]["text"] = awkward
    parts["plans"]["welcome_text"] = awkward
    text = pdf_text(render_pdf(document(parts)))
    assert "Konversationer" in text and "Loggsammanfattning" in text
    if awkward.startswith("Å"):
        assert awkward in text
