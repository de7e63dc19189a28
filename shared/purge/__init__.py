"""How a service takes part in the purge saga: delete every piece of a plan's personal data it holds,
keep a tombstone of the plan id (so a late event cannot re-create the plan), and answer retention
with a purge receipt of counts. See `shared.contracts.purge` for the vocabulary."""

from shared.purge.participant import PURGE_WORKFLOW, PlanDataPurger, PurgeParticipant, participant_span
from shared.purge.store import MongoPlanPurger, MongoTombstones, Tombstones

__all__ = [
    "PURGE_WORKFLOW",
    "MongoPlanPurger",
    "MongoTombstones",
    "PlanDataPurger",
    "PurgeParticipant",
    "Tombstones",
    "participant_span",
]
