"""In-memory stand-ins for the forms service's stores (`services/forms/service_layer/ports.py`).

They keep copies, as a database does: what a use case changes counts only once it saves it.
"""

from __future__ import annotations

from typing import Any

from services.forms.domain.activity import ActivityPlan, Registration
from services.forms.domain.battery import Battery, FlagRule, StartBattery
from services.forms.domain.definition import FormDefinition
from services.forms.domain.model import Flag, PlanForms, Response
from services.forms.service_layer.ports import Stores
from shared.ownership import OwnershipState
from tests.fakes import InMemoryOwnershipRepository


class InMemoryFormStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, int], tuple[FormDefinition, str]] = {}

    async def latest(self, form_id: str) -> FormDefinition | None:
        versions = [form for (fid, _), (form, _) in self.items.items() if fid == form_id]
        return max(versions, key=lambda f: f.version, default=None)

    async def version(self, form_id: str, version: int) -> FormDefinition | None:
        found = self.items.get((form_id, version))
        return found[0] if found else None

    async def digest(self, form_id: str, version: int, session: Any = None) -> str | None:
        found = self.items.get((form_id, version))
        return found[1] if found else None

    async def add(self, form: FormDefinition, digest: str, by: str, session: Any) -> None:
        if (form.form_id, form.version) in self.items:
            raise KeyError(f"duplicate form version {form.form_id}@{form.version}")
        self.items[(form.form_id, form.version)] = (form, digest)


class InMemoryPlanFormsStore:
    def __init__(self) -> None:
        self.items: dict[str, PlanForms] = {}

    async def get(self, plan_id: str, session: Any = None) -> PlanForms | None:
        found = self.items.get(plan_id)
        return found.model_copy(deep=True) if found else None

    async def save(self, plan: PlanForms, session: Any) -> None:
        self.items[plan.plan_id] = plan.model_copy(deep=True)


class InMemoryUnitPlans:
    """Reads the ownership fake (holds no state of its own: not to be tracked by the unit of work)."""

    def __init__(self, ownership: InMemoryOwnershipRepository) -> None:
        self.ownership = ownership

    async def active_plan_ids(self, unit_id: str, session: Any = None) -> list[str]:
        return [
            o.plan_id
            for o in self.ownership.items.values()
            if o.unit_id == unit_id and o.state is OwnershipState.ACTIVE
        ]


class InMemoryResponseStore:
    def __init__(self) -> None:
        self.items: dict[str, Response] = {}

    async def save(self, response: Response, session: Any) -> None:
        self.items[response.id] = response.model_copy(deep=True)

    async def get(self, response_id: str, session: Any = None) -> Response | None:
        found = self.items.get(response_id)
        return found.model_copy(deep=True) if found else None

    async def of_plan(self, plan_id: str, form_id: str, session: Any = None) -> list[Response]:
        found = [r for r in self.items.values() if r.plan_id == plan_id and r.form_id == form_id]
        return [r.model_copy(deep=True) for r in sorted(found, key=lambda r: r.submitted_at or r.created_at)]


class InMemoryFlagStore:
    def __init__(self) -> None:
        self.items: dict[str, Flag] = {}

    async def add(self, flag: Flag, session: Any) -> bool:
        if flag.id in self.items:
            return False
        self.items[flag.id] = flag.model_copy(deep=True)
        return True

    async def get(self, flag_id: str, session: Any = None) -> Flag | None:
        found = self.items.get(flag_id)
        return found.model_copy(deep=True) if found else None

    async def save(self, flag: Flag, session: Any) -> None:
        self.items[flag.id] = flag.model_copy(deep=True)

    async def of_plan(self, plan_id: str) -> list[Flag]:
        return [f.model_copy(deep=True) for f in self.items.values() if f.plan_id == plan_id]


class InMemoryFlagRuleStore:
    def __init__(self) -> None:
        self.items: dict[str, FlagRule] = {}

    async def add(self, rule: FlagRule, session: Any) -> None:
        self.items[rule.id] = rule.model_copy(deep=True)

    async def delete(self, rule_id: str, unit_id: str, session: Any) -> bool:
        rule = self.items.get(rule_id)
        if rule is None or rule.unit_id != unit_id:
            return False
        del self.items[rule_id]
        return True

    async def get(self, rule_id: str, session: Any = None) -> FlagRule | None:
        found = self.items.get(rule_id)
        return found.model_copy(deep=True) if found else None

    async def of_unit(self, unit_id: str, session: Any = None) -> list[FlagRule]:
        found = sorted((r for r in self.items.values() if r.unit_id == unit_id), key=lambda r: r.created_at)
        return [r.model_copy(deep=True) for r in found]


class InMemoryBatteryStore:
    def __init__(self) -> None:
        self.items: dict[str, Battery] = {}
        self.start_batteries: dict[str, StartBattery] = {}

    async def save(self, battery: Battery, session: Any) -> None:
        self.items[battery.id] = battery.model_copy(deep=True)

    async def get(self, battery_id: str, session: Any = None) -> Battery | None:
        found = self.items.get(battery_id)
        return found.model_copy(deep=True) if found else None

    async def of_plan(self, plan_id: str, session: Any = None) -> list[Battery]:
        found = sorted((b for b in self.items.values() if b.plan_id == plan_id), key=lambda b: b.created_at)
        return [b.model_copy(deep=True) for b in found]

    async def set_start_battery(self, program_id: str, battery: StartBattery, session: Any) -> None:
        self.start_batteries[program_id] = battery.model_copy(deep=True)

    async def start_battery(self, program_id: str, session: Any = None) -> StartBattery | None:
        found = self.start_batteries.get(program_id)
        return found.model_copy(deep=True) if found else None


class InMemoryActivityStore:
    def __init__(self) -> None:
        self.items: dict[str, ActivityPlan] = {}
        self.registrations_: dict[str, Registration] = {}

    async def save(self, activity: ActivityPlan, session: Any) -> None:
        self.items[activity.id] = activity.model_copy(deep=True)

    async def get(self, activity_plan_id: str, session: Any = None) -> ActivityPlan | None:
        found = self.items.get(activity_plan_id)
        return found.model_copy(deep=True) if found else None

    async def of_plan(self, plan_id: str) -> list[ActivityPlan]:
        return [a.model_copy(deep=True) for a in self.items.values() if a.plan_id == plan_id]

    async def add_registration(self, registration: Registration, session: Any) -> None:
        if registration.id in self.registrations_:
            raise KeyError(f"duplicate registration {registration.id}")
        self.registrations_[registration.id] = registration.model_copy(deep=True)

    async def registration(self, registration_id: str, session: Any = None) -> Registration | None:
        found = self.registrations_.get(registration_id)
        return found.model_copy(deep=True) if found else None

    async def registrations(self, activity_plan_id: str) -> list[Registration]:
        found = [r for r in self.registrations_.values() if r.activity_plan_id == activity_plan_id]
        return [r.model_copy(deep=True) for r in sorted(found, key=lambda r: r.occasion)]


class InMemoryTimerRegistry:
    def __init__(self) -> None:
        self.items: dict[str, str] = {}
        """timer key → plan id"""

    async def add(self, plan_id: str, key: str, session: Any) -> None:
        self.items[key] = plan_id

    async def remove(self, key: str, session: Any) -> None:
        self.items.pop(key, None)

    async def of_plan(self, plan_id: str, session: Any = None) -> list[str]:
        return [key for key, owner in self.items.items() if owner == plan_id]


def in_memory_stores(ownership: InMemoryOwnershipRepository) -> Stores:
    return Stores(
        forms=InMemoryFormStore(),
        plans=InMemoryPlanFormsStore(),
        ownership=ownership,
        unit_plans=InMemoryUnitPlans(ownership),
        responses=InMemoryResponseStore(),
        flags=InMemoryFlagStore(),
        rules=InMemoryFlagRuleStore(),
        batteries=InMemoryBatteryStore(),
        activities=InMemoryActivityStore(),
        timers=InMemoryTimerRegistry(),
    )


def stateful(stores: Stores) -> list[object]:
    """The stores a failed unit of work must put back (all but the views of other stores)."""
    return [s for s in vars(stores).values() if not isinstance(s, InMemoryUnitPlans)]
