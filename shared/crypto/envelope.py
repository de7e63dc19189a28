"""A sealed value: any JSON value encrypted with AES-256-GCM under a plan's key, as a small JSON object.

    {"sealed": "<base64: 12-byte nonce + ciphertext + tag>", "kid": "<plan id>", "alg": "A256GCM",
     "shape": "string" | "object" | "array" | "number" | "boolean"}

The plan id and the shape are the associated data, so an envelope moved to another plan, or relabelled,
does not open. `shape` tells a reader what to put in place of a value it cannot open (its plan was
purged and the key destroyed): an empty value of the same JSON type, so the event still validates.
A "shredded" envelope (`"sealed": null`) is what is published for a plan whose key is already gone.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ALG = "A256GCM"
KEY_BYTES = 32
NONCE_BYTES = 12
ENVELOPE_KEYS = frozenset({"sealed", "kid", "alg", "shape"})
PLACEHOLDERS: dict[str, Any] = {"string": "", "object": {}, "array": [], "number": 0, "boolean": False}
"""The neutral value a reader without the key sees, by the sealed value's JSON type."""


class SealBroken(ValueError):
    """An envelope that does not open with its plan's key (altered, or sealed for another plan)."""


def new_key() -> bytes:
    """A fresh random AES-256 key."""
    return os.urandom(KEY_BYTES)


def is_envelope(node: Any) -> bool:
    """A sealed (or shredded) value, as this module writes them."""
    return isinstance(node, dict) and node.keys() == ENVELOPE_KEYS and node.get("alg") == ALG


def shape_of(value: Any) -> str:
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    raise TypeError(f"cannot seal a {type(value).__name__}: JSON values only")


def _associated_data(kid: str, shape: str) -> bytes:
    return f"careplan-sealed-v1|{kid}|{shape}".encode()


def cipher(key: bytes | AESGCM) -> AESGCM:
    """The AES-GCM cipher of a key (making one costs more than sealing a short value: reuse it)."""
    return key if isinstance(key, AESGCM) else AESGCM(key)


def seal(value: Any, key: bytes | AESGCM, kid: str) -> dict[str, Any]:
    """The envelope of `value` (a JSON value) under `key`, bound to the plan `kid`."""
    shape = shape_of(value)
    plaintext = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = cipher(key).encrypt(nonce, plaintext, _associated_data(kid, shape))
    return {"sealed": base64.b64encode(nonce + ciphertext).decode(), "kid": kid, "alg": ALG, "shape": shape}


def shredded(value: Any, kid: str) -> dict[str, Any]:
    """What is published in place of `value` when its plan's key is destroyed: its shape, no content."""
    return {"sealed": None, "kid": kid, "alg": ALG, "shape": shape_of(value)}


def placeholder(envelope: dict[str, Any]) -> Any:
    """The neutral value of the envelope's shape (an empty string, object or list, 0, false)."""
    value = PLACEHOLDERS.get(envelope.get("shape", ""))
    return value.copy() if isinstance(value, dict | list) else value


def open_envelope(envelope: dict[str, Any], key: bytes | AESGCM | None) -> tuple[Any, bool]:
    """(value, opened): the sealed value, or the placeholder (False) when there is no key or content.
    Raises `SealBroken` when the key does not open it."""
    sealed, kid, shape = envelope["sealed"], str(envelope["kid"]), str(envelope["shape"])
    if key is None or sealed is None:
        return placeholder(envelope), False
    try:
        raw = base64.b64decode(sealed, validate=True)
        plaintext = cipher(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _associated_data(kid, shape))
    except (InvalidTag, ValueError, TypeError) as exc:
        raise SealBroken(f"a value sealed for plan key {kid!r} does not open ({type(exc).__name__})") from None
    return json.loads(plaintext), True
