"""Unit roles: part of the shared kernel every service's domain speaks."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Unit roles (see the product specification, section 3)."""

    PERMISSION_ADMIN = "permission_admin"
    PATIENT_ADMIN = "patient_admin"
    PUBLISHER = "publisher"
    DESIGNER = "designer"
    THERAPIST = "therapist"
    DATA_ADMIN = "data_admin"
