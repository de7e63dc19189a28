"""Patient identity numbers: personnummer and samordningsnummer (validated by `personnummer`)."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Annotated

from personnummer import personnummer as _pnr
from pydantic import AfterValidator

# The library accepts any Unicode digit (str.isdigit); only ASCII digits are a Swedish number.
_ASCII_FORM = re.compile(r"\A[0-9]{6}(?:[0-9]{2})?[-+]?[0-9]{4}\Z")


def normalise_personnummer(value: str) -> str:
    """The 12-digit form (YYYYMMDDNNNN) of a valid personnummer or samordningsnummer.

    Raises ValueError (without echoing the number) when it is not one.
    """
    if not isinstance(value, str) or not _ASCII_FORM.match(value.strip()):
        raise ValueError("must be 10 or 12 ASCII digits, optionally with '-' or '+' before the last four")
    try:
        parsed = _pnr.parse(value.strip())
    except _pnr.PersonnummerException:
        raise ValueError("is not a valid personnummer or samordningsnummer (date or check digit)") from None
    return str(parsed.format(long_format=True))


Personnummer = Annotated[str, AfterValidator(normalise_personnummer)]
"""A pydantic field type: a valid personnummer/samordningsnummer, normalised to 12 digits."""


def mask_personnummer(value: str) -> str:
    """The form shown for a patient with protected identity: birth year only."""
    return value[:4] + "XXXX-XXXX"


def pseudonym(value: str, pepper: str) -> str:
    """A stable keyed hash of an identity, for records that must not hold the identity itself."""
    return hmac.new(pepper.encode(), value.encode(), hashlib.sha256).hexdigest()
