"""Forms as FHIR R4 Questionnaire / QuestionnaireResponse, and Questionnaires from elsewhere as forms."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from services.forms.adapters import fhir
from services.forms.domain.model import Response
from services.forms.domain.scoring import score
from tests.unit.test_form_scoring import instrument

ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"

#: A PHQ-2 the way an SDC form filler publishes it: a group, ordinal values on the codings, a
#: calculated total, a display item, and linkIds that are not identifiers here.
PHQ_2 = {
    "resourceType": "Questionnaire",
    "status": "active",
    "name": "PHQ2",
    "version": "3",
    "title": "PHQ-2",
    "item": [
        {
            "linkId": "g1",
            "type": "group",
            "text": "De senaste två veckorna",
            "item": [
                {"linkId": "intro", "type": "display", "text": "Hur ofta har du besvärats av …"},
                *[
                    {
                        "linkId": f"/4459{n}-1",
                        "type": "choice",
                        "required": True,
                        "text": text,
                        "answerOption": [
                            {
                                "valueCoding": {
                                    "system": "http://loinc.org",
                                    "code": code,
                                    "display": label,
                                    "extension": [{"url": ORDINAL, "valueDecimal": points}],
                                }
                            }
                            for code, label, points in (
                                ("LA6568-5", "Inte alls", 0),
                                ("LA6569-3", "Flera dagar", 1),
                                ("LA6570-1", "Mer än halva dagarna", 2),
                                ("LA6571-9", "Nästan varje dag", 3),
                            )
                        ],
                    }
                    for n, text in ((1, "Lite intresse"), (2, "Nedstämdhet"))
                ],
                {
                    "linkId": "/55758-7",
                    "type": "decimal",
                    "readOnly": True,
                    "text": "PHQ-2 totalpoäng",
                    "extension": [
                        {
                            "url": "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression",
                            "valueExpression": {
                                "language": "text/fhirpath",
                                "expression": "%resource.item.answer.value.ordinal().sum()",
                            },
                        }
                    ],
                },
                {
                    "linkId": "sleep",
                    "type": "integer",
                    "text": "Timmar sömn",
                    "extension": [
                        {"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueInteger": 0},
                        {"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueInteger": 24},
                    ],
                },
            ],
        }
    ],
}


@pytest.mark.parametrize("form_id", ["phq_9", "gad_7", "isi", "audit", "sleep_diary", "what_matters_to_me"])
def test_export_is_a_valid_r4_questionnaire_and_imports_back_unchanged(form_id: str) -> None:
    form = instrument(form_id)
    exported = fhir.to_questionnaire(form)
    Questionnaire.model_validate(exported)
    assert [i["linkId"] for i in exported["item"]][: len(form.questions)] == [q.id for q in form.questions]
    assert fhir.from_questionnaire(exported) == form


def test_phq9_export_carries_ordinal_values_and_a_calculated_total() -> None:
    exported = fhir.to_questionnaire(instrument("phq_9"))
    first = exported["item"][0]
    assert first["type"] == "choice" and [o["extension"][0]["valueDecimal"] for o in first["answerOption"]] == [
        0,
        1,
        2,
        3,
    ]
    total = next(i for i in exported["item"] if i["linkId"] == "result.total")
    assert total["readOnly"] and "ordinal().sum()" in total["extension"][0]["valueExpression"]["expression"]


def test_an_sdc_questionnaire_from_elsewhere_imports_with_its_weights_and_total() -> None:
    form = fhir.from_questionnaire(PHQ_2)
    assert (form.form_id, form.version, form.title) == ("phq2", 3, "PHQ-2")
    assert [(q.id, q.type) for q in form.questions] == [
        ("q_44591_1", "single_choice"),
        ("q_44592_1", "single_choice"),
        ("sleep", "number"),
    ]
    assert form.question("sleep").maximum == 24  # type: ignore[union-attr]
    [total] = form.results
    assert total.kind == "sum" and total.questions == ["q_44591_1", "q_44592_1"]
    answers = {"q_44591_1": "LA6570-1", "q_44592_1": "LA6571-9", "sleep": 7}
    assert score(form, answers)[0].value == 5


@pytest.mark.parametrize(
    "change, field",
    [
        ({"resourceType": "Patient"}, "resourceType"),
        ({"item": [{"linkId": "when", "type": "date", "text": "Datum"}]}, "when"),
        ({"item": [{"linkId": "c", "type": "choice", "text": "Val", "answerValueSet": "http://x"}]}, "c"),
        ({"item": [{"linkId": "i", "type": "display", "text": "Bara text"}]}, "item"),
    ],
)
def test_what_can_not_be_a_form_is_refused_naming_the_item(change: dict, field: str) -> None:
    with pytest.raises(fhir.FhirImportError) as refused:
        fhir.from_questionnaire(PHQ_2 | change)
    assert refused.value.field == field


def test_a_response_exports_as_a_valid_questionnaire_response() -> None:
    form = instrument("phq_9")
    answers = {q.id: q.options[2].value for q in form.questions}
    now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    response = Response(
        id="r1",
        plan_id="p",
        unit_id="u",
        form_id="phq_9",
        form_version=form.version,
        answers=answers,
        status="submitted",
        created_at=now,
        submitted_at=now,
        results=score(form, answers),
    )
    exported = fhir.to_questionnaire_response(form, response, "198001019802")
    QuestionnaireResponse.model_validate(exported)
    assert exported["questionnaire"] == f"urn:careplan:form:phq_9|{form.version}"
    assert exported["item"][0]["answer"][0]["valueCoding"]["code"] == form.questions[0].options[2].value
    assert next(i for i in exported["item"] if i["linkId"] == "result.total")["answer"] == [{"valueDecimal": 18.0}]
