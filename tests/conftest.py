"""Test fixtures: one real platform (embedded servers, or the external ones configured) per session."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from launcher.demo import complete_personnummer
from launcher.stack import Platform, external_addresses, seconds_to_noon_stockholm
from shared.kernel.principals import Patient, Staff
from shared.kernel.roles import Role
from shared.messaging.naming import install_namespace
from shared.security.tokens import issue_token

UNIT = "SE2321000016-TEST01"
OTHER_UNIT = "SE2321000016-TEST02"
PROGRAMS_DIR = Path(__file__).resolve().parent.parent / "services" / "plans" / "programs"
INSTRUMENTS = Path(__file__).resolve().parent.parent / "services" / "forms" / "instruments"


def new_platform(tmp_path_factory: pytest.TempPathFactory) -> Platform:
    """A platform on servers of its own (embedded), or on the external ones configured (a shared staging
    cluster), not yet started. Its databases, and on external servers its topics and consumer groups, are
    namespaced by run (and removed when it stops), so runs and a running stack never meet."""
    run = f"t{uuid.uuid4().hex[:8]}_"
    return Platform(
        tmp_path_factory.mktemp("careplan"),
        database_prefix=run,
        topic_prefix=run if external_addresses() else "",
        mongo_in_memory=True,
        extra_env={"OUTBOX_POLL_SECONDS": "0.2", "TIMER_POLL_SECONDS": "0.2"},
        service_overrides={
            "notifications": {"CLOCK_OFFSET_SECONDS": str(seconds_to_noon_stockholm()), "SMS_TIMEOUT_SECONDS": "1.5"}
        },
    )


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The real backing servers (embedded, or the external ones configured), started once per session.

    Integration tests use these alone (one adapter against one real server); `platform` adds the
    six service processes for the end-to-end tests."""
    running = new_platform(tmp_path_factory)
    install_namespace(running.topic_prefix)  # this process's consumers and tests' raw reads are the run's too
    try:
        running.start_servers()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def platform(servers: Platform) -> Platform:
    """All six services as separate processes on the real servers, started once."""
    servers.start_services()
    return servers


class Tokens:
    """Mints tokens signed with the platform's dev key."""

    def __init__(self, private_key: bytes) -> None:
        self._key = private_key

    def staff(self, *roles: Role, unit: str = UNIT, hsa_id: str = "SE2321000016-T001") -> str:
        principal = Staff(hsa_id=hsa_id, unit_id=unit, roles=frozenset(roles or (Role.THERAPIST,)))
        return issue_token(principal, self._key, audience="careplan", issuer="careplan-dev")

    def patient(self, personnummer: str) -> str:
        return issue_token(Patient(personnummer=personnummer), self._key, audience="careplan", issuer="careplan-dev")


@pytest.fixture(scope="session")
def tokens(servers: Platform) -> Tokens:
    return Tokens(servers.private_key.read_bytes())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def plans_api(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def mongo_uri(servers: Platform) -> str:
    assert servers.addresses is not None
    return servers.addresses.mongodb_uri


@pytest.fixture
async def mongo(mongo_uri: str) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri, tz_aware=True)
    yield client
    await client.close()


def service_db(platform: Platform, mongo: AsyncMongoClient[dict[str, Any]], service: str) -> Any:
    return mongo[f"{platform.database_prefix}careplan_{service}"]


_serial = iter(range(100, 999))


def new_personnummer(birth_date: str = "19800101") -> str:
    """A fresh valid personnummer (distinct serial numbers keep tests independent)."""
    return complete_personnummer(birth_date, f"{next(_serial):03d}")


async def publish_programs(platform: Platform, tokens: Tokens) -> list[str]:
    """Publish the shipped programs on `platform`; their ids."""
    published = []
    async with httpx.AsyncClient(base_url=platform.urls["plans"], timeout=30) as client:
        for path in sorted(PROGRAMS_DIR.glob("*.json")):
            program = json.loads(path.read_text())
            response = await client.post("/programs", json=program, headers=bearer(tokens.staff(Role.PUBLISHER)))
            assert response.status_code in (200, 201), response.text
            published.append(program["program_id"])
    return published


@pytest.fixture(scope="session")
async def published_programs(platform: Platform, tokens: Tokens) -> list[str]:
    """The shipped programs, published once."""
    return await publish_programs(platform, tokens)


@pytest.fixture(scope="session")
def published_forms(platform: Platform, tokens: Tokens) -> list[str]:
    """The shipped standard instruments, published once."""
    from launcher.demo import publish_instruments

    return publish_instruments(platform.urls["forms"], platform.private_key.read_bytes())
