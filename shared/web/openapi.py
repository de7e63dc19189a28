"""Every service's OpenAPI document declares the same things: the bearer scheme on every route that
takes a token, and the problem-details answers (RFC 9457) each route can give."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from shared.web.problems import PROBLEM_JSON, TITLES, Problem

PUBLIC_ERRORS = (422, 503)
AUTHENTICATED_ERRORS = (401, 403, 404, 409, 413, 422, 503)


def _problem_response(status: int) -> dict[str, Any]:
    return {
        "description": TITLES.get(status, "Error"),
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document with the problem responses on every operation (FastAPI itself declares the
    bearer scheme on each route that depends on `BEARER`)."""
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = Problem.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    for name, definition in components["schemas"]["Problem"].pop("$defs", {}).items():
        components["schemas"].setdefault(name, definition)
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            secured = bool(operation.get("security"))
            for status in AUTHENTICATED_ERRORS if secured else PUBLIC_ERRORS:
                responses[str(status)] = _problem_response(status)
    return schema


def install_openapi(app: FastAPI) -> None:
    """Generate the document once, on first request."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
