"""A commit whose acknowledgement is lost is sent again, not the whole change: the change and its
events happen once (re-running the work would write them twice, the events under new ids)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import AutoReconnect

from launcher.stack import Platform
from shared.audit import AuditLog
from shared.clock import SystemClock
from shared.contracts.plans import PlanEnded
from shared.storage.unit_of_work import OUTBOX_COLLECTION, MongoUnitOfWork, Transaction

pytestmark = pytest.mark.integration


@pytest.fixture
async def uow(servers: Platform) -> Any:
    assert servers.addresses is not None
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.addresses.mongodb_uri, tz_aware=True)
    db = client[f"test_commit_{uuid.uuid4().hex[:8]}"]
    clock = SystemClock()
    audit = AuditLog(db, service="t", pepper="pepper!!", clock=clock)
    yield MongoUnitOfWork(client, db, clock=clock, source="/tests", audit_log=audit)
    await client.drop_database(db.name)
    await client.close()


async def test_a_commit_acknowledgement_lost_once_commits_the_change_once(
    uow: MongoUnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_commit = AsyncClientSession.commit_transaction
    commits: list[str] = []

    async def commit_then_lose_the_answer(session: AsyncClientSession) -> None:
        await real_commit(session)
        commits.append("committed")
        if len(commits) == 1:  # the server committed; its answer never arrived
            lost = AutoReconnect("connection reset while reading the commit's reply")
            lost._add_error_label("UnknownTransactionCommitResult")
            raise lost

    monkeypatch.setattr(AsyncClientSession, "commit_transaction", commit_then_lose_the_answer)
    runs: list[int] = []

    async def work(tx: Transaction) -> str:
        runs.append(1)
        await tx.session.client[uow.db.name]["items"].insert_one({"n": len(runs)}, session=tx.session)
        tx.publish(PlanEnded(plan_id="p-1", unit_id="SE2321000016-TEST01", ended_at=tx.clock.now(), reason="probe"))
        return "done"

    assert await uow.run(work) == "done"

    assert len(runs) == 1, "the work ran again after a commit whose outcome was unknown"
    assert await uow.db["items"].count_documents({}) == 1
    assert await uow.db[OUTBOX_COLLECTION].count_documents({}) == 1
    assert commits == ["committed", "committed"]  # only the commit was sent again
