"""Retention's purge API as the bulk purge calls it: the unit's ended plans, a plan's purge request
and its state, each tried again after a network error or a 5xx."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import httpx

PAGE_SIZE = 1000
"""The largest page retention's ended-plans listing serves."""
TRANSIENT_ATTEMPTS = 3
"""A network error or a 5xx is tried this many times in all before the plan counts as failed."""
RETRY_BACKOFF_SECONDS = 0.5
"""The wait before the second attempt; it doubles before each further one."""


class BulkPurgeError(RuntimeError):
    """The bulk purge could not start (e.g. the token is not a data admin's)."""


async def list_ended_plans(api: httpx.AsyncClient, headers: dict[str, str], ended_before: date) -> list[str]:
    """Every plan id of the caller's unit that ended before the day, oldest end first (all pages)."""
    plan_ids: list[str] = []
    page: int | None = 1
    while page is not None:
        answer = await api.get(
            "/units/me/ended-plans",
            params={"ended_before": ended_before.isoformat(), "page": page, "page_size": PAGE_SIZE},
            headers=headers,
        )
        if answer.status_code != 200:
            raise BulkPurgeError(f"listing the unit's ended plans: HTTP {answer.status_code}: {detail(answer)}")
        body = answer.json()
        plan_ids.extend(item["plan_id"] for item in body["items"])
        page = body["next_page"]
    return list(dict.fromkeys(plan_ids))  # a plan ending while we page could be listed twice


async def request_purge(
    api: httpx.AsyncClient, headers: dict[str, str], plan_id: str, body: dict[str, Any]
) -> tuple[str, str]:
    """("requested" | "refused" | "failed", detail). A 409 for a plan whose purge is already under way
    or done is not a refusal: asking again is idempotent, so it counts as requested."""
    answer = await call(api, "POST", f"/plans/{plan_id}/purge", headers, json=body)
    if isinstance(answer, str):
        return "failed", answer
    if answer.status_code in (200, 202):
        return "requested", ""
    if answer.status_code == 409:
        existing = await call(api, "GET", f"/plans/{plan_id}/purge", headers)
        if isinstance(existing, httpx.Response) and existing.status_code == 200:
            return "requested", ""
    if 400 <= answer.status_code < 500:
        return "refused", f"HTTP {answer.status_code}: {detail(answer)}"
    return "failed", f"HTTP {answer.status_code}: {detail(answer)}"


async def purge_state(api: httpx.AsyncClient, headers: dict[str, str], plan_id: str) -> dict[str, Any] | str:
    """The plan's purge as retention shows it (`state`, `missing`, …), or why it could not be read."""
    answer = await call(api, "GET", f"/plans/{plan_id}/purge", headers)
    if isinstance(answer, str):
        return answer
    if answer.status_code != 200:
        return f"HTTP {answer.status_code}: {detail(answer)}"
    state: dict[str, Any] = answer.json()
    return state


async def call(
    api: httpx.AsyncClient, method: str, url: str, headers: dict[str, str], **kwargs: Any
) -> httpx.Response | str:
    """The answer, tried again after a network error or a 5xx; the last error's text if all attempts fail."""
    answer: httpx.Response | str = "not tried"
    for attempt in range(TRANSIENT_ATTEMPTS):
        if attempt:
            await asyncio.sleep(RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1))
        try:
            answer = await api.request(method, url, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            answer = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            continue
        if answer.status_code < 500:
            return answer
    return answer


def detail(answer: httpx.Response) -> str:
    """The problem detail retention gave (it names the reason, never personal data)."""
    try:
        body = answer.json()
    except ValueError:
        return answer.reason_phrase or "no detail"
    text = body.get("detail") if isinstance(body, dict) else None
    return str(text) if text else answer.reason_phrase or "no detail"
