"""`careplan purge --unit … --ended-before …` on the running platform: the same code the command runs,
in-process, purges every ended plan of the data admin's unit in every service, and touches neither
the unit's active plan nor another unit's ended plan."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from launcher.cli import build_parser
from launcher.stack import Platform
from shared.contracts.purge import PURGING_SERVICES
from shared.kernel.roles import Role
from tests.conftest import Tokens, bearer
from tests.e2e.test_plans_api import start_plan
from tests.support.bench import load_bench
from tests.support.kafka_helpers import eventually

pytestmark = pytest.mark.integration
UNIT = "SE2321000016-BULK01"
OTHER_UNIT = "SE2321000016-BULK02"


async def ended_plans(retention: httpx.AsyncClient, admin: str) -> set[str]:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    listed = await retention.get("/units/me/ended-plans", params={"ended_before": tomorrow}, headers=bearer(admin))
    assert listed.status_code == 200, listed.text
    return {item["plan_id"] for item in listed.json()["items"]}


def careplan_purge(platform: Platform, admin: str) -> int:
    """`careplan purge` as a data admin would type it against a deployment (URL and token given)."""
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    command = ["purge", "--unit", UNIT, "--ended-before", tomorrow, "--force", "--reason", "test: bulk purge"]
    deployment = ["--retention-url", platform.urls["retention"], "--token", admin, "--timeout", "300"]
    args = build_parser().parse_args([*command, "--yes", *deployment])
    return int(args.run(args))


async def test_a_bulk_purge_purges_the_units_ended_plans_and_nothing_else(
    platform: Platform,
    plans_api: httpx.AsyncClient,
    tokens: Tokens,
    published_programs: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    therapist, other_therapist = tokens.staff(unit=UNIT), tokens.staff(unit=OTHER_UNIT)
    admin = tokens.staff(Role.DATA_ADMIN, unit=UNIT, hsa_id="SE2321000016-DADM09")
    other_admin = tokens.staff(Role.DATA_ADMIN, unit=OTHER_UNIT, hsa_id="SE2321000016-DADM10")
    plans = [(await start_plan(plans_api, therapist))["id"] for _ in range(4)]
    ended, active = plans[:3], plans[3]
    other = (await start_plan(plans_api, other_therapist))["id"]
    for plan_id, token in [*((p, therapist) for p in ended), (other, other_therapist)]:
        response = await plans_api.post(f"/plans/{plan_id}/end", headers=bearer(token), json={"reason": "completed"})
        assert response.status_code == 200, response.text
    async with httpx.AsyncClient(base_url=platform.urls["retention"], timeout=30) as retention:
        await eventually(lambda: _listed(retention, admin, set(ended)), timeout=60)
        await eventually(lambda: _listed(retention, other_admin, {other}), timeout=60)

        assert await asyncio.to_thread(careplan_purge, platform, admin) == 0
        out = capsys.readouterr().out
        assert f"listed 3 ended plans of unit {UNIT}" in out
        assert "listed 3  requested 3  completed 3  refused 0  failed 0" in out

        for plan_id in ended:
            state = (await retention.get(f"/plans/{plan_id}/purge", headers=bearer(admin))).json()
            assert state["state"] == "completed" and sorted(state["received"]) == sorted(PURGING_SERVICES)
            gone = await plans_api.get(f"/plans/{plan_id}", headers=bearer(therapist))
            assert gone.status_code == 404
        still_active = await plans_api.get(f"/plans/{active}", headers=bearer(therapist))
        assert still_active.status_code == 200 and still_active.json()["status"] == "active"
        untouched = await plans_api.get(f"/plans/{other}", headers=bearer(other_therapist))
        assert untouched.status_code == 200 and untouched.json()["status"] == "ended"
        assert other in await ended_plans(retention, other_admin)
        not_purged = await retention.get(f"/plans/{other}/purge", headers=bearer(other_admin))
        assert not_purged.status_code == 404

        assert await asyncio.to_thread(careplan_purge, platform, admin) == 0  # again: nothing left to purge
        assert f"listed 0 ended plans of unit {UNIT}" in capsys.readouterr().out


async def _listed(retention: httpx.AsyncClient, admin: str, expected: set[str]) -> bool:
    return expected <= await ended_plans(retention, admin)


async def test_the_purge_benchmark_runs_small_and_prints_its_figures(
    platform: Platform, published_programs: list[str]
) -> None:
    bench = load_bench("purge")
    args = argparse.Namespace(
        plans=20, samples=2, concurrency=4, window=10, fanout_recipients=300, fanout_channels="inbox", seed="copy"
    )
    figures = await bench.measure(*bench.targets(platform), args)
    assert len(figures.idle_ms) == 2 and figures.fanout.lost == 0
    assert figures.bulk.listed == len(figures.bulk.completed) == 20
    table = "\n".join(bench.table(figures, args))
    print(table)  # the figures, with -s
    assert "(a) single purge, idle" in table and "(c) bulk purge (careplan purge code)" in table
    assert "baseline: one delete_many per database" in table and figures.per_plan_deletes > 0
