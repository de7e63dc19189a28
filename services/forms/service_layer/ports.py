"""What the forms use cases need from storage: one small protocol per kind of object. MongoDB
implements them (`adapters/`), in-memory fakes do in unit tests (`tests/unit/forms/fakes.py`).
`session` is the transaction's (`tx.session`), or None for a read outside one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from services.forms.domain.activity import ActivityPlan, Registration
from services.forms.domain.battery import Battery, FlagRule, StartBattery
from services.forms.domain.definition import FormDefinition
from services.forms.domain.model import Flag, PlanForms, Response
from shared.ownership import OwnershipRepository


class FormStore(Protocol):
    """Published form versions (immutable)."""

    async def latest(self, form_id: str) -> FormDefinition | None: ...

    async def version(self, form_id: str, version: int) -> FormDefinition | None: ...

    async def digest(self, form_id: str, version: int, session: Any = None) -> str | None: ...

    async def add(self, form: FormDefinition, digest: str, by: str, session: Any) -> None: ...


class PlanFormsStore(Protocol):
    """Forms' own state of each plan (open forms, latest activity)."""

    async def get(self, plan_id: str, session: Any = None) -> PlanForms | None: ...

    async def save(self, plan: PlanForms, session: Any) -> None: ...


class UnitPlans(Protocol):
    """Which plans a unit holds now (from the plans' ownership)."""

    async def active_plan_ids(self, unit_id: str, session: Any = None) -> list[str]: ...


class ResponseStore(Protocol):
    async def save(self, response: Response, session: Any) -> None: ...

    async def get(self, response_id: str, session: Any = None) -> Response | None: ...

    async def of_plan(self, plan_id: str, form_id: str, session: Any = None) -> list[Response]: ...


class FlagStore(Protocol):
    async def add(self, flag: Flag, session: Any) -> bool:
        """Store a flag; False if it was raised before (its id says what raised it)."""

    async def get(self, flag_id: str, session: Any = None) -> Flag | None: ...

    async def save(self, flag: Flag, session: Any) -> None: ...

    async def of_plan(self, plan_id: str) -> list[Flag]: ...


class FlagRuleStore(Protocol):
    async def add(self, rule: FlagRule, session: Any) -> None: ...

    async def delete(self, rule_id: str, unit_id: str, session: Any) -> bool: ...

    async def get(self, rule_id: str, session: Any = None) -> FlagRule | None: ...

    async def of_unit(self, unit_id: str, session: Any = None) -> list[FlagRule]: ...


class BatteryStore(Protocol):
    async def save(self, battery: Battery, session: Any) -> None: ...

    async def get(self, battery_id: str, session: Any = None) -> Battery | None: ...

    async def of_plan(self, plan_id: str, session: Any = None) -> list[Battery]: ...

    async def set_start_battery(self, program_id: str, battery: StartBattery, session: Any) -> None: ...

    async def start_battery(self, program_id: str, session: Any = None) -> StartBattery | None: ...


class ActivityStore(Protocol):
    async def save(self, activity: ActivityPlan, session: Any) -> None: ...

    async def get(self, activity_plan_id: str, session: Any = None) -> ActivityPlan | None: ...

    async def of_plan(self, plan_id: str) -> list[ActivityPlan]: ...

    async def add_registration(self, registration: Registration, session: Any) -> None: ...

    async def registration(self, registration_id: str, session: Any = None) -> Registration | None: ...

    async def registrations(self, activity_plan_id: str) -> list[Registration]: ...


class TimerRegistry(Protocol):
    """Which durable timers belong to which plan, so that a plan's end can cancel them all."""

    async def add(self, plan_id: str, key: str, session: Any) -> None: ...

    async def remove(self, key: str, session: Any) -> None: ...

    async def of_plan(self, plan_id: str, session: Any = None) -> list[str]: ...


@dataclass(frozen=True)
class Stores:
    """Every store the forms use cases use (built once in bootstrap, or of fakes in tests)."""

    forms: FormStore
    plans: PlanFormsStore
    ownership: OwnershipRepository
    unit_plans: UnitPlans
    responses: ResponseStore
    flags: FlagStore
    rules: FlagRuleStore
    batteries: BatteryStore
    activities: ActivityStore
    timers: TimerRegistry
