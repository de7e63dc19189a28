"""FastAPI dependencies shared by every service: the caller (from the bearer token) and the service object."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.kernel.errors import Forbidden, Unauthorized
from shared.kernel.principals import Patient, Principal, Staff
from shared.kernel.roles import Role
from shared.security.tokens import InvalidToken, TokenVerifier


def get_service(request: Request) -> Any:
    """The service-layer object the service's bootstrap built (a route dependency)."""
    return request.app.state.service


def get_verifier(request: Request) -> TokenVerifier:
    return request.app.state.verifier  # type: ignore[no-any-return]


BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearerAuth",
    bearerFormat="JWT",
    description="A staff or patient token (EdDSA-signed JWT).",
)
"""The bearer scheme: FastAPI declares it in the OpenAPI document of every route that depends on it."""


async def get_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
) -> Principal:
    """The caller, from a `Authorization: Bearer <token>` header; 401 otherwise."""
    if credentials is None or not credentials.credentials:
        raise Unauthorized("missing bearer token")
    verifier = get_verifier(request)
    try:
        if getattr(verifier, "fetches_keys", False):  # a JWKS refetch must not stall the event loop
            return await run_in_threadpool(verifier.verify, credentials.credentials.strip())
        return verifier.verify(credentials.credentials.strip())
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
    """A dependency: the caller must be a patient."""
    if not isinstance(principal, Patient):
        raise Forbidden("this operation is for patients")
    return principal


PatientCaller = Annotated[Patient, Depends(require_patient)]
AnyCaller = Annotated[Principal, Depends(get_principal)]
