"""The handover service's part of a plan's export for the journal: the plan's handovers between units
(none until the handover domain lands: the part is then empty, but it is answered)."""

from __future__ import annotations

from typing import Any

from shared.contracts.export import AuditSummary, HandoverPart


def handover_part(handovers: list[dict[str, Any]], audit: AuditSummary) -> HandoverPart:
    """Every handover of the plan, as its history holds it (oldest first)."""
    return HandoverPart(handovers=handovers, audit=audit)
