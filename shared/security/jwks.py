"""Token verification keys from an identity provider's JWKS endpoint, with key rotation.

The key set is fetched once and cached for `cache_seconds`; a token naming a `kid` that is not in the
cached set makes the client fetch the set again (at most once per `cooldown_seconds`, so tokens with
made-up kids cannot hammer the provider). A key the provider removed stops verifying once the cache
expires. A token whose key the set does not have, or whose key cannot verify any accepted algorithm
(an HMAC secret, an `alg` the key's type cannot do), is an invalid token (401), never a server error.
"""

from __future__ import annotations

import logging

import jwt
from jwt import PyJWKClient

from shared.security.tokens import InvalidToken, algorithms_for

log = logging.getLogger(__name__)


class JwksKeys:
    """The signing keys an identity provider publishes at `url` (a `KeySource` of `TokenVerifier`)."""

    def __init__(
        self,
        url: str,
        *,
        algorithms: list[str] | None = None,
        cache_seconds: float = 300.0,
        cooldown_seconds: float = 30.0,
        timeout_seconds: float = 5.0,
    ) -> None:
        self._client = PyJWKClient(
            url,
            cache_keys=False,  # a per-kid cache would keep a removed key forever: only the set is cached
            cache_jwk_set=True,
            lifespan=cache_seconds,
            cooldown_duration=cooldown_seconds,
            timeout=timeout_seconds,
        )
        self._allowed = set(algorithms) if algorithms else None

    def key_for(self, token: str) -> tuple[object, list[str]]:
        """The key named by the token's `kid`, and the algorithms both it and the settings allow."""
        try:
            signing_key = self._client.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as exc:
            log.warning("the JWKS endpoint did not answer (%s); token refused", type(exc.__cause__).__name__)
            raise InvalidToken("the token's signing key could not be fetched") from None
        except jwt.PyJWTError as exc:  # no kid, unknown kid, or a set without usable signing keys
            raise InvalidToken(f"no signing key for this token ({type(exc).__name__})") from None
        # The key's `alg` (as published, or PyJWT's default for its type: RS256 for RSA), if the key can do it.
        usable = [a for a in algorithms_for(signing_key.key) if a == signing_key.algorithm_name]
        if self._allowed is not None:
            usable = [a for a in usable if a in self._allowed]
        if not usable:
            raise InvalidToken("the token's signing key cannot verify any accepted algorithm")
        return signing_key.key, usable
