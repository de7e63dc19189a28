"""Wiring of the notifications service: `uvicorn --factory services.notifications.bootstrap:create_app`."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from fastapi import FastAPI

from services.notifications.adapters.export import MongoPlanDeliveries
from services.notifications.adapters.providers import HttpSmsGateway, SmtpEmail
from services.notifications.adapters.rate_limit import SharedRateLimit
from services.notifications.adapters.repository import ensure_indexes, mongo_stores
from services.notifications.adapters.work_queue import KafkaWorkQueue
from services.notifications.entrypoints.consumers import consumers
from services.notifications.entrypoints.routes import router
from services.notifications.service_layer.announcements import CHECK_TIMER
from services.notifications.service_layer.delivery import RETRY_TIMER, Deliverer, Sender
from services.notifications.service_layer.service import NotificationsService
from services.notifications.settings import NotificationsSettings
from shared.bootstrap import ServiceSpec, create_service_app
from shared.clock import Clock
from shared.ownership import MongoOwnershipRepository
from shared.runtime import Runtime
from shared.settings import load_settings


def senders(runtime: Runtime, settings: NotificationsSettings) -> dict[str, Sender]:
    """E-mail over SMTP and SMS through the HTTP gateway, each with its rate limit shared in Redis."""
    email = SmtpEmail(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_from,
        username=settings.smtp_username,
        password=settings.smtp_password,
        use_tls=settings.smtp_tls,
    )
    sms = HttpSmsGateway(
        settings.sms_gateway_url,
        username=settings.sms_gateway_username,
        password=settings.sms_gateway_password,
        timeout=settings.sms_timeout_seconds,
    )
    return {
        "email": Sender(email, SharedRateLimit(runtime.redis, "smtp", settings.email_rate_limit_per_second)),
        "sms": Sender(
            sms,
            SharedRateLimit(runtime.redis, "sms-gateway", settings.sms_rate_limit_per_second),
            batch_size=settings.sms_batch_size,
        ),
    }


def build_service(runtime: Runtime) -> NotificationsService:
    settings = cast(NotificationsSettings, runtime.settings)  # create_app builds the runtime from them
    stores = mongo_stores(runtime.db)
    deliverer = Deliverer(
        runtime.uow,
        stores,
        runtime.timers,
        senders(runtime, settings),
        pepper=settings.audit_pepper,
        concurrency=settings.delivery_concurrency,
    )
    work = KafkaWorkQueue(runtime.broker, source=f"/careplan/{settings.service_name}", clock=runtime.clock)
    check = timedelta(seconds=settings.announcement_check_seconds)
    ownership = MongoOwnershipRepository(runtime.db)
    return NotificationsService(runtime.uow, stores, ownership, deliverer, work, announcement_check=check)


async def _ensure_indexes(runtime: Runtime) -> None:
    await ensure_indexes(runtime.db)
    await MongoOwnershipRepository(runtime.db).ensure_indexes()
    await MongoPlanDeliveries(runtime.db).ensure_indexes()


SPEC = ServiceSpec(
    title="Care plan: notifications",
    description="E-mail, SMS and 1177-inbox notifications, preferences and announcement fan-out.",
    build=build_service,
    routers=[router],
    consumers=consumers,
    timer_handlers=lambda _, service: {
        RETRY_TIMER: service.deliverer.on_retry_timer,
        CHECK_TIMER: service.announcements.on_check_timer,
    },
    ensure_indexes=_ensure_indexes,
)


def create_app(settings: NotificationsSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or load_settings(NotificationsSettings), clock)
