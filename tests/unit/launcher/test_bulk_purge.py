"""The bulk purge against a fake retention: what it requests, how it follows the purges,
and the summary and exit code a data admin sees."""

from __future__ import annotations

import io
import json
from datetime import date

import httpx
import pytest

from launcher import purge_api
from launcher.bulk_purge import BulkPurgeOptions, BulkPurgeReport, bulk_purge
from launcher.progress import progress_bar
from launcher.purge_api import BulkPurgeError
from tests.unit.launcher.fake_retention import NOT_EXPORTED, FakeRetention

FORCED = BulkPurgeOptions(ended_before=date(2026, 1, 1), force=True, reason="unit closed", poll_seconds=0)
UNFORCED = BulkPurgeOptions(ended_before=date(2026, 1, 1), poll_seconds=0)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(purge_api, "RETRY_BACKOFF_SECONDS", 0)


def plans(n: int, prefix: str = "plan") -> list[str]:
    return [f"{prefix}-{i:04d}" for i in range(n)]


async def run(fake: FakeRetention, options: BulkPurgeOptions, progress: io.StringIO | None = None) -> BulkPurgeReport:
    async with httpx.AsyncClient(base_url="http://retention", transport=fake.transport()) as api:
        return await bulk_purge(api, "token", options, progress)


async def test_every_ended_plan_is_requested_with_the_reason_and_followed_until_completed() -> None:
    fake = FakeRetention(ended=plans(3))
    report = await run(fake, FORCED)
    assert (report.listed, len(report.requested), len(report.completed)) == (3, 3, 3)
    assert report.refused == {} and report.failed == {} and report.exit_code == 0
    bodies = [json.loads(r.content) for r in fake.requests if r.method == "POST"]
    assert bodies == [{"force": True, "reason": "unit closed"}] * 3
    assert all(r.headers["Authorization"] == "Bearer token" for r in fake.requests)
    assert report.lines()[0] == "listed 3  requested 3  completed 3  refused 0  failed 0"


async def test_a_refused_plan_is_reported_with_retentions_reason_and_makes_the_exit_code_1() -> None:
    fake = FakeRetention(ended=plans(3), unexported={"plan-0001"})
    report = await run(fake, UNFORCED)
    assert sorted(report.completed) == ["plan-0000", "plan-0002"]
    assert report.refused == {f"HTTP 409: {NOT_EXPORTED}": ["plan-0001"]}
    assert report.exit_code == 1
    assert f"refused 1: HTTP 409: {NOT_EXPORTED} (plans plan-0001)" in report.lines()


async def test_a_409_for_a_purge_already_under_way_is_not_a_refusal() -> None:
    fake = FakeRetention(ended=plans(2), already_purging={"plan-0000"})
    report = await run(fake, FORCED)
    assert sorted(report.completed) == ["plan-0000", "plan-0001"]
    assert report.refused == {} and report.exit_code == 0


async def test_a_passing_outage_is_tried_again_and_a_lasting_one_is_a_failure() -> None:
    fake = FakeRetention(ended=plans(2), flaky={"plan-0000": 1, "plan-0001": 10})
    report = await run(fake, FORCED)
    assert report.completed == ["plan-0000"]
    assert report.failed == {"HTTP 503: service unavailable": ["plan-0001"]}
    assert fake.posts().count("/plans/plan-0001/purge") == purge_api.TRANSIENT_ATTEMPTS
    assert report.exit_code == 1


async def test_a_purge_that_does_not_complete_in_time_fails_naming_the_missing_receipts() -> None:
    fake = FakeRetention(ended=plans(2), never_completes={"plan-0001"})
    options = BulkPurgeOptions(ended_before=date(2026, 1, 1), force=True, reason="r", timeout=0.05, poll_seconds=0.01)
    report = await run(fake, options)
    assert report.completed == ["plan-0000"]
    assert report.failed == {"not completed within 0s (no receipt yet from handover)": ["plan-0001"]}
    assert report.exit_code == 1


async def test_every_page_is_listed_before_anything_is_purged_and_progress_goes_to_the_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(purge_api, "PAGE_SIZE", 100)
    fake = FakeRetention(ended=plans(234), polls_to_complete=1)
    progress = io.StringIO()
    report = await run(fake, FORCED, progress)
    listings = [r for r in fake.requests if r.url.path == "/units/me/ended-plans"]
    first_post = next(i for i, r in enumerate(fake.requests) if r.method == "POST")
    assert len(listings) == 3 and all(fake.requests.index(r) < first_post for r in listings)
    assert report.listed == len(report.completed) == 234
    assert "purging [" in progress.getvalue()
    assert "234/234 100.0%" in progress.getvalue() and progress.getvalue().endswith("\n")


async def test_following_reads_the_oldest_purges_and_stops_at_the_first_batch_still_under_way() -> None:
    fake = FakeRetention(ended=plans(100), seconds_to_complete=1.0)
    options = BulkPurgeOptions(
        ended_before=date(2026, 1, 1), force=True, reason="r", concurrency=10, window=100, poll_seconds=0.05
    )
    report = await run(fake, options)
    assert len(report.completed) == 100
    # reading all 100 at every pass takes about 20 passes x 100 reads; reading up to the first batch
    # still under way takes one batch a pass, and one more read of each completed purge
    assert fake.purge_reads() < 450


async def test_no_more_than_the_window_of_purges_is_under_way_at_once() -> None:
    fake = FakeRetention(ended=plans(30), polls_to_complete=2)
    options = BulkPurgeOptions(
        ended_before=date(2026, 1, 1), force=True, reason="r", concurrency=2, window=5, poll_seconds=0
    )
    report = await run(fake, options)
    assert len(report.completed) == 30 and fake.most_under_way == 5


async def test_a_token_that_may_not_list_the_unit_stops_before_any_purge() -> None:
    fake = FakeRetention(ended=plans(2), listing_status=403)
    with pytest.raises(BulkPurgeError, match="HTTP 403"):
        await run(fake, FORCED)
    assert fake.posts() == []


def test_the_summary_shows_a_few_plan_ids_per_reason_and_counts_the_rest() -> None:
    report = BulkPurgeReport(listed=8)
    for plan_id in plans(8):
        report.refuse(plan_id, "HTTP 404: no such plan")
    assert report.lines()[-1] == (
        "refused 8: HTTP 404: no such plan (plans plan-0000, plan-0001, plan-0002, plan-0003, plan-0004 and 3 more)"
    )
    assert report.exit_code == 1


def test_nothing_listed_is_success() -> None:
    assert BulkPurgeReport().exit_code == 0


def test_the_progress_bar_shows_count_share_and_rate() -> None:
    import time

    line = progress_bar(250, 1000, time.monotonic() - 10, "purging")
    assert line.startswith("\rpurging [#######")
    assert "250/1,000  25.0%" in line and line.endswith("25/s")
