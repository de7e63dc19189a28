"""Bearer tokens: signing (dev tooling) and verification (services).

Tokens are JWTs signed with an asymmetric key (EdDSA by default). Verification accepts only the
configured algorithms, and requires expiry, audience and issuer.
"""

from __future__ import annotations

import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from shared.kernel.principals import Patient, Principal, Staff


class InvalidToken(Exception):
    """The bearer token is missing, malformed, expired, or not ours."""


def generate_signing_key() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as (private PEM, public PEM)."""
    private = Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem


def issue_token(
    principal: Principal, private_key_pem: bytes, *, audience: str, issuer: str, ttl_seconds: int = 8 * 3600
) -> str:
    """Sign a token for a principal (dev tooling; production tokens come from the identity provider)."""
    now = int(time.time())
    claims: dict[str, object] = {"aud": audience, "iss": issuer, "iat": now, "exp": now + ttl_seconds}
    if isinstance(principal, Staff):
        claims |= {
            "sub": principal.hsa_id,
            "kind": "staff",
            "unit": principal.unit_id,
            "roles": sorted(principal.roles),
            "name": principal.name,
        }
    else:
        claims |= {"sub": principal.personnummer, "kind": "patient"}
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("dev tokens are signed with an Ed25519 key")
    return jwt.encode(claims, key, algorithm="EdDSA")


class TokenVerifier:
    """Verifies bearer tokens against one public key."""

    def __init__(self, public_key_pem: str, *, audience: str, issuer: str, algorithms: list[str]) -> None:
        forbidden = {a for a in algorithms if a.lower() == "none" or a.upper().startswith("HS")}
        if forbidden:
            raise ValueError(f"AUTH_ALGORITHMS may not contain symmetric or 'none' algorithms: {sorted(forbidden)}")
        self._key = serialization.load_pem_public_key(public_key_pem.encode())
        self._audience = audience
        self._issuer = issuer
        self._algorithms = algorithms

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key,  # type: ignore[arg-type]
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "aud", "iss", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from None
        try:
            if claims.get("kind") == "staff":
                return Staff(
                    hsa_id=claims["sub"],
                    unit_id=claims.get("unit", ""),
                    roles=claims.get("roles", []),
                    name=claims.get("name", ""),
                )
            if claims.get("kind") == "patient":
                return Patient(personnummer=claims["sub"])
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors(include_input=False))
            raise InvalidToken(f"token claims invalid: {fields}") from None
        raise InvalidToken("token kind must be 'staff' or 'patient'")
