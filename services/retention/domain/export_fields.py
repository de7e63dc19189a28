"""Small readers shared by the two renderings of an export: the loosely typed parts of the contract
(`list[dict]` for contacts, planning, activity plans, handovers) are read tolerantly, by the first
of a few likely field names, and shown as text when nothing better fits."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

TIME_KEYS = (
    "at",
    "time",
    "created_at",
    "registered_at",
    "occurred_at",
    "raised_at",
    "completed_at",
    "requested_at",
    "date",
)
TITLE_KEYS = ("title", "name", "activity_title", "activity", "measurement", "kind")
TEXT_KEYS = ("text", "comment", "note", "description", "body")


def first(item: dict[str, Any], *keys: str) -> Any:
    """The value of the first key present with a value (None if none is)."""
    for key in keys:
        value = item.get(key)
        if value not in (None, "", [], {}):
            return value
    return None


def text_of(value: Any) -> str:
    """A value as one line of text (lists joined, mappings as `key: value`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, list):
        return ", ".join(text_of(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {text_of(v)}" for k, v in value.items() if v not in (None, "", [], {}))
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def summary(item: dict[str, Any], skip: tuple[str, ...] = ()) -> str:
    """Every field of an item but those skipped, as `key: value; …` (what a reader needs when there is
    no better place for it)."""
    return text_of({k: v for k, v in item.items() if k not in skip})


def time_of(item: dict[str, Any]) -> str | None:
    """The item's time under a likely name as FHIR dateTime text (with a zone: UTC if it had none),
    or None when it has none that reads as a time."""
    value = first(item, *TIME_KEYS)
    return iso_time(value)


def iso_time(value: Any) -> str | None:
    """A datetime, or ISO text of one, as ISO text with a zone (UTC if it had none); None otherwise."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def title_of(item: dict[str, Any], default: str) -> str:
    return text_of(first(item, *TITLE_KEYS)) or default


def as_json(value: Any) -> str:
    """A value as compact JSON text (for answers of shapes no FHIR type fits)."""
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


def describe_contact(contact: dict[str, Any]) -> str:
    """A contact of the plan: name, role, phone, and whether they are the responsible one."""
    parts = [text_of(first(contact, "name", "title")) or "Kontakt", text_of(first(contact, "role_title", "role"))]
    phone = text_of(first(contact, "phone"))
    parts += [f"tel {phone}" if phone else "", "ansvarig" if contact.get("responsible") else ""]
    return ", ".join(p for p in parts if p)


def describe_planning(entry: dict[str, Any]) -> str:
    """A planning entry: when (a date, or an approximate time) and what, and who wrote it."""
    when = text_of(first(entry, "exact_date", "approximate", "month"))
    by = text_of(first(entry, "created_by_name"))
    text = text_of(first(entry, *TEXT_KEYS)) or summary(entry)
    return f"{when + ': ' if when else ''}{text}{f' ({by})' if by else ''}"


def describe_comment(comment: dict[str, Any]) -> str:
    """A page comment: the page it is on, its text and who wrote it."""
    page = text_of(first(comment, "page_id", "page"))
    by = text_of(first(comment, "created_by_name"))
    text = text_of(first(comment, *TEXT_KEYS)) or summary(comment)
    return f"{'Sida ' + page + ': ' if page else ''}{text}{f' ({by})' if by else ''}"
