"""Demo data, loaded through the services' own HTTP APIs: the shipped programs and a few plans."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from personnummer import personnummer as _pnr

from shared.kernel.principals import Staff
from shared.kernel.roles import Role
from shared.security.tokens import issue_token

DEMO_UNIT = "SE2321000016-SOBVE2"
DEMO_THERAPIST = "SE2321000016-THER01"
DEMO_PUBLISHER = "SE2321000016-PUBL01"
DEMO_RECEIVING_UNIT = "SE2321000016-ONKO01"
"""A second demo unit (oncology) running the same program versions: a demo plan can be handed over to it."""
DEMO_PATIENT_ADMIN = "SE2321000016-PADM01"
PROGRAMS_DIR = Path(__file__).resolve().parent.parent / "services" / "plans" / "programs"
INSTRUMENTS_DIR = Path(__file__).resolve().parent.parent / "services" / "forms" / "instruments"
DEMO_PATIENTS = [
    ("Doe, Jane", "19710315", False),
    ("Andersson, Karin", "19670902", False),
    ("Skyddad, Person", "19731120", True),
]


def complete_personnummer(birth_date: str, serial: str = "238") -> str:
    """A valid 12-digit personnummer for a birth date: the check digit the library accepts."""
    for check in "0123456789":
        candidate = f"{birth_date}{serial}{check}"
        if _pnr.valid(candidate):
            return candidate
    raise ValueError(f"no valid check digit for {birth_date}{serial}")


def staff_token(private_key: bytes, hsa_id: str, roles: list[Role], unit: str = DEMO_UNIT, name: str = "") -> str:
    return issue_token(
        Staff(hsa_id=hsa_id, unit_id=unit, roles=frozenset(roles), name=name),
        private_key,
        audience="careplan",
        issuer="careplan-dev",
    )


SLEEP_START_BATTERY = {"name": "Startformulär", "form_ids": ["isi", "sleep_diary"]}


def publish_instruments(forms_url: str, private_key: bytes) -> list[str]:
    """Publish the shipped standard instruments through the forms service's API."""
    designer = staff_token(private_key, "SE2321000016-DES01", [Role.DESIGNER], name="Demo Designer")
    published = []
    with httpx.Client(base_url=forms_url, timeout=30) as client:
        for path in sorted(INSTRUMENTS_DIR.glob("*.json")):
            response = client.post(
                "/forms",
                content=path.read_bytes(),
                headers={"Authorization": f"Bearer {designer}", "Content-Type": "application/json"},
            )
            response.raise_for_status()
            published.append(path.stem)
        # Sömnhjälpen opens its start battery (ISI and the sleep diary) as each plan starts
        client.put(
            "/programs/somnhjalpen/start-battery",
            json=SLEEP_START_BATTERY,
            headers={"Authorization": f"Bearer {designer}"},
        ).raise_for_status()
    return published


def declare_unit_programs(plans_url: str, private_key: bytes, programs: list[dict[str, str]]) -> None:
    """Both demo units run every shipped program version (what a handover's "same version" check reads)."""
    with httpx.Client(base_url=plans_url, timeout=30) as client:
        for unit in (DEMO_UNIT, DEMO_RECEIVING_UNIT):
            admin = staff_token(private_key, DEMO_PATIENT_ADMIN, [Role.PATIENT_ADMIN], unit=unit)
            response = client.put(
                "/units/me/programs", json={"programs": programs}, headers={"Authorization": f"Bearer {admin}"}
            )
            response.raise_for_status()


def load_demo_data(plans_url: str, forms_url: str, private_key: bytes) -> dict[str, list[str]]:
    """Publish every shipped program and instrument and start one demo plan per demo patient."""
    publisher = staff_token(private_key, DEMO_PUBLISHER, [Role.PUBLISHER], name="Demo Utgivare")
    therapist = staff_token(private_key, DEMO_THERAPIST, [Role.THERAPIST], name="Karin Vriste")
    created: dict[str, list[str]] = {"programs": [], "plans": [], "forms": publish_instruments(forms_url, private_key)}
    versions: list[dict[str, str]] = []
    with httpx.Client(base_url=plans_url, timeout=30) as client:
        for path in sorted(PROGRAMS_DIR.glob("*.json")):
            program = json.loads(path.read_text())
            response = client.post("/programs", json=program, headers={"Authorization": f"Bearer {publisher}"})
            response.raise_for_status()
            created["programs"].append(f"{program['program_id']}@{program['version']}")
            versions.append({"program_id": program["program_id"], "version": program["version"]})
        declare_unit_programs(plans_url, private_key, versions)
        for name, birth_date, protected in DEMO_PATIENTS:
            response = client.post(
                "/plans",
                headers={"Authorization": f"Bearer {therapist}"},
                json={
                    "personnummer": complete_personnummer(birth_date),
                    "patient_name": name,
                    "protected_identity": protected,
                    "program_id": "min-vardplan-brostcancer",
                    "program_version": "1.0",
                },
            )
            if response.status_code == 409:
                continue  # already started in an earlier run with the same state directory
            response.raise_for_status()
            created["plans"].append(response.json()["id"])
    return created
