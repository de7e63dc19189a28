"""The HTTP edge every service shares: problem details, the body limit, the bearer scheme."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field

from shared.kernel.errors import Conflict, NotFound
from shared.kernel.principals import Staff
from shared.web.body_limit import BodyLimitMiddleware
from shared.web.dependencies import require_staff
from shared.web.openapi import install_openapi
from shared.web.problems import install_problem_handlers


class Command(BaseModel):
    name: str = Field(max_length=20)
    count: int


def app_with_routes(max_bytes: int = 1024) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    install_openapi(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_bytes)

    @app.post("/things", summary="make a thing")
    async def make(command: Command) -> dict[str, str]:
        if command.name == "taken":
            raise Conflict("that name is taken", field="name")
        return {"name": command.name}

    @app.get("/secret/{thing_id}", summary="staff only")
    async def secret(thing_id: str, by: Annotated[Staff, require_staff()]) -> dict[str, str]:
        raise NotFound("no such thing")

    return app


@pytest.fixture
async def client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app_with_routes())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def test_a_domain_error_is_a_problem_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/things", json={"name": "taken", "count": 1})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 409 and problem["title"] == "Conflict" and problem["field"] == "name"
    assert problem["detail"] == "that name is taken"


async def test_validation_errors_name_fields_and_never_echo_the_input(client: httpx.AsyncClient) -> None:
    secret_value = "x" * 50 + "\u00e5\u00e4\u00f6"
    response = await client.post("/things", json={"name": secret_value})
    assert response.status_code == 422
    problem = response.json()
    assert {(e["location"], e["field"]) for e in problem["errors"]} == {("body", "name"), ("body", "count")}
    assert secret_value not in response.text


async def test_unknown_routes_and_missing_tokens_are_problems_too(client: httpx.AsyncClient) -> None:
    missing = await client.get("/nowhere")
    assert missing.status_code == 404 and missing.json()["status"] == 404
    unauthenticated = await client.get("/secret/1")
    assert unauthenticated.status_code == 401 and unauthenticated.headers["www-authenticate"] == "Bearer"


async def test_a_body_over_the_limit_is_refused_before_it_is_parsed(client: httpx.AsyncClient) -> None:
    big = await client.post(
        "/things", content=b"[" + b"1," * 2000 + b"1]", headers={"content-type": "application/json"}
    )
    assert big.status_code == 413 and big.json()["status"] == 413
    assert len(big.content) < 500  # nothing of the input comes back


async def test_a_streamed_body_without_length_is_counted() -> None:
    async def chunks():  # no Content-Length: the middleware counts what arrives
        for _ in range(10):
            yield b"x" * 500

    transport = httpx.ASGITransport(app=app_with_routes(max_bytes=2048))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post("/things", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_the_openapi_document_declares_bearer_and_problem_answers() -> None:
    schema = app_with_routes().openapi()
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    secret = schema["paths"]["/secret/{thing_id}"]["get"]
    assert secret["security"] == [{"bearerAuth": []}]
    assert {"401", "403", "404", "422"} <= set(secret["responses"])
    assert "application/problem+json" in secret["responses"]["404"]["content"]
    assert schema["components"]["securitySchemes"]["bearerAuth"]["bearerFormat"] == "JWT"
    public = schema["paths"]["/things"]["post"]
    assert "security" not in public and "422" in public["responses"]
