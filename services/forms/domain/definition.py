"""Form definitions: questions, answer validation, and scoring rules with their intervals.

A published form version is immutable. Each result (subscale) is a declared rule: `sum`, `mean`,
`weighted_sum` of option scores or numeric answers, or a `formula` in the safe arithmetic language;
missing answers are either not scorable or prorated; the value is classified into intervals
[min, max) (the last one closed) that must neither overlap nor leave gaps.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.forms.domain import formula

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,49}$")]


class Option(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    value: str = Field(min_length=1, max_length=50)
    label: str = Field(min_length=1, max_length=300)
    score: float = 0


class Question(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Identifier
    text: str = Field(min_length=1, max_length=1000)
    type: Literal["single_choice", "multiple_choice", "dropdown", "number", "text", "slider", "scale"]
    required: bool = True
    options: list[Option] = []
    min_choices: int | None = Field(default=None, ge=0)
    max_choices: int | None = Field(default=None, ge=1)
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = Field(default=None, gt=0)
    unit: str | None = None
    max_length: int = Field(default=2000, ge=1, le=20_000)
    labels: dict[str, str] = Field(default={}, description="Scale end labels, e.g. {'0': 'Ingen', '10': 'Extrem'}")
    media: list[str] = []

    @model_validator(mode="after")
    def _shape(self) -> Question:
        if self.type in ("single_choice", "multiple_choice", "dropdown"):
            if not self.options:
                raise ValueError(f"question {self.id}: a {self.type} needs options")
            if len({o.value for o in self.options}) != len(self.options):
                raise ValueError(f"question {self.id}: option values must be unique")
        if self.type in ("slider", "scale") and (self.minimum is None or self.maximum is None):
            raise ValueError(f"question {self.id}: a {self.type} needs minimum and maximum")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"question {self.id}: minimum is above maximum")
        return self

    def validate_answer(self, value: Any) -> Any:
        """The answer in canonical form, or ValueError naming the rule broken."""
        if self.type in ("single_choice", "dropdown"):
            if not isinstance(value, str):  # a list or an object is no option value (and is unhashable)
                raise ValueError("must be one option value (text)")
            if value not in {o.value for o in self.options}:
                raise ValueError("is not one of the options")
            return value
        if self.type == "multiple_choice":
            if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
                raise ValueError("must be a list of option values")
            if len(set(value)) != len(value):
                raise ValueError("chooses an option twice")
            if set(value) - {o.value for o in self.options}:
                raise ValueError("is not among the options")
            if self.min_choices is not None and len(value) < self.min_choices:
                raise ValueError(f"needs at least {self.min_choices} choices")
            if self.max_choices is not None and len(value) > self.max_choices:
                raise ValueError(f"allows at most {self.max_choices} choices")
            return value
        if self.type == "text":
            if not isinstance(value, str):
                raise ValueError("must be text")
            if len(value) > self.max_length:
                raise ValueError(f"is longer than {self.max_length} characters")
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("must be a number")
        if not math.isfinite(value):
            raise ValueError("must be a finite number (not NaN or Infinity)")
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"is below the minimum {self.minimum:g}")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"is above the maximum {self.maximum:g}")
        if self.step is not None and self.minimum is not None:
            steps = (value - self.minimum) / self.step
            if abs(steps - round(steps)) > 1e-9:
                raise ValueError(f"must be in steps of {self.step:g} from {self.minimum:g}")
        return value

    def numeric(self, value: Any) -> float:
        """The value a scoring rule adds up: option scores for choices, the number itself otherwise."""
        if self.type in ("single_choice", "dropdown"):
            return next(o.score for o in self.options if o.value == value)
        if self.type == "multiple_choice":
            return sum(o.score for o in self.options if o.value in value)
        return float(value)


class Interval(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min: float
    max: float
    label: str
    colour: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")
    explanation: str = ""
    flag: bool = False


class ResultRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Identifier
    title: str
    kind: Literal["sum", "mean", "weighted_sum", "formula"]
    questions: list[str] = []
    weights: dict[str, float] = {}
    formula: str | None = None
    missing: Literal["not_scorable", "prorate"] = "not_scorable"
    max_missing: int = Field(default=0, ge=0)
    intervals: list[Interval] = Field(min_length=1)
    visible_to_patient: bool = False
    version: int = Field(default=1, ge=1, description="The rule's version, recorded with each result.")

    @model_validator(mode="after")
    def _consistent(self) -> ResultRule:
        if self.kind == "formula":
            if not self.formula:
                raise ValueError(f"result {self.id}: a formula rule needs a formula")
            formula.parse(self.formula)
        elif not self.questions:
            raise ValueError(f"result {self.id}: a {self.kind} rule needs questions")
        if self.kind == "weighted_sum" and set(self.weights) != set(self.questions):
            raise ValueError(f"result {self.id}: give a weight for every question and only those")
        ordered = sorted(self.intervals, key=lambda i: i.min)
        for interval in ordered:
            if interval.min >= interval.max:
                raise ValueError(f"result {self.id}: interval {interval.label!r} is empty")
        for previous, following in itertools.pairwise(ordered):
            if following.min < previous.max:
                raise ValueError(f"result {self.id}: intervals {previous.label!r} and {following.label!r} overlap")
            if following.min > previous.max:
                raise ValueError(f"result {self.id}: a gap between {previous.label!r} and {following.label!r}")
        return self

    def read_questions(self) -> set[str]:
        return formula.names(self.formula) if self.kind == "formula" and self.formula else set(self.questions)

    def classify(self, value: float) -> Interval | None:
        ordered = sorted(self.intervals, key=lambda i: i.min)
        for index, interval in enumerate(ordered):
            last = index == len(ordered) - 1
            if interval.min <= value < interval.max or (last and value == interval.max):
                return interval
        return None


class FormDefinition(BaseModel):
    """One published version of a form."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    form_id: Identifier
    version: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    kind: Literal["questionnaire", "what_matters", "diary"] = "questionnaire"
    questions: list[Question] = Field(min_length=1)
    results: list[ResultRule] = []

    @model_validator(mode="after")
    def _references(self) -> FormDefinition:
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError("question ids must be unique")
        for rule in self.results:
            unknown = rule.read_questions() - set(ids)
            if unknown:
                raise ValueError(f"result {rule.id} refers to unknown questions: {', '.join(sorted(unknown))}")
        return self

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def digest(self) -> str:
        """The content's fingerprint: publishing the same version again with other content is refused."""
        return hashlib.sha256(json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
