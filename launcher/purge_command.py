"""`careplan purge`: purge a unit's ended plans in bulk, or prove a purge (`careplan purge verify`).

    careplan purge --unit HSA --ended-before DATE [--force --reason TEXT] [--yes]
    careplan purge verify PLAN_ID [--personnummer N] [--name NAME]

The bulk form talks to the retention service of the running `careplan up` (endpoints.json, with a
data-admin token for the unit signed with the dev key), or of a real deployment (`--retention-url`
and `--token` or `CAREPLAN_TOKEN`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import jwt

from launcher.bulk_purge import BulkPurgeOptions, purge_plans
from launcher.purge_api import BulkPurgeError, list_ended_plans
from launcher.purge_verify import add_verify_action
from shared.kernel.principals import Staff
from shared.kernel.roles import Role
from shared.security.tokens import issue_token

DEV_DATA_ADMIN = "SE2321000016-DADM01"
"""The HSA-id on dev tokens this command signs itself (the audit trail names who purged)."""
PROG = "careplan purge"


def add_purge_command(commands: Any) -> None:
    """The `purge` command: bulk purge options, and the `verify` action."""
    purge = commands.add_parser(
        "purge",
        usage="careplan purge --unit HSA --ended-before DATE [--force --reason TEXT] [--yes] [options]\n"
        "       careplan purge verify PLAN_ID [--personnummer N] [--name NAME] [--no-topics]",
        help="purge a unit's ended plans in bulk, or prove a purge ('purge verify')",
        description="Purge every plan of a unit that ended before a date: list them, ask for confirmation "
        "(or --yes), request each purge from retention with limited concurrency, follow them until all six "
        "services have confirmed, and print requested/completed/refused/failed. Exit 0 only when every "
        "listed plan was purged. 'careplan purge verify PLAN_ID' proves a single purge.",
    )
    purge.add_argument("--unit", metavar="HSA", help="the unit's HSA-id, e.g. SE2321000016-SOBVE2")
    purge.add_argument("--ended-before", type=_day, metavar="DATE", help="plans that ended before this day (UTC)")
    purge.add_argument("--force", action="store_true", help="purge plans without a journal export (needs --reason)")
    purge.add_argument("--reason", default="", help="why the purge is forced (kept in the audit trail)")
    purge.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    purge.add_argument("--concurrency", type=int, default=8, help="purge requests in flight at once (default 8)")
    purge.add_argument("--window", type=int, default=25, help="purges under way at once, at most (default 25)")
    purge.add_argument(
        "--timeout", type=float, default=600, help="seconds one purge may take before it counts as failed"
    )
    purge.add_argument("--retention-url", help="the retention service (default: from endpoints.json)")
    purge.add_argument(
        "--token",
        help="a data admin's bearer token for the unit (default: $CAREPLAN_TOKEN, "
        "or one signed with the dev key of --state-dir)",
    )
    purge.add_argument("--hsa-id", default=DEV_DATA_ADMIN, help="the data admin on a dev-signed token")
    purge.set_defaults(run=run_bulk_purge)
    actions = purge.add_subparsers(dest="purge_command", metavar="ACTION")
    add_verify_action(actions)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


@dataclass(frozen=True)
class Target:
    """Where retention is and the data admin's token for it."""

    retention_url: str
    token: str


class UsageError(Exception):
    """Bad arguments or set-up: printed, exit code 2."""


def run_bulk_purge(args: argparse.Namespace, transport: httpx.AsyncBaseTransport | None = None) -> int:
    """`careplan purge --unit … --ended-before …`: 0 when every listed plan is purged, 1 if any is not,
    2 for bad arguments, a missing platform or a token that may not purge the unit. (`transport`
    replaces the network in tests.)"""
    try:
        options = bulk_options(args)
        target = resolve_target(args)
        return asyncio.run(_run(target, args, options, transport))
    except (UsageError, BulkPurgeError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except httpx.HTTPError as exc:  # retention cannot be reached at all (e.g. a wrong --retention-url)
        print(f"{PROG}: retention did not answer: {type(exc).__name__} {exc}", file=sys.stderr)
        return 2


def bulk_options(args: argparse.Namespace) -> BulkPurgeOptions:
    """The options of a bulk purge, checked before anything is sent."""
    if not args.unit or args.ended_before is None:
        raise UsageError("give --unit and --ended-before (or an action: 'careplan purge verify PLAN_ID')")
    if args.force and not args.reason.strip():
        raise UsageError("--force needs --reason (it is kept in the audit trail)")
    if args.reason and not args.force:
        raise UsageError("--reason goes with --force (an exported plan is purged without one)")
    if args.concurrency < 1 or args.window < 1 or args.timeout <= 0:
        raise UsageError("--concurrency and --window must be at least 1, and --timeout positive")
    return BulkPurgeOptions(
        ended_before=args.ended_before,
        force=args.force,
        reason=args.reason.strip(),
        concurrency=args.concurrency,
        window=args.window,
        timeout=args.timeout,
    )


def resolve_target(args: argparse.Namespace) -> Target:
    """--retention-url and --token (or $CAREPLAN_TOKEN), else endpoints.json and a dev-signed token."""
    token = args.token or os.environ.get("CAREPLAN_TOKEN", "")
    url = args.retention_url
    if not url or not token:
        endpoints_path = args.state_dir / "endpoints.json"
        if not endpoints_path.exists():
            raise UsageError(
                f"no {endpoints_path}: start the platform with 'careplan up', or give --retention-url and --token"
            )
        endpoints = json.loads(endpoints_path.read_text())
        url = url or endpoints["services"]["retention"]
        if not token:
            token = dev_token(endpoints["signing_key"], args.unit, args.hsa_id)
    check_token(token, args.unit)
    return Target(retention_url=url, token=token)


def dev_token(signing_key: str, unit: str, hsa_id: str) -> str:
    """A data admin's token for the unit, signed with the running platform's dev key."""
    with open(signing_key, "rb") as key:
        private_key = key.read()
    principal = Staff(hsa_id=hsa_id, unit_id=unit, roles=frozenset({Role.DATA_ADMIN}))
    return issue_token(principal, private_key, audience="careplan", issuer="careplan-dev", ttl_seconds=3600)


def check_token(token: str, unit: str) -> None:
    """Refuse early a token of another unit or without the data admin role (retention checks the
    signature; this only spares a run that would be refused plan by plan)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise UsageError("--token is not a bearer token (JWT)") from None
    if claims.get("unit") != unit:
        raise UsageError(f"the token is for unit {claims.get('unit')!r}, not --unit {unit}")
    if Role.DATA_ADMIN.value not in claims.get("roles", []):
        raise UsageError("the token has no data_admin role: only a data admin may purge")


async def _run(
    target: Target, args: argparse.Namespace, options: BulkPurgeOptions, transport: httpx.AsyncBaseTransport | None
) -> int:
    headers = {"Authorization": f"Bearer {target.token}"}
    async with httpx.AsyncClient(base_url=target.retention_url, timeout=30, transport=transport) as api:
        plan_ids = await list_ended_plans(api, headers, options.ended_before)
        what = f"{len(plan_ids):,} ended plans of unit {args.unit} (ended before {options.ended_before})"
        print(f"listed {what}", flush=True)
        if not plan_ids:
            return 0
        if not args.yes and not confirm(f"purge {what}{', even without a journal export' if options.force else ''}?"):
            print("nothing purged", flush=True)
            return 1
        progress = sys.stderr if sys.stderr.isatty() else None
        report = await purge_plans(api, headers, plan_ids, options, progress)
    print("\n".join(report.lines()), flush=True)
    return report.exit_code


def confirm(question: str) -> bool:
    """Ask on the terminal; without one, refuse (a destructive command is not run by accident)."""
    if not sys.stdin.isatty():
        raise UsageError("not asking without a terminal: add --yes to purge")
    print(f"{question} Type 'yes' to purge: ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() == "yes"
