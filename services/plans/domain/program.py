"""Program versions: the immutable templates plans are started from (modules → sections → steps).

The file format is this model as JSON; see docs/program-format.md.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

Identifier = str


class StepContent(BaseModel):
    """What a step shows: Markdown text, links, media references and/or a form reference."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    markdown: str = Field(default="", max_length=100_000)
    links: list[HttpUrl] = []
    media: list[str] = Field(default=[], description="Media references (image, video or audio ids).")
    form_ref: str | None = Field(default=None, description="Id of a form in the forms service.")


class Step(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Identifier = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,79}$")
    title: str = Field(min_length=1, max_length=200)
    visible_at_start: bool = True
    content: StepContent = StepContent()


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Identifier = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,79}$")
    title: str = Field(min_length=1, max_length=200)
    steps: list[Step] = Field(min_length=1)


class Module(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Identifier = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,79}$")
    title: str = Field(min_length=1, max_length=200)
    current_at_start: bool = False
    recommended_days: int | None = Field(default=None, ge=1, le=730)
    form_module: bool = False
    sections: list[Section] = Field(min_length=1)


class ProgramVersion(BaseModel):
    """One published version of a program."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["careplan.program/v1"] = "careplan.program/v1"
    program_id: Identifier = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,79}$")
    version: str = Field(pattern=r"^[0-9]+(\.[0-9]+){0,2}$", description="e.g. 1.0 or 2025.1")
    title: str = Field(min_length=1, max_length=200)
    kind: Literal["care_plan", "support", "treatment"] = "care_plan"
    welcome_text: str = Field(min_length=1, max_length=20_000)
    modules: list[Module] = Field(min_length=1)

    @model_validator(mode="after")
    def _ids_unique(self) -> ProgramVersion:
        seen: set[str] = set()
        for kind, identifier in self._all_ids():
            if identifier in seen:
                raise ValueError(f"duplicate {kind} id {identifier!r}: module, section and step ids must be unique")
            seen.add(identifier)
        return self

    def _all_ids(self) -> list[tuple[str, str]]:
        ids: list[tuple[str, str]] = []
        for module in self.modules:
            ids.append(("module", module.id))
            for section in module.sections:
                ids.append(("section", section.id))
                ids.extend(("step", step.id) for step in section.steps)
        return ids

    def module(self, module_id: str) -> Module | None:
        return next((m for m in self.modules if m.id == module_id), None)

    def form_refs(self, module: Module) -> list[str]:
        """The forms a module's steps refer to, in order."""
        return [step.content.form_ref for s in module.sections for step in s.steps if step.content.form_ref]

    def page_ids(self) -> set[str]:
        """Modules and sections: the pages a comment can be written on."""
        return {m.id for m in self.modules} | {s.id for m in self.modules for s in m.sections}

    def step_ids(self) -> set[str]:
        return {step.id for m in self.modules for s in m.sections for step in s.steps}

    def digest(self) -> str:
        """A fingerprint of the content: re-importing a version is allowed only with the same one."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


class ProgramSummary(BaseModel):
    """A published version as the catalogue lists it (no content)."""

    program_id: str
    version: str
    title: str
    kind: str
    digest: str
    published_by: str
    published_at: datetime


class ProgramImported(BaseModel):
    """The answer to a publication: `created` is False when this exact content was already published."""

    program_id: str
    version: str
    created: bool
