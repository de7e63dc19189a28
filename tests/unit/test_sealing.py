"""Crypto-shredding of events: personal fields sealed with their plan's key on the way to Kafka, opened
on the way off it, and unreadable (a neutral placeholder) once the plan's key is destroyed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel

from services.notifications.domain.model import FanoutRecipient
from services.notifications.domain.triggers import Trigger, patient_deliveries
from shared.contracts import forms, notifications, plans
from shared.contracts.export import MessagePart, MessagingPart
from shared.contracts.messaging import ExportPart
from shared.crypto import envelope
from shared.crypto.envelope import SealBroken
from shared.crypto.keyring import CachingKeyring, InMemoryKeyring
from shared.messaging.events import Event, EventRecord
from shared.messaging.sealing import Sealer

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PNR = "191212121212"


def record(event: Event) -> EventRecord:
    return EventRecord.from_event(event, source="/tests", time=NOW)


def wire(sealed: EventRecord) -> bytes:
    """The record's value as it goes onto the topic."""
    return sealed.to_kafka().value


def started(plan_id: str = "p1", pnr: str = PNR) -> plans.PlanStarted:
    return plans.PlanStarted(
        plan_id=plan_id,
        unit_id="U1",
        patient_personnummer=pnr,
        protected_identity=False,
        program_id="prog",
        program_version="1.0",
        responsible_hsa_id="SE2321000016-T1",
        started_at=NOW,
    )


def recipient(plan_id: str, pnr: str, phone: str) -> FanoutRecipient:
    return FanoutRecipient(plan_id=plan_id, unit_id="U1", personnummer=pnr, addresses={"sms": phone, "inbox": None})


async def test_a_personal_field_is_sealed_on_the_wire_and_opens_to_the_same_event() -> None:
    sealer = Sealer(InMemoryKeyring())
    event = started()
    sealed = await sealer.seal(record(event))
    value = wire(sealed)
    assert PNR.encode() not in value
    on_the_wire = json.loads(value)["patient_personnummer"]
    assert envelope.is_envelope(on_the_wire) and on_the_wire["kid"] == "p1" and on_the_wire["shape"] == "string"
    assert json.loads(value)["program_id"] == "prog"  # the rest stays readable
    opened = await sealer.open(json.loads(value), value)
    assert not opened.shredded
    assert plans.PlanStarted.model_validate(opened.data) == event


async def test_each_plan_has_its_own_key_and_an_envelope_relabelled_for_another_plan_does_not_open() -> None:
    keyring = InMemoryKeyring()
    sealer = Sealer(keyring)
    one = (await sealer.seal(record(started("p1")))).data["patient_personnummer"]
    await sealer.seal(record(started("p2", "190101010101")))
    assert keyring.keys["p1"] != keyring.keys["p2"]
    with pytest.raises(SealBroken):
        await sealer.open({"patient_personnummer": {**one, "kid": "p2"}})
    with pytest.raises(SealBroken):  # the plan id is associated data: p2's key on p1's envelope fails too
        envelope.open_envelope(one, keyring.keys["p2"])
    with pytest.raises(SealBroken):  # and so does a relabelled shape
        await sealer.open({"patient_personnummer": {**one, "shape": "object"}})


async def test_an_altered_ciphertext_does_not_open() -> None:
    sealer = Sealer(InMemoryKeyring())
    sealed = (await sealer.seal(record(started()))).data["patient_personnummer"]
    raw = bytearray(envelope.base64.b64decode(sealed["sealed"]))
    raw[-1] ^= 1
    altered = {**sealed, "sealed": envelope.base64.b64encode(bytes(raw)).decode()}
    with pytest.raises(SealBroken, match="does not open"):
        await sealer.open({"patient_personnummer": altered})


async def test_after_the_key_is_destroyed_a_sealed_value_reads_as_a_placeholder_that_still_validates() -> None:
    keyring = InMemoryKeyring()
    sealer = Sealer(keyring)
    answered = forms.WhatMattersAnswered(
        plan_id="p1", unit_id="U1", response_id="r1", answer="Att kunna cykla till jobbet.", answered_at=NOW
    )
    value = wire(await sealer.seal(record(answered)))
    await keyring.destroy("p1")
    opened = await sealer.open(json.loads(value), value)
    assert opened.shredded
    assert forms.WhatMattersAnswered.model_validate(opened.data).answer == ""
    assert b"cykla" not in value


async def test_an_event_published_after_the_key_was_destroyed_carries_no_content_at_all() -> None:
    keyring = InMemoryKeyring()
    await keyring.destroy("p1")
    sealer = Sealer(keyring)
    sealed = await sealer.seal(record(started()))
    assert sealed.data["patient_personnummer"] == {"sealed": None, "kid": "p1", "alg": "A256GCM", "shape": "string"}
    assert "p1" in keyring.keys and keyring.keys["p1"] is None  # no new key was made for the purged plan
    opened = await sealer.open(sealed.data)
    assert opened.shredded and opened.data["patient_personnummer"] == ""


class Recipients(BaseModel):
    """Nested objects each with their own plan (a batch without a work key; not a registered event)."""

    batch_id: str
    recipients: list[FanoutRecipient]


RECIPIENTS = "se.careplan.tests.recipients.v1"


def recipients_record(payload: Recipients) -> EventRecord:
    return EventRecord("e1", RECIPIENTS, "/tests", "t", payload.batch_id, NOW, payload.model_dump(mode="json"))


def two_recipients() -> list[FanoutRecipient]:
    return [recipient("p1", PNR, "+46701234567"), recipient("p2", "190101010101", "+46709876543")]


SECRETS = (PNR, "190101010101", "+46701234567", "+46709876543")


async def test_nested_objects_are_each_sealed_with_their_own_plan_and_a_purged_one_reads_as_nobody() -> None:
    keyring = InMemoryKeyring()
    sealer = Sealer(keyring, {RECIPIENTS: Recipients})
    value = wire(await sealer.seal(recipients_record(Recipients(batch_id="b1", recipients=two_recipients()))))
    assert all(secret.encode() not in value for secret in SECRETS)
    on_the_wire = json.loads(value)["recipients"]
    assert [(r["plan_id"], r["personnummer"]["kid"], r["addresses"]["kid"]) for r in on_the_wire] == [
        ("p1", "p1", "p1"),
        ("p2", "p2", "p2"),
    ]
    await keyring.destroy("p1")
    opened = await sealer.open(json.loads(value), value)
    read = Recipients.model_validate(opened.data)
    assert opened.shredded
    assert [(r.personnummer, r.addresses) for r in read.recipients] == [
        ("", {}),
        ("190101010101", {"sms": "+46709876543", "inbox": None}),
    ]
    trigger = Trigger(id="a1", kind="announcement", template="announcement")
    assert patient_deliveries(trigger, read.recipients[0], "ref", NOW) == []  # the purged patient: nobody to send to
    assert len(patient_deliveries(trigger, read.recipients[1], "ref", NOW)) == 2


async def test_an_announcement_batch_has_one_key_of_its_own_destroyed_once_its_reader_handled_it() -> None:
    keyring = InMemoryKeyring()
    sealer = Sealer(keyring)
    batch = notifications.AnnouncementBatch(batch_id="a1:0", announcement_id="a1", recipients=two_recipients())
    value = wire(await sealer.seal(record(batch)))
    assert all(secret.encode() not in value for secret in SECRETS)
    sealed = json.loads(value)["recipients"]  # sealed whole: one envelope, one key, not one per plan
    assert envelope.is_envelope(sealed) and (sealed["kid"], sealed["shape"]) == ("batch_id:a1:0", "array")
    assert set(keyring.keys) == {"batch_id:a1:0"}
    opened = await sealer.open(json.loads(value), value)
    assert notifications.AnnouncementBatch.model_validate(opened.data) == batch
    await sealer.finish(batch.ce_type, opened)
    assert keyring.keys["batch_id:a1:0"] is None
    again = await sealer.open(json.loads(value), value)
    assert again.shredded and notifications.AnnouncementBatch.model_validate(again.data).recipients == []


async def test_an_export_part_is_sealed_whole_and_opens_to_the_plain_dict_its_service_wrote() -> None:
    sealer = Sealer(InMemoryKeyring())
    part = MessagingPart.model_validate(
        {"conversations": [{"conversation_id": "c1", "subject": "Sömn", "started_at": NOW, "messages": []}]}
    )
    part.conversations[0].messages.append(MessagePart(author_kind="patient", sent_at=NOW, text="Jag sover dåligt."))
    event = ExportPart.answering("p1", "e1", "messaging", part, NOW)
    value = wire(await sealer.seal(record(event)))
    assert b"Jag sover" not in value and b"conversation_id" not in value  # the whole part, keys too
    assert json.loads(value)["content"]["shape"] == "object"
    opened = await sealer.open(json.loads(value), value)
    assert ExportPart.model_validate(opened.data).content == event.content


async def test_events_without_personal_fields_and_values_already_sealed_pass_unchanged() -> None:
    sealer = Sealer(InMemoryKeyring())
    ended = record(plans.PlanEnded(plan_id="p1", unit_id="U1", ended_at=NOW, reason="completed"))
    assert await sealer.seal(ended) is ended
    once = await sealer.seal(record(started()))
    assert (await sealer.seal(once)).data == once.data
    unknown = EventRecord("id", "se.careplan.nobody.v1", "/t", "t", "k", NOW, {"text": "x"})
    assert await sealer.seal(unknown) is unknown
    plain = {"plan_id": "p1", "patient_personnummer": PNR}  # put on a topic by hand, or an older record
    assert (await sealer.open(plain)).data == plain


async def test_warming_fetches_every_plan_key_of_a_batch_in_one_call() -> None:
    class CountingKeyring(InMemoryKeyring):
        calls: list[set[str]] = []

        async def keys_for(self, plan_ids: Any, *, create: bool, short_lived: bool = False) -> dict[str, bytes | None]:
            self.calls.append(set(plan_ids))
            return await super().keys_for(plan_ids, create=create, short_lived=short_lived)

    inner = CountingKeyring()
    sealer = Sealer(CachingKeyring(inner, ttl_seconds=60))
    records = [record(started(f"p{i}")) for i in range(5)]
    await sealer.warm(records)
    for r in records:
        await sealer.seal(r)
    assert inner.calls == [{f"p{i}" for i in range(5)}]
