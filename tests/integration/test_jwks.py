"""Bearer tokens verified with keys from an identity provider's JWKS endpoint (a local HTTP server on
loopback): key rotation, removed keys, and keys that cannot verify a token's algorithm (401, never 500)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated, Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from fastapi import Depends, FastAPI

from shared.kernel.principals import Principal
from shared.security.jwks import JwksKeys
from shared.security.tokens import InvalidToken, TokenVerifier
from shared.web.dependencies import get_principal
from shared.web.problems import install_problem_handlers

CLAIMS = {
    "aud": "careplan",
    "iss": "https://idp.test",
    "sub": "SE2321000016-T001",
    "kind": "staff",
    "unit": "SE2321000016-TEST01",
}


class IdentityProvider:
    """A JWKS endpoint serving whatever keys the test publishes, counting the fetches."""

    def __init__(self) -> None:
        self.keys: dict[str, dict[str, Any]] = {}
        self.fetches = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.fetches += 1
                body = json.dumps({"keys": list(provider.keys.values())}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"

    def publish(self, kid: str, public_key: Any, alg: str | None = None) -> None:
        jwk = json.loads(jwt.algorithms.get_default_algorithms()[alg or "EdDSA"].to_jwk(public_key))
        self.keys[kid] = jwk | {"kid": kid, "use": "sig"} | ({"alg": alg} if alg else {})

    def publish_raw(self, kid: str, jwk: dict[str, Any]) -> None:
        self.keys[kid] = jwk | {"kid": kid}


@pytest.fixture
def idp() -> Iterator[IdentityProvider]:
    provider = IdentityProvider()
    thread = threading.Thread(target=provider.server.serve_forever, daemon=True)
    thread.start()
    yield provider
    provider.server.shutdown()
    provider.server.server_close()


def token(private_key: Any, kid: str, algorithm: str = "EdDSA") -> str:
    return jwt.encode(CLAIMS | {"exp": int(time.time()) + 300}, private_key, algorithm=algorithm, headers={"kid": kid})


def verifier(url: str, **options: float) -> TokenVerifier:
    keys = JwksKeys(url, cache_seconds=options.get("cache", 300), cooldown_seconds=options.get("cooldown", 0))
    return TokenVerifier(audience="careplan", issuer="https://idp.test", keys=keys)


def test_a_new_key_is_fetched_when_a_token_names_it_and_a_removed_key_stops_verifying(
    idp: IdentityProvider,
) -> None:
    first, second = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    idp.publish("k1", first.public_key())
    tokens = verifier(idp.url, cache=1.0)
    assert tokens.verify(token(first, "k1")).hsa_id == CLAIMS["sub"]  # type: ignore[union-attr]
    assert idp.fetches == 1
    tokens.verify(token(first, "k1"))
    assert idp.fetches == 1  # cached

    idp.publish("k2", second.public_key())  # the provider rotates: a new key appears
    assert tokens.verify(token(second, "k2")).hsa_id == CLAIMS["sub"]  # type: ignore[union-attr]
    assert idp.fetches == 2  # the unknown kid made it fetch the set again

    del idp.keys["k1"]  # ... and retires the old one
    time.sleep(1.2)  # the cached set expires
    with pytest.raises(InvalidToken, match="no signing key"):
        tokens.verify(token(first, "k1"))
    assert tokens.verify(token(second, "k2")).hsa_id == CLAIMS["sub"]  # type: ignore[union-attr]


def test_made_up_kids_do_not_make_it_fetch_again_within_the_cooldown(idp: IdentityProvider) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    idp.publish("k1", key.public_key())
    tokens = verifier(idp.url, cooldown=60)
    tokens.verify(token(key, "k1"))
    for n in range(5):
        with pytest.raises(InvalidToken):
            tokens.verify(token(ed25519.Ed25519PrivateKey.generate(), f"made-up-{n}"))
    assert idp.fetches == 1


def test_keys_that_cannot_verify_the_tokens_algorithm_refuse_the_token(idp: IdentityProvider) -> None:
    p256, rsa_key = ec.generate_private_key(ec.SECP256R1()), rsa.generate_private_key(65537, 2048)
    idp.publish("ec-says-es512", p256.public_key(), alg="ES512")  # an alg the P-256 key cannot do
    idp.publish("rsa", rsa_key.public_key(), alg="RS256")
    idp.publish_raw("hmac", {"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldCE", "alg": "HS256"})
    tokens = verifier(idp.url)
    refused = [
        token(p256, "ec-says-es512", "ES256"),
        token(ec.generate_private_key(ec.SECP521R1()), "ec-says-es512", "ES512"),
        token(rsa_key, "rsa", "PS256"),  # the key is pinned to RS256
        jwt.encode(
            CLAIMS | {"exp": int(time.time()) + 300}, "secret-secret-secret-secret-secret!", headers={"kid": "hmac"}
        ),
        jwt.encode(CLAIMS | {"exp": int(time.time()) + 300}, None, algorithm="none", headers={"kid": "rsa"}),
        "not.a.token",
    ]
    for bad in refused:
        with pytest.raises(InvalidToken):
            tokens.verify(bad)
    assert tokens.verify(token(rsa_key, "rsa", "RS256")).hsa_id == CLAIMS["sub"]  # type: ignore[union-attr]


async def test_over_http_every_refused_token_is_a_401(idp: IdentityProvider) -> None:
    p256 = ec.generate_private_key(ec.SECP256R1())
    idp.publish("ec-says-es512", p256.public_key(), alg="ES512")
    app = FastAPI()
    install_problem_handlers(app)
    app.state.verifier = verifier(idp.url)

    @app.get("/me")
    async def me(principal: Annotated[Principal, Depends(get_principal)]) -> dict[str, str]:
        return {"kind": type(principal).__name__}

    unreachable = TokenVerifier(audience="careplan", issuer="https://idp.test", keys=JwksKeys("http://127.0.0.1:9/x"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        for bad in (token(p256, "ec-says-es512", "ES256"), token(p256, "unknown", "ES256")):
            response = await client.get("/me", headers={"Authorization": f"Bearer {bad}"})
            assert response.status_code == 401, response.text
        app.state.verifier = unreachable  # the identity provider is down: refused, not a server error
        response = await client.get("/me", headers={"Authorization": f"Bearer {token(p256, 'k', 'ES256')}"})
        assert response.status_code == 401
        assert "could not be fetched" in response.json()["detail"]
