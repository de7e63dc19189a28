"""Routes every service has: /livez, /readyz, /metrics, and the audit trail query."""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from pydantic import BaseModel

from shared.audit import AuditRecord
from shared.kernel.identity import Personnummer
from shared.kernel.principals import Staff
from shared.kernel.roles import Role
from shared.observability.metrics import BacklogSampler
from shared.runtime import Runtime
from shared.web.dependencies import require_staff


class AuditQuery(BaseModel):
    """Whose audit trail to read (in the body: identities never go into URLs, which are logged and traced)."""

    personnummer: Personnummer


class Readiness(BaseModel):
    """'ok' or 'unavailable', and each dependency's state."""

    status: str
    checks: dict[str, str]


def add_audit_route(app: FastAPI, runtime: Runtime) -> None:
    @app.post(
        "/audit/query",
        tags=["audit"],
        response_model=list[AuditRecord],
        summary="Who read or changed a patient's data in this service, at the caller's unit",
    )
    async def audit_query(
        query: AuditQuery, by: Annotated[Staff, require_staff(Role.PATIENT_ADMIN, Role.DATA_ADMIN)]
    ) -> list[AuditRecord]:
        return await runtime.audit.for_patient(query.personnummer, by.unit_id)


def add_probes(app: FastAPI, runtime: Runtime, backlog: BacklogSampler) -> None:
    @app.get(
        "/livez",
        tags=["probes"],
        summary="The process is alive (checks nothing external)",
        response_model=dict[str, str],
    )
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/metrics",
        tags=["probes"],
        summary="Prometheus metrics (backlog gauges sampled from the database and broker, at most every 10 s)",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
    )
    async def metrics() -> Response:
        await backlog.refresh()
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    @app.get("/readyz", tags=["probes"], summary="Broker, MongoDB and Redis answer", response_model=Readiness)
    async def readyz() -> JSONResponse:
        checks = await runtime.readiness()
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503
        )
