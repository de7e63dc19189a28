"""The plans service's use cases, grouped by concern; HTTP routes and consumers call these."""

from __future__ import annotations

from services.plans.service_layer.access import PlanAccess
from services.plans.service_layer.editing import PlanEditing
from services.plans.service_layer.handover import ActiveKeys, PlanTransfers, UnitCatalog, UnitProgramsRepository
from services.plans.service_layer.lifecycle import PlanLifecycle
from services.plans.service_layer.ports import FlagRepository, PlanRepository, ProgramRepository
from services.plans.service_layer.programs import ProgramCatalog
from services.plans.service_layer.read_model import FlagProjector
from services.plans.service_layer.reads import PlanReads
from shared.ownership.repository import OwnershipRepository
from shared.storage.unit_of_work import UnitOfWork


class PlansService:
    """`catalog`: programs; `lifecycle`: start, responsible, end; `editing`: a plan's content;
    `reads`: views, lists, FHIR; `flags`: the unit lists' read model fed by other services' events;
    `units`: the program versions each unit runs; `transfers`: a plan changing hands in a handover."""

    def __init__(
        self,
        uow: UnitOfWork,
        programs: ProgramRepository,
        plans: PlanRepository,
        flags: FlagRepository,
        ownership: OwnershipRepository,
        units: UnitProgramsRepository,
        keys: ActiveKeys,
    ) -> None:
        self.catalog = ProgramCatalog(uow, programs)
        access = PlanAccess(uow, self.catalog, plans, ownership)
        self.lifecycle = PlanLifecycle(access)
        self.editing = PlanEditing(access)
        self.reads = PlanReads(access, flags)
        self.flags = FlagProjector(flags)
        self.units = UnitCatalog(access, units)
        self.transfers = PlanTransfers(access, units, keys)
