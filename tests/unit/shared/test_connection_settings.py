"""Production connections from the service's Secret: Kafka SCRAM or mTLS over TLS, MongoDB TLS, Redis TLS
and ACL user; a service asking for TLS or SASL without its key material refuses to start, naming it."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLScram512
from pydantic import ValidationError

from shared.runtime import token_verifier
from shared.security.connections import kafka_security, mongo_tls_options, redis_options
from shared.security.tokens import InvalidToken
from shared.settings import PlatformSettings, describe_validation_error

CONNECTIONS = {
    "service_name": "plans",
    "careplan_env": "dev",
    "kafka_bootstrap_servers": "kafka:9093",
    "mongodb_uri": "mongodb://plans:pw@mongo:27017/?replicaSet=rs",
    "mongodb_database": "careplan_plans",
}


@pytest.fixture(autouse=True)
def _no_connection_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test passes counts (a developer's shell may have some of these set)."""
    for name in list(os.environ):
        if name.startswith(("KAFKA_", "REDIS_", "MONGODB_TLS", "AUTH_")):
            monkeypatch.delenv(name)


def settings(**values: object) -> PlatformSettings:
    return PlatformSettings(**(CONNECTIONS | values))  # type: ignore[arg-type]


def refusal(**values: object) -> str:
    with pytest.raises(ValidationError) as caught:
        settings(**values)
    return describe_validation_error(caught.value)


def certificate(directory: Path, name: str) -> tuple[Path, Path, str]:
    """A self-signed certificate and its key as files, and the certificate's PEM (a CA in these tests)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    (directory / f"{name}.crt").write_text(pem)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (directory / f"{name}.key").write_bytes(key_pem)
    return directory / f"{name}.crt", directory / f"{name}.key", pem


def test_plain_connections_by_default() -> None:
    plain = settings()
    assert kafka_security(plain) is None
    assert mongo_tls_options(plain) == {} and redis_options(plain) == {}


def test_scram_over_tls_with_the_clusters_ca_from_the_secret(tmp_path: Path) -> None:
    _, _, ca = certificate(tmp_path, "cluster-ca")
    scram = settings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="careplan-plans",
        kafka_sasl_password="s3cret",
        kafka_ca_cert=ca,
    )
    security = kafka_security(scram)
    assert isinstance(security, SASLScram512) and security.ssl_context is not None
    assert security.ssl_context.get_ca_certs()[0]["subject"] == ((("commonName", "cluster-ca"),),)
    client = parse_security(security)
    assert client["security_protocol"] == "SASL_SSL" and client["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (client["sasl_plain_username"], client["sasl_plain_password"]) == ("careplan-plans", "s3cret")
    assert "s3cret" not in repr(scram)  # a password never shows in logs of the settings


def test_scram_without_its_credentials_does_not_start() -> None:
    assert refusal(kafka_security_protocol="SASL_SSL", kafka_sasl_username="careplan-plans") == (
        "setting KAFKA_SASL_PASSWORD is missing: required when KAFKA_SECURITY_PROTOCOL=SASL_SSL; set it from the Secret"
    )
    assert "KAFKA_SASL_USERNAME is missing" in refusal(kafka_security_protocol="SASL_PLAINTEXT")


def test_mutual_tls_presents_the_services_certificate(tmp_path: Path) -> None:
    ca_file, _, _ = certificate(tmp_path, "cluster-ca")
    cert, key, _ = certificate(tmp_path, "careplan-plans")
    mtls = settings(
        kafka_security_protocol="SSL", kafka_ca_file=ca_file, kafka_client_cert_file=cert, kafka_client_key_file=key
    )
    security = kafka_security(mtls)
    assert type(security) is BaseSecurity and security.use_ssl
    assert parse_security(security)["security_protocol"] == "SSL"


def test_incomplete_or_ignored_tls_material_does_not_start(tmp_path: Path) -> None:
    cert, _, _ = certificate(tmp_path, "careplan-plans")
    assert refusal(kafka_security_protocol="SSL", kafka_client_cert_file=cert) == (
        "setting KAFKA_CLIENT_KEY_FILE is missing: mTLS needs both KAFKA_CLIENT_CERT_FILE and KAFKA_CLIENT_KEY_FILE"
    )
    assert "KAFKA_CA_FILE is missing: TLS material with KAFKA_SECURITY_PROTOCOL=PLAINTEXT" in refusal(
        kafka_ca_file=cert
    )
    assert "KAFKA_CLIENT_KEY_FILE is invalid: Path does not point to a file" in refusal(
        kafka_security_protocol="SSL", kafka_client_cert_file=cert, kafka_client_key_file=tmp_path / "gone.key"
    )


def test_mongodb_and_redis_tls_and_the_redis_acl_user(tmp_path: Path) -> None:
    ca, key, _ = certificate(tmp_path, "ca")
    secure = settings(
        mongodb_tls_ca_file=ca,
        mongodb_tls_certificate_key_file=key,
        redis_url="rediss://redis:6380/0",
        redis_username="careplan-notifications",
        redis_password="pw",
        redis_tls_ca_file=ca,
    )
    assert mongo_tls_options(secure) == {"tls": True, "tlsCAFile": str(ca), "tlsCertificateKeyFile": str(key)}
    assert redis_options(secure) == {
        "username": "careplan-notifications",
        "password": "pw",
        "ssl_ca_certs": str(ca),
        "ssl_cert_reqs": "required",
    }
    assert "REDIS_TLS_CA_FILE is missing: needs a rediss:// REDIS_URL" in refusal(
        redis_url="redis://redis:6379/0", redis_tls_ca_file=ca
    )


def test_tokens_verified_from_a_jwks_url_need_no_pem() -> None:
    verifier = token_verifier(settings(auth_jwks_url="http://127.0.0.1:9/jwks.json"))  # nothing listens there
    with pytest.raises(InvalidToken, match="signing key could not be fetched"):
        verifier.verify(jwt.encode({"sub": "x"}, "k" * 32, headers={"kid": "k1"}))
    assert "AUTH_JWKS_URL is invalid" in refusal(auth_jwks_url="file:///etc/passwd")
    with pytest.raises(ValueError, match="AUTH_PUBLIC_KEY_FILE, AUTH_PUBLIC_KEY or AUTH_JWKS_URL"):
        token_verifier(settings())
