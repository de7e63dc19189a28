"""HTTP routes of the handover service (none yet: they arrive with the handover issue)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
