"""Reading what the local sinks received, and driving the SMS gateway sink."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from launcher.stack import Platform


def received(platform: Platform, kind: str) -> list[dict]:
    path = Path(platform.sinks["directory"]) / f"{kind}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def gateway(platform: Platform, mode: str, count: int, retry_after: int = 1) -> None:
    httpx.post(
        f"{platform.sinks['sms_gateway_url']}/control", json={"mode": mode, "count": count, "retry_after": retry_after}
    ).raise_for_status()
