"""HTTP plumbing shared by every service: auth dependencies, error mapping, request metrics."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from prometheus_client import Counter, Histogram
from pymongo.errors import ConnectionFailure
from redis.exceptions import ConnectionError as RedisConnectionError
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

from shared.auth import InvalidToken, Patient, Principal, Role, Staff
from shared.errors import DomainError, Forbidden, Unauthorized

if TYPE_CHECKING:
    from shared.bootstrap import Runtime

HTTP_REQUESTS = Counter("careplan_http_requests_total", "HTTP requests", ["service", "route", "method", "status"])
HTTP_DURATION = Histogram("careplan_http_request_duration_seconds", "HTTP request duration", ["service", "route"])


def get_service(request: Request) -> Any:
    """The service-layer object the service's bootstrap built (a route dependency)."""
    return request.app.state.service


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


async def get_principal(
    request: Request, authorization: Annotated[str | None, Header(include_in_schema=False)] = None
) -> Principal:
    """The caller, from a `Authorization: Bearer <token>` header; 401 otherwise."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("missing bearer token")
    try:
        return get_runtime(request).verifier.verify(authorization[7:].strip())
    except InvalidToken as exc:
        raise Unauthorized(f"invalid token: {exc}") from None


def require_staff(*roles: Role) -> Any:
    """A dependency: the caller must be staff holding one of `roles` (any staff if none given)."""

    async def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Staff:
        if not isinstance(principal, Staff):
            raise Forbidden("this operation is for staff")
        if roles and not principal.has_any(*roles):
            raise Forbidden(f"requires one of the roles: {', '.join(sorted(roles))}")
        return principal

    return Depends(dependency)


async def require_patient(principal: Annotated[Principal, Depends(get_principal)]) -> Patient:
    if not isinstance(principal, Patient):
        raise Forbidden("this operation is for patients")
    return principal


def install_error_handlers(app: FastAPI) -> None:
    """Map domain and auth errors to JSON answers with a message (and the field, when one is at fault)."""

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        body: dict[str, Any] = {"detail": exc.message}
        if exc.field:
            body["field"] = exc.field
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        return JSONResponse(body, status_code=exc.status, headers=headers)

    @app.exception_handler(ConnectionFailure)
    @app.exception_handler(RedisConnectionError)
    async def unavailable(_: Request, exc: Exception) -> JSONResponse:
        # The transaction was not committed: nothing was half-stored, and the client may retry.
        return JSONResponse({"detail": "a backing service is unavailable; nothing was changed, try again shortly"},
                            status_code=503, headers={"Retry-After": "5"})


class RequestMetricsMiddleware(BaseHTTPMiddleware):
    """Counts and times requests by route template (never the raw path: it may carry identifiers)."""

    def __init__(self, app: Any, service: str) -> None:
        super().__init__(app)
        self._service = service

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        HTTP_REQUESTS.labels(self._service, template, request.method, str(response.status_code)).inc()
        HTTP_DURATION.labels(self._service, template).observe(time.perf_counter() - started)
        return response
