"""Every service's OpenAPI document describes every route the same way: a summary, what a success
returns, the problem-details answers, and the bearer scheme on every route that takes a token."""

from __future__ import annotations

import httpx
import pytest

from launcher.catalogue import SERVICES
from launcher.stack import Platform

pytestmark = pytest.mark.integration
PUBLIC = {"/livez", "/readyz", "/metrics", "/sla/due"}


@pytest.mark.parametrize("service", SERVICES)
async def test_every_route_has_a_summary_a_success_answer_and_problem_details(platform: Platform, service: str) -> None:
    async with httpx.AsyncClient(base_url=platform.urls[service], timeout=30) as api:
        document = (await api.get("/openapi.json")).json()
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    operations = [(path, method, op) for path, ops in document["paths"].items() for method, op in ops.items()]
    assert operations
    missing = []
    for path, method, op in operations:
        where = f"{method.upper()} {path}"
        successes = {code: answer for code, answer in op["responses"].items() if code.startswith("2")}
        if not op.get("summary"):
            missing.append(f"{where}: summary")
        if not successes or not all(code == "204" or answer.get("content") for code, answer in successes.items()):
            missing.append(f"{where}: a success answer with a body model (or 204)")
        if "422" not in op["responses"] or "application/problem+json" not in op["responses"]["422"]["content"]:
            missing.append(f"{where}: problem details")
        if path not in PUBLIC and op.get("security") != [{"bearerAuth": []}]:
            missing.append(f"{where}: bearer scheme")
    assert missing == []
