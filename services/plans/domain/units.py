"""The program versions a unit runs: a plan is handed over only to a unit running its version."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.contracts.plans import ProgramRef, UnitProgramsDeclared

MAX_PROGRAMS = 200


class ProgramVersionRef(BaseModel):
    """One program version, as a unit declares it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    program_id: str = Field(min_length=1, max_length=80)
    version: str = Field(min_length=1, max_length=20)


class DeclarePrograms(BaseModel):
    """The whole list of program versions the caller's unit runs (it replaces the earlier one)."""

    model_config = ConfigDict(extra="forbid")

    programs: list[ProgramVersionRef] = Field(max_length=MAX_PROGRAMS)

    @field_validator("programs")
    @classmethod
    def _no_duplicates(cls, programs: list[ProgramVersionRef]) -> list[ProgramVersionRef]:
        keys = [(p.program_id, p.version) for p in programs]
        if len(set(keys)) != len(keys):
            raise ValueError("a program version is listed twice")
        return programs


class UnitPrograms(BaseModel):
    """A unit's declaration; `revision` grows with every one."""

    unit_id: str
    programs: list[ProgramVersionRef] = []
    revision: int = 0
    declared_by: str = ""
    declared_at: datetime | None = None

    def runs(self, program_id: str, version: str) -> bool:
        return any(p.program_id == program_id and p.version == version for p in self.programs)

    def declare(self, command: DeclarePrograms, by: str, now: datetime) -> UnitProgramsDeclared:
        """Replace the list; the event tells the handover service (no personal data)."""
        self.programs = sorted(command.programs, key=lambda p: (p.program_id, p.version))
        self.revision += 1
        self.declared_by, self.declared_at = by, now
        return UnitProgramsDeclared(
            unit_id=self.unit_id,
            programs=[ProgramRef(program_id=p.program_id, version=p.version) for p in self.programs],
            revision=self.revision,
            declared_at=now,
        )
