"""One error model for every service: RFC 9457 problem details (`application/problem+json`).

Every 4xx and 503 answer has the same shape, whichever layer refused the request: a domain error,
FastAPI's request validation, an unknown route, or a backing server that is down. Field paths name
what is at fault; the offending values are never echoed (they may be personal data, or huge).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pymongo.errors import ConnectionFailure
from redis.exceptions import ConnectionError as RedisConnectionError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.kernel import errors

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = "5"

STATUS_OF: dict[type[errors.DomainError], int] = {
    errors.BadRequest: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.Invalid: 422,
}
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    503: "Service unavailable",
}


class FieldError(BaseModel):
    """One input at fault: its dotted path (`values.distance`), where it was (`body`, `query`, `path`),
    and the rule it broke."""

    field: str
    location: str = "body"
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details; `field` repeats the first field at fault for simple clients."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    field: str | None = None
    errors: list[FieldError] = []


def status_of(exc: errors.DomainError) -> int:
    """The HTTP status a domain error maps to (the most specific class wins)."""
    for cls in type(exc).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 400


def problem_response(
    status: int, detail: str, *, field_errors: list[FieldError] | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A problem-details answer."""
    field_errors = field_errors or []
    problem = Problem(
        type=f"urn:careplan:problem:{status}",
        title=TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        field=field_errors[0].field if field_errors else None,
        errors=field_errors,
    )
    return JSONResponse(
        problem.model_dump(mode="json", exclude_none=True), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def validation_field_errors(raw: list[Any]) -> list[FieldError]:
    """FastAPI's validation errors as field paths and rules, without the input values."""
    result = []
    for err in raw:
        loc = [str(part) for part in err.get("loc", ())]
        location = loc[0] if loc and loc[0] in ("body", "query", "path", "header", "cookie") else "body"
        path = loc[1:] if loc and loc[0] == location else loc
        message = str(err.get("msg", "invalid"))[:300]
        result.append(FieldError(field=".".join(path) or "(body)", location=location, message=message))
    return result


def install_problem_handlers(app: FastAPI) -> None:
    """Map every refusal to problem details (registered once, by the shared app factory)."""

    @app.exception_handler(errors.DomainError)
    async def domain_error(_: Request, exc: errors.DomainError) -> JSONResponse:
        status = status_of(exc)
        field_errors = [FieldError(field=exc.field, message=exc.message)] if exc.field else []
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return problem_response(status, exc.message, field_errors=field_errors, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        field_errors = validation_field_errors(list(exc.errors()))
        names = ", ".join(dict.fromkeys(e.field for e in field_errors))
        return problem_response(422, f"invalid input: {names}"[:500], field_errors=field_errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(exc.status_code, str(exc.detail)[:300], headers=dict(exc.headers or {}) or None)

    @app.exception_handler(ConnectionFailure)
    @app.exception_handler(RedisConnectionError)
    async def unavailable(_: Request, __: Exception) -> JSONResponse:
        # The transaction was not committed: nothing was half-stored, and the client may retry.
        return problem_response(
            503,
            "a backing service is unavailable; nothing was changed, try again shortly",
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
