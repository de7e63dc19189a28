"""Forms as FHIR R4 Questionnaire, answers as QuestionnaireResponse, and Questionnaire import."""

from services.forms.adapters.fhir.common import FhirImportError
from services.forms.adapters.fhir.export import to_questionnaire, to_questionnaire_response
from services.forms.adapters.fhir.importing import from_questionnaire

__all__ = ["FhirImportError", "from_questionnaire", "to_questionnaire", "to_questionnaire_response"]
