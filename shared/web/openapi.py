"""Every service's OpenAPI document declares the same things: the bearer scheme on every route that
takes a token, and the problem-details answers (RFC 9457) each route can give."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from shared.web.dependencies import get_principal
from shared.web.problems import PROBLEM_JSON, TITLES, Problem

BEARER = "bearerAuth"
PUBLIC_ERRORS = (422, 503)
AUTHENTICATED_ERRORS = (401, 403, 404, 409, 413, 422, 503)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def takes_token(route: APIRoute) -> bool:
    """Whether the route authenticates its caller (it depends on the bearer token, directly or not)."""
    return any(call is get_principal for call in _calls(route.dependant))


def _problem_response(status: int) -> dict[str, Any]:
    return {
        "description": TITLES.get(status, "Error"),
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document with security and problem responses on every operation."""
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = Problem.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    for name, definition in components["schemas"]["Problem"].pop("$defs", {}).items():
        components["schemas"].setdefault(name, definition)
    components["securitySchemes"] = {BEARER: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
    secured = {
        (route.path, method.lower())
        for route in app.routes
        if isinstance(route, APIRoute) and takes_token(route)
        for method in route.methods or ()
    }
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            is_secured = (path, method) in secured
            if is_secured:
                operation["security"] = [{BEARER: []}]
            responses = operation.setdefault("responses", {})
            for status in AUTHENTICATED_ERRORS if is_secured else PUBLIC_ERRORS:
                responses[str(status)] = _problem_response(status)
    return schema


def install_openapi(app: FastAPI) -> None:
    """Generate the document once, on first request."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
