"""MongoDB side of forms' export: every response of a plan, of every form (the `(plan_id, form_id)`
index of `MongoResponseStore` serves the read by plan id)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from services.forms.domain.model import Response
from shared.storage.documents import from_document


class MongoPlanResponses:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._responses = db["responses"]

    async def of_plan(self, plan_id: str, session: Any = None) -> list[Response]:
        cursor = self._responses.find({"plan_id": plan_id}, session=session)
        return [r async for d in cursor if (r := from_document(Response, d)) is not None]
