"""Personnummer validation and bearer-token verification (pure logic)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from pydantic import BaseModel, ValidationError

from shared.kernel.identity import Personnummer, mask_personnummer
from shared.kernel.principals import Patient, Staff
from shared.kernel.roles import Role
from shared.security.tokens import InvalidToken, TokenVerifier, generate_signing_key, issue_token


class Form(BaseModel):
    personnummer: Personnummer


@pytest.mark.parametrize(
    "given, normalised",
    [
        ("191212121212", "191212121212"),
        ("19121212-1212", "191212121212"),
        ("121212-1212", "201212121212"),  # 10 digits: the century is the most recent
        ("121212+1212", "191212121212"),  # "+": 100 years or older
        ("19121272-1219", "191212721219"),  # samordningsnummer: day + 60
    ],
)
def test_valid_numbers_are_normalised(given: str, normalised: str) -> None:
    assert Form(personnummer=given).personnummer == normalised


@pytest.mark.parametrize(
    "bad",
    [
        "191212121213",  # wrong check digit
        "19121312-1212",  # month 13
        "19120230-1212",  # 30 February
        "١٩١٢١٢١٢١٢١٢",  # Arabic-Indic digits: digits to str.isdigit, not a Swedish number
        "１９１２１２１２１２１２",  # full-width digits
        "19121212 1212",
        "",
        "abc",
    ],
)
def test_invalid_numbers_are_refused_naming_the_field_without_echoing_it(bad: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Form(personnummer=bad)
    error = caught.value.errors(include_input=False)[0]
    assert error["loc"] == ("personnummer",)
    if bad:
        assert bad not in error["msg"]


def test_protected_identity_mask_keeps_only_the_birth_year() -> None:
    assert mask_personnummer("191212121212") == "1912XXXX-XXXX"


@pytest.fixture(scope="module")
def keys() -> tuple[bytes, bytes]:
    return generate_signing_key()


def verifier(public_pem: bytes) -> TokenVerifier:
    return TokenVerifier(public_pem.decode(), audience="careplan", issuer="careplan-dev", algorithms=["EdDSA"])


def test_staff_and_patient_tokens_round_trip(keys: tuple[bytes, bytes]) -> None:
    private, public = keys
    staff = Staff(hsa_id="SE2321000016-A1", unit_id="SE2321000016-U1", roles=frozenset({Role.THERAPIST}))
    assert verifier(public).verify(issue_token(staff, private, audience="careplan", issuer="careplan-dev")) == staff
    patient = Patient(personnummer="191212121212")
    assert verifier(public).verify(issue_token(patient, private, audience="careplan", issuer="careplan-dev")) == patient


def hs256_forgery(claims: dict[str, object], secret: bytes) -> str:
    """The classic key-confusion attack: HMAC-sign with the public key (PyJWT refuses to build it)."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def test_expired_foreign_and_unsigned_tokens_are_refused(keys: tuple[bytes, bytes]) -> None:
    private, public = keys
    staff = Staff(hsa_id="SE2321000016-A1", unit_id="SE2321000016-U1", roles=frozenset({Role.THERAPIST}))
    expired = issue_token(staff, private, audience="careplan", issuer="careplan-dev", ttl_seconds=-10)
    other_audience = issue_token(staff, private, audience="elsewhere", issuer="careplan-dev")
    other_key = issue_token(staff, generate_signing_key()[0], audience="careplan", issuer="careplan-dev")
    claims = {
        "sub": "x",
        "kind": "staff",
        "unit": "SE2321000016-U1",
        "roles": ["therapist"],
        "aud": "careplan",
        "iss": "careplan-dev",
        "exp": int(time.time()) + 60,
    }
    unsigned = jwt.encode(claims, None, algorithm="none")
    symmetric = hs256_forgery(claims, public)
    for token in (expired, other_audience, other_key, unsigned, symmetric, "not-a-token"):
        with pytest.raises(InvalidToken):
            verifier(public).verify(token)


def test_a_patient_token_with_an_invalid_personnummer_is_refused(keys: tuple[bytes, bytes]) -> None:
    private, public = keys
    signing_key = serialization.load_pem_private_key(private, None)
    token = jwt.encode(
        {
            "sub": "191212121213",
            "kind": "patient",
            "aud": "careplan",
            "iss": "careplan-dev",
            "exp": int(time.time()) + 60,
        },
        signing_key,
        algorithm="EdDSA",
    )
    with pytest.raises(InvalidToken, match="personnummer"):
        verifier(public).verify(token)


def test_symmetric_algorithms_cannot_be_configured(keys: tuple[bytes, bytes]) -> None:
    with pytest.raises(ValueError, match="HS256"):
        TokenVerifier(keys[1].decode(), audience="a", issuer="i", algorithms=["EdDSA", "HS256"])


def _foreign_token(algorithm: str) -> str:
    """A well-formed token signed with another key of the given algorithm's family."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if algorithm.startswith("RS")
        else ec.generate_private_key(ec.SECP256R1())
    )
    claims = {
        "sub": "SE2321000016-A1",
        "kind": "staff",
        "unit": "SE2321000016-U1",
        "roles": ["therapist"],
        "aud": "careplan",
        "iss": "careplan-dev",
        "exp": 4_102_444_800,
    }
    return jwt.encode(claims, key, algorithm=algorithm)


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_a_token_in_an_algorithm_the_key_cannot_verify_is_invalid_not_a_crash(
    keys: tuple[bytes, bytes], algorithm: str
) -> None:
    # Once a 500 on every service: PyJWT raised TypeError when RS256/ES256 met the Ed25519 key.
    default = TokenVerifier(keys[1].decode(), audience="careplan", issuer="careplan-dev")
    assert default.algorithms == ["EdDSA"]
    with pytest.raises(InvalidToken):
        default.verify(_foreign_token(algorithm))


def test_algorithms_the_key_cannot_verify_are_refused_at_start(keys: tuple[bytes, bytes]) -> None:
    with pytest.raises(ValueError, match="RS256"):
        TokenVerifier(keys[1].decode(), audience="a", issuer="i", algorithms=["EdDSA", "RS256"])
