"""The notifications service's MongoDB stores, wired together."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from services.notifications.adapters.bulletins import MongoBulletins, MongoStaffDirectory
from services.notifications.adapters.ledger import MongoInbox, MongoLedger
from services.notifications.adapters.recipients import MongoRecipients
from services.notifications.service_layer.ports import Stores


def mongo_stores(db: AsyncDatabase[dict[str, Any]]) -> Stores:
    return Stores(
        recipients=MongoRecipients(db),
        staff=MongoStaffDirectory(db),
        ledger=MongoLedger(db),
        inbox=MongoInbox(db),
        bulletins=MongoBulletins(db),
    )


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    for store in (MongoRecipients(db), MongoStaffDirectory(db), MongoLedger(db), MongoInbox(db), MongoBulletins(db)):
        await store.ensure_indexes()
