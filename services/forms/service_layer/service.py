"""The forms service's use cases, one object per area, built over the stores and the timer scheduler."""

from __future__ import annotations

from services.forms.service_layer.access import PlanAccess, PlanTimers
from services.forms.service_layer.activities import MISSED_TIMER, ActivityService
from services.forms.service_layer.batteries import OCCASION_TIMER, REMINDER_TIMER, BatteryService
from services.forms.service_layer.definitions import DefinitionService
from services.forms.service_layer.flags import INACTIVITY_TIMER, FlagService
from services.forms.service_layer.plan_events import MODULE_NOTIFY_TIMER, PlanEventHandlers
from services.forms.service_layer.ports import Stores
from services.forms.service_layer.responses import ResponseService
from services.forms.service_layer.results import ResultService
from shared.storage.timers import TimerHandler, TimerScheduler
from shared.storage.unit_of_work import UnitOfWork


class FormsService:
    """Definitions, responses, results, flags, batteries, activity plans, and the handlers of other
    services' events and of the durable timers."""

    def __init__(self, uow: UnitOfWork, stores: Stores, timers: TimerScheduler) -> None:
        self.uow = uow
        self.stores = stores
        self.access = PlanAccess(stores.ownership, stores.plans, uow.audit_log)
        self.timers = PlanTimers(timers, stores.timers)
        self.definitions = DefinitionService(uow, stores.forms)
        self.flags = FlagService(uow, stores, self.access, self.timers)
        self.batteries = BatteryService(uow, stores, self.access, self.timers)
        self.activities = ActivityService(uow, stores, self.access, self.timers, self.flags)
        self.responses = ResponseService(uow, stores, self.access, self.definitions, self.flags)
        self.results = ResultService(stores, self.access, self.definitions)
        self.plan_events = PlanEventHandlers(stores, self.access, self.timers, self.flags, self.batteries)

    def timer_handlers(self) -> dict[str, TimerHandler]:
        """Each kind of timer this service schedules, and what runs when one is due."""
        handlers: dict[str, TimerHandler] = {
            MODULE_NOTIFY_TIMER: self.plan_events.on_module_notify_timer,
            OCCASION_TIMER: self.batteries.on_occasion_timer,
            REMINDER_TIMER: self.batteries.on_reminder_timer,
            INACTIVITY_TIMER: self.flags.on_inactivity_timer,
            MISSED_TIMER: self.activities.on_missed_timer,
        }
        return {kind: self.timers.firing(handler) for kind, handler in handlers.items()}
