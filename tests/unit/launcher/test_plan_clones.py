"""The benchmark's copies of an ended plan: distinct plans of distinct patients, consistent inside."""

from __future__ import annotations

import uuid

from bson import ObjectId
from personnummer import personnummer

from launcher.plan_clones import copy_of, personnummer_for

PLAN = "3f2b8c1e-0d4a-4c55-9a61-2b7e0f1c9d10"
EVENT = "7a1c2e3d-4b5f-4a6b-8c7d-9e0f1a2b3c4d"
PNR = "197203040123"


def test_every_uuid_is_replaced_consistently_and_the_personnummer_by_the_new_one() -> None:
    mapped: dict[str, str] = {}

    def new_uuid(old: str) -> str:
        return mapped.setdefault(old, str(uuid.uuid4()))

    doc = {
        "_id": f"retention.limit:{PLAN}",
        "plan_id": PLAN,
        "payload": {"plan_id": PLAN, "event": EVENT},
        "recipients": [PNR, "someone else"],
        "trigger": f"{EVENT}|{PNR}",
        "count": 3,
        "oid": ObjectId(),
    }
    copy = copy_of(doc, new_uuid, (PNR, "195001011234"))
    new_plan, new_event = mapped[PLAN], mapped[EVENT]
    assert copy["_id"] == f"retention.limit:{new_plan}" and copy["plan_id"] == copy["payload"]["plan_id"] == new_plan
    assert copy["payload"]["event"] == new_event and copy["trigger"] == f"{new_event}|195001011234"
    assert copy["recipients"] == ["195001011234", "someone else"] and copy["count"] == 3
    assert copy["oid"] != doc["oid"] and doc["plan_id"] == PLAN  # the template is left as it was


def test_copies_get_distinct_valid_personnummer() -> None:
    numbers = [personnummer_for(i) for i in range(2000)]
    assert len(set(numbers)) == 2000 and all(personnummer.valid(n) for n in numbers)
