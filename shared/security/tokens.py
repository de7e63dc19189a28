"""Bearer tokens: signing (dev tooling) and verification (services).

Tokens are JWTs signed with an asymmetric key (EdDSA by default). Verification accepts only the
configured algorithms, and requires expiry, audience and issuer.
"""

from __future__ import annotations

import time
from typing import Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
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


def algorithms_for(key: object) -> list[str]:
    """The asymmetric JWT algorithms a public key can verify (never 'none' or HMAC)."""
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return ["EdDSA"]
    if isinstance(key, ec.EllipticCurvePublicKey):
        by_curve = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512", "secp256k1": "ES256K"}
        return [by_curve[key.curve.name]] if key.curve.name in by_curve else []
    if isinstance(key, rsa.RSAPublicKey):
        return ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
    return []


class KeySource(Protocol):
    """Where the verification key of a token comes from: one configured key, or an identity provider's JWKS."""

    def key_for(self, token: str) -> tuple[object, list[str]]:
        """The public key that must have signed `token` and the algorithms it may be verified with;
        `InvalidToken` when there is none."""
        ...


class StaticKey:
    """One configured public key (PEM)."""

    def __init__(self, public_key_pem: str, algorithms: list[str] | None = None) -> None:
        key = serialization.load_pem_public_key(public_key_pem.encode())
        verifiable = algorithms_for(key)
        if not verifiable:
            raise ValueError(f"AUTH_PUBLIC_KEY: a {type(key).__name__} cannot verify tokens (use Ed25519, EC or RSA)")
        chosen = list(algorithms) if algorithms else verifiable
        unusable = sorted(set(chosen) - set(verifiable))
        if unusable:
            raise ValueError(
                f"AUTH_ALGORITHMS lists algorithms the configured key cannot verify: {unusable} "
                f"(this key verifies {verifiable})"
            )
        self.key = key
        self.algorithms = chosen

    def key_for(self, token: str) -> tuple[object, list[str]]:
        return self.key, self.algorithms


class TokenVerifier:
    """Verifies bearer tokens against one public key (PEM) or the keys of a `KeySource` (a JWKS)."""

    def __init__(
        self,
        public_key_pem: str | None = None,
        *,
        audience: str,
        issuer: str,
        algorithms: list[str] | None = None,
        keys: KeySource | None = None,
    ) -> None:
        if keys is None:
            if public_key_pem is None:
                raise ValueError("set AUTH_PUBLIC_KEY_FILE, AUTH_PUBLIC_KEY or AUTH_JWKS_URL to verify bearer tokens")
            static = StaticKey(public_key_pem, algorithms)
            keys, algorithms = static, static.algorithms
        self._keys = keys
        self.fetches_keys = not isinstance(keys, StaticKey)
        """Verifying may fetch keys over the network (a JWKS): callers on an event loop use a thread."""
        self._audience = audience
        self._issuer = issuer
        self.algorithms = algorithms

    def verify(self, token: str) -> Principal:
        key, algorithms = self._keys.key_for(token)
        try:
            claims = jwt.decode(
                token,
                key,  # type: ignore[arg-type]  # only key types algorithms_for accepts get here
                algorithms=algorithms,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "aud", "iss", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from None
        except (TypeError, ValueError) as exc:  # a malformed token the library did not classify
            raise InvalidToken(f"malformed token ({type(exc).__name__})") from None
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
