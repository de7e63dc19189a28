"""What the forms service answers with, besides its domain objects: a publication's outcome and the
results-over-time table."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from services.forms.domain.definition import FormDefinition, Interval
from services.forms.domain.model import Response
from services.forms.domain.scoring import Result


class Published(BaseModel):
    form_id: str
    version: int
    created: bool
    """False if this very version was published before with the same content (nothing changed)."""


class ResultColumn(BaseModel):
    """One result (subscale) of the form, with its intervals' explanations."""

    result_id: str
    title: str
    intervals: list[Interval]


class ResultRow(BaseModel):
    """One submitted response's results."""

    response_id: str
    submitted_at: datetime | None
    results: list[Result]


class ResultsTable(BaseModel):
    form_id: str
    title: str
    results: list[ResultColumn]
    rows: list[ResultRow]

    @classmethod
    def of(cls, form: FormDefinition, responses: list[Response], for_patient: bool) -> ResultsTable:
        """The table as staff see it, or as the patient does (only the results shown to patients)."""
        rules = [r for r in form.results if not for_patient or r.visible_to_patient]
        return cls(
            form_id=form.form_id,
            title=form.title,
            results=[ResultColumn(result_id=r.id, title=r.title, intervals=list(r.intervals)) for r in rules],
            rows=[ResultRow(response_id=x.id, submitted_at=x.submitted_at, results=x.results) for x in responses],
        )
