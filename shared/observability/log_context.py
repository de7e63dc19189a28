"""Fields that every log line written while handling one thing carries (the consumed event's `ce_id`,
topic, partition and offset, and the consumer), without passing them to each logging call."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

_fields: contextvars.ContextVar[dict[str, object] | None] = contextvars.ContextVar("careplan_log_fields", default=None)


@contextmanager
def log_fields(**fields: object) -> Iterator[None]:
    """Add these fields to every log line written inside the block (in this task)."""
    token = _fields.set({**(_fields.get() or {}), **fields})
    try:
        yield
    finally:
        _fields.reset(token)


def current_log_fields() -> dict[str, object]:
    """The fields bound by the enclosing `log_fields` blocks."""
    return _fields.get() or {}
