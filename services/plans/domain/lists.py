"""The unit lists ("Mina", "Alla", "Avslutade"): one row per plan, masked for protected identity."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from services.plans.domain.flags import Flag, FlagKind
from services.plans.domain.plan import Plan
from shared.kernel.identity import mask_personnummer

PROTECTED_NAME = "Skyddade personuppgifter"


class UnitList(StrEnum):
    MINE = "mine"
    ALL = "all"
    ENDED = "ended"


class PlanRow(BaseModel):
    plan_id: str
    patient_name: str
    personnummer: str
    protected_identity: bool
    responsible_hsa_id: str
    program_id: str
    program_version: str
    program_title: str
    started_at: datetime
    ended_at: datetime | None
    last_active_at: datetime | None
    flags: list[Flag]


Rows = list[PlanRow]
"""(An alias: inside `PlanPage` the name `list` is a field.)"""


class PlanPage(BaseModel):
    list: UnitList
    total: int
    page: int
    page_size: int
    items: Rows


def row(plan: Plan) -> PlanRow:
    """A list row; a protected identity shows neither name nor full personnummer."""
    return PlanRow(
        plan_id=plan.id,
        patient_name=PROTECTED_NAME if plan.protected_identity else plan.patient_name,
        personnummer=mask_personnummer(plan.patient_personnummer)
        if plan.protected_identity
        else plan.patient_personnummer,
        protected_identity=plan.protected_identity,
        responsible_hsa_id=plan.responsible_hsa_id,
        program_id=plan.program_id,
        program_version=plan.program_version,
        program_title=plan.program_title,
        started_at=plan.started_at,
        ended_at=plan.ended_at,
        last_active_at=plan.last_active_at,
        flags=sorted(plan.flags, key=lambda f: f.raised_at),
    )


class ListFilter(BaseModel):
    """Filters of a unit list (no personal data: these travel in the URL)."""

    program_id: str | None = None
    responsible_hsa_id: str | None = None
    flag: FlagKind | None = None
    flagged: bool | None = None
