"""Wiring of the notifications service: `uvicorn --factory services.notifications.bootstrap:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.notifications.adapters.providers import HttpSmsGateway, SmtpEmail
from services.notifications.adapters.rate_limit import SharedRateLimit
from services.notifications.adapters.repository import NotificationsRepository
from services.notifications.entrypoints.consumers import consumers
from services.notifications.entrypoints.routes import router
from services.notifications.service_layer.delivery import RETRY_TIMER, Deliverer
from services.notifications.service_layer.handlers import NotificationsService
from services.notifications.settings import NotificationsSettings
from shared.bootstrap import ServiceSpec, create_service_app
from shared.clock import Clock
from shared.runtime import Runtime
from shared.settings import load_settings


def build_service(runtime: Runtime) -> NotificationsService:
    settings: NotificationsSettings = runtime.settings  # type: ignore[assignment]
    providers = {
        "email": SmtpEmail(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            use_tls=settings.smtp_tls,
        ),
        "sms": HttpSmsGateway(
            settings.sms_gateway_url,
            username=settings.sms_gateway_username,
            password=settings.sms_gateway_password,
            timeout=settings.sms_timeout_seconds,
        ),
    }
    limits = {
        "email": SharedRateLimit(runtime.redis, "smtp", settings.email_rate_limit_per_second),
        "sms": SharedRateLimit(runtime.redis, "sms-gateway", settings.sms_rate_limit_per_second),
    }
    repo = NotificationsRepository(runtime.db)
    deliverer = Deliverer(
        runtime.uow,
        repo,
        runtime.timers,
        providers,
        limits,  # type: ignore[arg-type]
        pepper=settings.audit_pepper,
        concurrency=settings.delivery_concurrency,
        batch_sizes={"sms": settings.sms_batch_size},
    )
    return NotificationsService(runtime.uow, repo, deliverer, runtime.broker)


SPEC = ServiceSpec(
    title="Care plan: notifications",
    description="E-mail, SMS and 1177-inbox notifications, preferences and announcement fan-out.",
    build=build_service,
    routers=[router],
    consumers=consumers,
    timer_handlers=lambda _, service: {RETRY_TIMER: service.deliverer.on_retry_timer},
    ensure_indexes=lambda runtime: NotificationsRepository(runtime.db).ensure_indexes(),
)


def create_app(settings: NotificationsSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or load_settings(NotificationsSettings), clock)
