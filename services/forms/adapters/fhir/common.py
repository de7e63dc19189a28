"""What export and import share: the FHIR and careplan URLs, and the import error."""

from __future__ import annotations

FORM_URL = "urn:careplan:form:"
EXT = "http://hl7.org/fhir/StructureDefinition/"
SDC = "http://hl7.org/fhir/uv/sdc/StructureDefinition/"
ORDINAL_VALUE, ITEM_WEIGHT = EXT + "ordinalValue", EXT + "itemWeight"
MIN_VALUE, MAX_VALUE, UNIT = EXT + "minValue", EXT + "maxValue", EXT + "questionnaire-unit"
ITEM_CONTROL, SLIDER_STEP = EXT + "questionnaire-itemControl", EXT + "questionnaire-sliderStepValue"
CALCULATED = SDC + "sdc-questionnaire-calculatedExpression"
CAREPLAN_RULE = "https://careplan.se/fhir/StructureDefinition/scoring-rule"
CAREPLAN_KIND = "https://careplan.se/fhir/StructureDefinition/form-kind"
PERSONNUMMER_SYSTEM = "http://electronichealth.se/identifier/personnummer"
NUMBER_TYPES = ("number", "slider", "scale")


class FhirImportError(ValueError):
    """The Questionnaire can not be a form; `field` names the item (linkId) or element."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field
