"""Delivering ledger entries through fake providers: retries with backoff or Retry-After, quiet hours,
permanent failures with dead letters, the e-mail fallback, batches, rate limits, and the retry timer."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.notifications.domain.model import Channel, Delivery, Preferences
from services.notifications.domain.outcomes import Outcome
from services.notifications.domain.policy import MAX_ATTEMPTS
from services.notifications.service_layer.delivery import RETRY_TIMER
from shared.clock import FixedClock
from shared.contracts import notifications as events
from tests.unit.notifications.conftest import PNR, STOCKHOLM, patient
from tests.unit.notifications.fakes import Harness


def delivery(
    h: Harness, channel: Channel, address: str | None, *, n: int = 0, trigger: str = "t1", **fields: object
) -> Delivery:
    return Delivery.model_validate(
        {
            "id": f"{trigger}|r{n}|{channel}",
            "trigger_id": trigger,
            "trigger_kind": "new_message",
            "recipient_kind": "patient",
            "recipient": PNR,
            "channel": channel,
            "address": address,
            "template": "new_message",
            "variables": {"unit_name": "din mottagning"},
            "plan_id": "p1",
            "created_at": h.clock.now(),
            **fields,
        }
    )


def state(h: Harness, delivery_id: str) -> Delivery:
    return h.ledger.deliveries[delivery_id]


async def test_a_sent_email_is_recorded_and_published_without_the_address(h: Harness) -> None:
    await h.deliverer.deliver([delivery(h, "email", "anna@example.se")])
    entry = state(h, "t1|r0|email")
    assert (entry.state, entry.attempts, entry.sent_at) == ("sent", 1, h.clock.now())
    assert [s.delivery_id for s in h.email.sent] == ["t1|r0|email"]
    [published] = h.uow.events_of(events.NotificationDelivered)
    assert published.delivery_id == "t1|r0|email" and "anna" not in published.model_dump_json()


async def test_a_repeated_delivery_is_not_sent_again(h: Harness) -> None:
    for _ in range(3):
        await h.deliverer.deliver([delivery(h, "email", "anna@example.se")])
    assert len(h.email.sent) == 1 and len(h.uow.events_of(events.NotificationDelivered)) == 1


async def test_a_transient_failure_is_retried_with_backoff_by_a_timer(h: Harness) -> None:
    h.email.script = [Outcome("retry", "smtp 451")]
    await h.deliverer.deliver([delivery(h, "email", "anna@example.se")])
    entry = state(h, "t1|r0|email")
    assert (entry.state, entry.attempts, entry.last_error) == ("queued", 1, "smtp 451")
    [timer] = h.timers.pending(RETRY_TIMER)
    assert h.later(1) <= timer.due_at <= h.later(3)  # attempt 1 waits 1-2 s, rounded up to a whole second
    assert timer.due_at == entry.next_attempt_at and timer.payload == {"delivery_ids": ["t1|r0|email"]}


async def test_the_retry_timer_hands_the_due_deliveries_to_a_worker_who_sends_them(h: Harness) -> None:
    h.email.script = [Outcome("retry", "smtp unavailable")]
    await h.deliverer.deliver([delivery(h, "email", "anna@example.se")])
    h.clock.advance(timedelta(seconds=3))
    fired = await h.timers.fire_due(h.clock.now(), h.uow, {RETRY_TIMER: h.deliverer.on_retry_timer})
    assert fired == 1
    [due] = h.uow.events_of(events.DeliveriesDue)
    assert due.delivery_ids == ["t1|r0|email"]
    await h.deliverer.on_deliveries_due(due, None, None)
    assert state(h, "t1|r0|email").state == "sent" and state(h, "t1|r0|email").attempts == 2
    await h.deliverer.on_deliveries_due(due, None, None)  # a redelivered work event: final, left alone
    assert len(h.email.sent) == 1


async def test_a_429_waits_for_its_retry_after(h: Harness) -> None:
    h.sms.script = [Outcome("retry", "sms gateway rate limit (429)", 30)]
    await h.deliverer.deliver([delivery(h, "sms", "+46701234567")])
    assert state(h, "t1|r0|sms").next_attempt_at == h.later(30)
    assert [t.due_at for t in h.timers.pending(RETRY_TIMER)] == [h.later(30)]


async def test_attempts_run_out_into_a_failure_and_a_dead_letter(h: Harness) -> None:
    h.email.script = [Outcome("retry", "smtp 451")]
    await h.deliverer.deliver([delivery(h, "email", "anna@example.se", attempts=MAX_ATTEMPTS - 1)])
    entry = state(h, "t1|r0|email")
    assert (entry.state, entry.last_error) == ("failed", f"gave up after {MAX_ATTEMPTS}: smtp 451")
    assert h.timers.pending() == []
    [dead] = h.uow.events_of(events.DeliveryDeadLettered)
    assert dead.delivery_id == entry.id and "anna" not in dead.model_dump_json()
    assert [f.reason for f in h.uow.events_of(events.NotificationFailed)] == [entry.last_error]


async def test_a_refused_sms_fails_for_good_and_goes_by_email_if_the_patient_enabled_it(h: Harness) -> None:
    await h.service.patients.set_preferences(
        patient(), Preferences(email_enabled=True, email="anna@example.se", sms_enabled=True, phone="+46701234567")
    )
    h.sms.refused.add("+46701234567")
    await h.deliverer.deliver([delivery(h, "sms", "+46701234567")])
    failed = state(h, "t1|r0|sms")
    assert failed.state == "failed" and "400" in (failed.last_error or "")
    [fallback] = [d for d in h.deliveries() if d.channel == "email"]
    assert (fallback.state, fallback.fallback_of, fallback.address) == ("sent", failed.id, "anna@example.se")
    assert [s.address for s in h.email.sent] == ["anna@example.se"] and h.sms.sent == []
    assert [d.delivery_id for d in h.uow.events_of(events.DeliveryDeadLettered)] == [failed.id]


async def test_no_fallback_for_a_patient_without_email(h: Harness) -> None:
    h.sms.refused.add("+46701234567")
    await h.deliverer.deliver([delivery(h, "sms", "+46701234567")])
    assert [d.channel for d in h.deliveries()] == ["sms"] and h.email.sent == []


async def test_a_missing_template_variable_or_address_fails_never_a_half_text(h: Harness) -> None:
    await h.deliverer.deliver(
        [
            delivery(h, "email", "anna@example.se", n=1, custom_subject="Info", custom_body="Öppnar ${datum}"),
            delivery(h, "inbox", None, n=2, custom_subject="Info", custom_body="Öppnar ${datum}"),
            delivery(h, "sms", None, n=3),
        ]
    )
    assert {d.id: d.state for d in h.deliveries()} == {
        "t1|r1|email": "failed",
        "t1|r2|inbox": "failed",
        "t1|r3|sms": "failed",
    }
    assert "datum" in (state(h, "t1|r1|email").last_error or "")
    assert state(h, "t1|r3|sms").last_error == "no sms address"
    assert h.email.sent == [] and h.inbox.items == {}


async def test_an_evening_sms_is_deferred_to_eight_in_one_timer_and_sent_then() -> None:
    clock = FixedClock(datetime(2026, 11, 23, 22, 30, tzinfo=STOCKHOLM))
    h = Harness(clock)
    await h.deliverer.deliver([delivery(h, "sms", f"+4670123456{i}", n=i) for i in range(5)])
    assert {(d.state, d.attempts) for d in h.deliveries()} == {("deferred", 0)}
    [timer] = h.timers.pending(RETRY_TIMER)
    assert timer.due_at == datetime(2026, 11, 24, 8, 0, tzinfo=STOCKHOLM) and len(timer.payload["delivery_ids"]) == 5
    assert h.sms.sent == []
    clock.set(datetime(2026, 11, 24, 8, 0, 1, tzinfo=STOCKHOLM))
    await h.deliverer.attempt(timer.payload["delivery_ids"])
    assert {d.state for d in h.deliveries()} == {"sent"} and len(h.sms.sent) == 5


async def test_same_text_sms_go_in_batches_and_a_refused_number_fails_alone(clock: FixedClock) -> None:
    h = Harness(clock, sms_batch_size=100)
    h.sms.refused.add("+46701200007")
    await h.deliverer.deliver([delivery(h, "sms", f"+467012{i:05d}", n=i) for i in range(250)])
    assert [len(b) for b in h.sms.batches] == [100, 100, 50]
    states = [d.state for d in h.deliveries()]
    assert states.count("sent") == 249 and states.count("failed") == 1


async def test_the_rate_limit_holds_per_second(clock: FixedClock) -> None:
    h = Harness(clock, sms_per_second=2)
    started = clock.now()
    await h.deliverer.deliver([delivery(h, "sms", f"+4670123456{i}", n=i) for i in range(5)])
    seconds = [int(s.at.timestamp()) for s in h.sms.sent]
    assert len(seconds) == 5 and max(seconds.count(s) for s in set(seconds)) <= 2
    assert clock.now() - started >= timedelta(seconds=2)


@pytest.mark.parametrize("channel", ["email", "sms"])
async def test_an_announcements_outcomes_are_tallied_once_each(h: Harness, channel: Channel) -> None:
    address = "anna@example.se" if channel == "email" else "+46701234567"
    batch = [
        delivery(h, channel, address, n=i, trigger="announcement:a1", trigger_kind="announcement") for i in range(3)
    ]
    await h.deliverer.deliver(batch)
    await h.deliverer.attempt([d.id for d in batch])  # a redelivered batch counts nothing twice
    assert await h.ledger.announcement_outcomes("a1") == {"sent": 3}
    [event] = h.uow.events_of(events.AnnouncementDeliveries)  # one event per batch, not per recipient
    assert sorted(event.delivery_ids) == sorted(d.id for d in batch)
    assert h.uow.events_of(events.NotificationDelivered) == []
