"""Publishing form versions, and forms to and from FHIR R4 Questionnaires."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire

from shared.kernel.errors import Conflict, Invalid, NotFound
from tests.unit.forms.conftest import DESIGNER, World
from tests.unit.test_form_scoring import instrument
from tests.unit.test_forms_fhir import PHQ_2

RULE = "https://careplan.se/fhir/StructureDefinition/scoring-rule"
GAP = json.dumps(
    {
        "id": "total",
        "title": "Total",
        "kind": "sum",
        "questions": ["sleep"],
        "intervals": [
            {"min": 0, "max": 5, "label": "Låg", "colour": "#2e7d32"},
            {"min": 6, "max": 24, "label": "Hög", "colour": "#c62828"},
        ],
    }
)


async def test_a_version_is_published_once_and_never_changed(world: World) -> None:
    gad = instrument("gad_7")
    again = await world.service.definitions.publish(gad, DESIGNER)
    assert (again.form_id, again.version, again.created) == ("gad_7", 1, False)
    changed = gad.model_copy(update={"title": "GAD-7 (ändrad)"})
    with pytest.raises(Conflict, match="publish a new version") as refused:
        await world.service.definitions.publish(changed, DESIGNER)
    assert refused.value.field == "version"
    second = await world.service.definitions.publish(changed.model_copy(update={"version": 2}), DESIGNER)
    assert second.created
    assert (await world.service.definitions.form("gad_7")).title == "GAD-7 (ändrad)"
    assert (await world.service.definitions.version("gad_7", 1)).title == gad.title


async def test_an_unknown_form_is_not_found(world: World) -> None:
    with pytest.raises(NotFound) as missing:
        await world.service.definitions.form("rcads_25")
    assert missing.value.field == "form_id"


async def test_a_missing_version_falls_back_to_the_latest(world: World) -> None:
    assert (await world.service.definitions.version("isi", 7)).version == 1


async def test_a_questionnaire_from_elsewhere_is_imported_as_a_form(world: World) -> None:
    published = await world.service.definitions.import_questionnaire(PHQ_2, None, None, DESIGNER)
    assert (published.form_id, published.version, published.created) == ("phq2", 3, True)
    form = await world.service.definitions.form("phq2")
    assert [q.type for q in form.questions] == ["single_choice", "single_choice", "number"]
    assert form.results[0].kind == "sum"
    renamed = await world.service.definitions.import_questionnaire(PHQ_2, "phq_2_kort", 1, DESIGNER)
    assert (renamed.form_id, renamed.version) == ("phq_2_kort", 1)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"resourceType": "Patient"}, "resourceType"),
        ({"item": [{"linkId": "when", "type": "date", "text": "Datum"}]}, "when"),
        ({"item": []}, "item"),
        (
            {
                "item": PHQ_2["item"]
                + [{"linkId": "r", "type": "decimal", "extension": [{"url": RULE, "valueString": GAP}]}]
            },
            "results.0",
        ),
    ],
)
async def test_what_can_not_be_a_form_is_invalid_naming_the_item(world: World, change: dict, field: str) -> None:
    with pytest.raises(Invalid) as refused:
        await world.service.definitions.import_questionnaire(PHQ_2 | change, None, None, DESIGNER)
    assert refused.value.field == field
    with pytest.raises(NotFound):
        await world.service.definitions.form("phq2")


async def test_a_form_exports_as_a_valid_questionnaire(world: World) -> None:
    exported = await world.service.definitions.export_questionnaire("phq_9")
    questionnaire = Questionnaire.model_validate(exported)
    assert questionnaire.url == "urn:careplan:form:phq_9" and len(questionnaire.item) == 11  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await world.service.definitions.export_questionnaire("rcads_25")
