"""Retention's purge API as the bulk purge sees it, behind an httpx mock transport."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

NOT_EXPORTED = "the plan has not been exported for the journal: export it first, or force the purge with a reason"


@dataclass
class FakeRetention:
    """A unit's ended plans and their purges. A purge completes after `polls_to_complete` reads of its
    state; plans can be made to refuse, to fail once or for good, or to never complete."""

    polls_to_complete: int = 1
    seconds_to_complete: float = 0.0
    """When set, a purge completes this long after its request instead (however often it is read)."""
    ended: list[str] = field(default_factory=list)
    unexported: set[str] = field(default_factory=set)
    already_purging: set[str] = field(default_factory=set)
    """Their POST answers 409 although a purge exists (a request racing another)."""
    flaky: dict[str, int] = field(default_factory=dict)
    """Plan id → how many 503s its POST answers before it works."""
    never_completes: set[str] = field(default_factory=set)
    listing_status: int = 200
    purges: dict[str, int] = field(default_factory=dict)
    requested_at: dict[str, float] = field(default_factory=dict)
    most_under_way: int = 0
    """The most purges requested and not completed at one time."""
    requests: list[httpx.Request] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def posts(self) -> list[str]:
        return [r.url.path for r in self.requests if r.method == "POST"]

    def purge_reads(self) -> int:
        return sum(1 for r in self.requests if r.method == "GET" and r.url.path.endswith("/purge"))

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/units/me/ended-plans":
            return self._listing(request)
        plan_id = request.url.path.split("/")[2]
        if request.method == "POST":
            return self._request(plan_id, json.loads(request.content or b"{}"))
        return self._state(plan_id)

    def _listing(self, request: httpx.Request) -> httpx.Response:
        if self.listing_status != 200:
            return _problem(self.listing_status, "forbidden")
        page, size = int(request.url.params["page"]), int(request.url.params["page_size"])
        listed = [p for p in self.ended if p not in self.purges or self.purges[p] > 0]
        items = listed[(page - 1) * size : page * size]
        more = page * size < len(listed)
        body = {
            "items": [{"plan_id": p, "ended_at": "2026-01-01T00:00:00Z"} for p in items],
            "page": page,
            "page_size": size,
            "next_page": page + 1 if more else None,
        }
        return httpx.Response(200, json=body)

    def _request(self, plan_id: str, body: dict[str, Any]) -> httpx.Response:
        if self.flaky.get(plan_id, 0) > 0:
            self.flaky[plan_id] -= 1
            return _problem(503, "service unavailable")
        if plan_id in self.already_purging:
            self.purges.setdefault(plan_id, self.polls_to_complete)
            return _problem(409, "a purge of this plan is under way")
        if plan_id in self.unexported and not body.get("force"):
            return _problem(409, NOT_EXPORTED)
        self.purges.setdefault(plan_id, self.polls_to_complete)
        self.requested_at.setdefault(plan_id, time.monotonic())
        under_way = sum(1 for p, polls in self.purges.items() if polls > 0 or p in self.never_completes)
        self.most_under_way = max(self.most_under_way, under_way)
        return httpx.Response(202, json=self._view(plan_id))

    def _state(self, plan_id: str) -> httpx.Response:
        if plan_id not in self.purges:
            return _problem(404, "no purge has been requested for this plan")
        if self.seconds_to_complete:
            due = time.monotonic() - self.requested_at[plan_id] >= self.seconds_to_complete
            self.purges[plan_id] = 0 if due else 1
        elif plan_id not in self.never_completes and self.purges[plan_id] > 0:
            self.purges[plan_id] -= 1
        return httpx.Response(200, json=self._view(plan_id))

    def _view(self, plan_id: str) -> dict[str, Any]:
        done = self.purges[plan_id] == 0 and plan_id not in self.never_completes
        return {
            "plan_id": plan_id,
            "state": "completed" if done else "requested",
            "missing": [] if done else ["handover"],
        }


def _problem(status: int, detail: str) -> httpx.Response:
    return httpx.Response(status, json={"title": "problem", "status": status, "detail": detail})
