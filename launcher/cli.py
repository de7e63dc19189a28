"""`careplan`: run the platform locally, mint dev tokens, and other operator tools."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TypeAlias

from launcher.catalogue import SERVICES
from launcher.demo import load_demo_data
from launcher.embedded import EmbeddedServerError
from launcher.k8s_command import add_k8s_command
from launcher.purge_command import add_purge_command
from launcher.stack import Platform, PlatformError, external_addresses
from launcher.up_options import namespace_name, platform_for
from shared.kernel.identity import normalise_personnummer
from shared.kernel.principals import Patient, Staff
from shared.kernel.roles import Role
from shared.security.tokens import issue_token

DEFAULT_STATE_DIR = Path(".careplan")
# What add_subparsers() returns: each command adds its parser to it.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _up(args: argparse.Namespace) -> int:
    platform = platform_for(args)
    stop_requested = _stop_on_signals()
    try:
        _start_platform(platform, load_demo=not args.no_demo)
        print("ready; Ctrl-C stops everything", flush=True)
        return _supervise(platform, stop_requested)
    except (PlatformError, EmbeddedServerError) as exc:
        print(f"careplan up: {exc}", file=sys.stderr)
        return 1
    finally:
        print("stopping...", flush=True)
        platform.stop()
        print("stopped", flush=True)


def _stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT (Ctrl-C)."""
    stop_requested = threading.Event()

    def request_stop(signum: int, _: FrameType | None) -> None:
        stop_requested.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return stop_requested


def _start_platform(platform: Platform, *, load_demo: bool) -> None:
    """Servers, services, demo data and endpoints.json, printing where everything is."""
    addresses = platform.start_servers()
    where = "external" if external_addresses() else "embedded"
    print(
        f"{where} servers: kafka {addresses.kafka_bootstrap_servers}, mongodb {addresses.mongodb_uri}, "
        f"redis {addresses.redis_url}",
        flush=True,
    )
    if platform.topic_prefix:
        print(f"namespace: topics, consumer groups and databases prefixed {platform.topic_prefix!r}", flush=True)
    if where == "embedded":
        print(
            "note: the embedded broker keeps nothing across a stop: events published but not yet consumed "
            "when the stack stops are lost (MongoDB keeps every stored change; a lost notice is not sent)",
            flush=True,
        )
    platform.start_services()
    for service, url in platform.urls.items():
        print(f"  {service:<14} {url}  (docs: {url}/docs)", flush=True)
    if load_demo:
        created = load_demo_data(platform.urls["plans"], platform.urls["forms"], platform.private_key.read_bytes())
        print(
            f"demo data: programs {', '.join(created['programs'])}; forms {', '.join(created['forms'])}; "
            f"{len(created['plans'])} new plans",
            flush=True,
        )
    print(f"endpoints: {platform.write_endpoints()}", flush=True)


def _supervise(platform: Platform, stop_requested: threading.Event) -> int:
    """Wait for a stop request (0) or for a service process to exit (1, with its log's tail)."""
    while not stop_requested.wait(1.0):
        for service, process in platform.processes.items():
            if process.poll() is not None:
                print(
                    f"{service} exited with code {process.returncode}; stopping\n{platform.log_tail(service)}",
                    file=sys.stderr,
                )
                return 1
    return 0


def _token(args: argparse.Namespace) -> int:
    private_key = args.state_dir / "keys" / "signing-key.pem"
    if not private_key.exists():
        print(
            f"careplan token: no signing key at {private_key}; run 'careplan up' first (same --state-dir)",
            file=sys.stderr,
        )
        return 2
    if args.patient:
        try:
            principal: Staff | Patient = Patient(personnummer=normalise_personnummer(args.patient))
        except ValueError as exc:
            print(f"careplan token: --patient {exc}", file=sys.stderr)
            return 2
    else:
        if not args.hsa_id or not args.unit:
            print("careplan token: staff tokens need --hsa-id and --unit (or give --patient)", file=sys.stderr)
            return 2
        principal = Staff(
            hsa_id=args.hsa_id, unit_id=args.unit, roles=frozenset(args.role or [Role.THERAPIST]), name=args.name or ""
        )
    print(
        issue_token(
            principal, private_key.read_bytes(), audience=args.audience, issuer=args.issuer, ttl_seconds=args.ttl
        )
    )
    return 0


def _asyncapi(args: argparse.Namespace) -> int:
    from launcher.asyncapi import asyncapi_document

    text = json.dumps(asyncapi_document(), indent=2, ensure_ascii=False) + "\n"
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def _sla_due(args: argparse.Namespace) -> int:
    from datetime import datetime

    from services.messaging.domain.sla import reply_deadline

    try:
        arrived = datetime.fromisoformat(args.arrived_at)
    except ValueError:
        print(f"careplan sla due: {args.arrived_at!r} is not an ISO 8601 timestamp", file=sys.stderr)
        return 2
    if arrived.tzinfo is None:
        print("careplan sla due: the timestamp needs a UTC offset (e.g. +01:00 or Z)", file=sys.stderr)
        return 2
    print(reply_deadline(arrived).deadline.isoformat())
    return 0


def _loadtest_fanout(args: argparse.Namespace) -> int:
    import asyncio

    from launcher.loadtest import CHANNELS, FanoutTarget, run_fanout

    endpoints_path = args.state_dir / "endpoints.json"
    if not endpoints_path.exists():
        print(f"careplan loadtest: no {endpoints_path}; start the platform with 'careplan up' first", file=sys.stderr)
        return 2
    channels = [c.strip() for c in args.channels.split(",") if c.strip()]
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown or not channels:
        print(f"careplan loadtest: --channels takes some of {', '.join(CHANNELS)}", file=sys.stderr)
        return 2
    endpoints = json.loads(endpoints_path.read_text())
    if not endpoints.get("sinks"):
        print(
            "careplan loadtest: the platform runs without local sinks (external SMTP/SMS); refusing to load "
            "real providers",
            file=sys.stderr,
        )
        return 2
    target = FanoutTarget(
        notifications_url=endpoints["services"]["notifications"],
        mongodb_uri=endpoints["mongodb_uri"],
        database=endpoints["databases"]["notifications"],
        sinks_dir=Path(endpoints["sinks"]["directory"]),
        private_key=Path(endpoints["signing_key"]).read_bytes(),
    )
    report = asyncio.run(run_fanout(target, args.recipients, channels, timeout=args.timeout))
    print("\n".join(report.lines()))
    return 0 if report.lost == 0 and report.duplicated == 0 else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="careplan", description=__doc__)
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE_DIR,
        help="where data, logs, traces, keys and endpoints.json live (default: .careplan)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_up(commands)
    _add_token(commands)
    _add_sla(commands)
    _add_loadtest(commands)
    _add_asyncapi(commands)
    add_purge_command(commands)
    add_k8s_command(commands)
    return parser


def _add_up(commands: Commands) -> None:
    up = commands.add_parser(
        "up",
        help="run the whole platform in the foreground",
        description="Start the backing servers (embedded unless KAFKA_BOOTSTRAP_SERVERS, "
        "MONGODB_URI and REDIS_URL are set), create the topics, start the six services ("
        f"{', '.join(SERVICES)}) as separate processes, load demo data, write endpoints.json, "
        "and stop everything on Ctrl-C or SIGTERM.",
    )
    up.add_argument("--no-demo", action="store_true", help="do not load the demo programs and plans")
    up.add_argument(
        "--namespace",
        type=namespace_name,
        help="prefix NAME_ for every topic, consumer group and database: a stack of its own on shared "
        "servers (a staging cluster), invisible to other stacks there",
    )
    up.add_argument(
        "--remove-on-stop",
        action="store_true",
        help="with --namespace on external servers: delete the namespace's topics, groups and databases on stop",
    )
    up.set_defaults(run=_up)


def _add_token(commands: Commands) -> None:
    token = commands.add_parser(
        "token",
        help="print a signed bearer token for local use",
        description="Print a bearer token signed with this state directory's dev key. "
        "Staff: --hsa-id, --unit and one or more --role. Patient: --patient PERSONNUMMER.",
    )
    token.add_argument("--patient", metavar="PERSONNUMMER", help="a patient token for this personnummer")
    token.add_argument("--hsa-id", help="staff member's HSA-id, e.g. SE2321000016-THER01")
    token.add_argument("--unit", help="the unit's HSA-id, e.g. SE2321000016-SOBVE2")
    token.add_argument("--role", action="append", choices=[r.value for r in Role], help="repeatable; default therapist")
    token.add_argument("--name", help="display name of the staff member")
    token.add_argument("--ttl", type=int, default=8 * 3600, help="lifetime in seconds (default 8 hours)")
    token.add_argument("--audience", default="careplan")
    token.add_argument("--issuer", default="careplan-dev")
    token.set_defaults(run=_token)


def _add_sla(commands: Commands) -> None:
    sla = commands.add_parser("sla", help="the reply SLA rule", description="Check the 3-working-day reply rule.")
    sla_commands = sla.add_subparsers(dest="sla_command", required=True, metavar="COMMAND")
    due = sla_commands.add_parser(
        "due",
        help="print when a reply is due for a message arriving at a given time",
        description="Print the reply deadline (23:59:59 Europe/Stockholm on the third "
        "working day after the day of arrival) as ISO 8601 with offset. Working days "
        "exclude weekends, Swedish public holidays, Midsommarafton, Julafton and "
        "Nyårsafton.",
    )
    due.add_argument("arrived_at", help="ISO 8601 timestamp with offset, e.g. 2026-12-23T10:00:00+01:00")
    due.set_defaults(run=_sla_due)


def _add_loadtest(commands: Commands) -> None:
    loadtest = commands.add_parser("loadtest", help="load tests against a running 'careplan up'")
    loadtest_commands = loadtest.add_subparsers(dest="loadtest_command", required=True, metavar="COMMAND")
    fanout = loadtest_commands.add_parser(
        "fanout",
        help="N recipients, one announcement: deliveries/s, latency percentiles, lost/duplicated",
        description="Create N recipients at a fresh unit, trigger one announcement to them, show a progress bar, "
        "and report deliveries/s, end-to-end latency percentiles and a ledger check of lost and duplicated "
        "deliveries against the local sinks (exit 1 if any). Note: SMS waits outside 08:00-21:00 Stockholm time.",
    )
    fanout.add_argument("--recipients", type=int, default=10_000)
    fanout.add_argument("--channels", default="inbox,email", help="comma-separated: inbox, email, sms")
    fanout.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the fan-out")
    fanout.set_defaults(run=_loadtest_fanout)


def _add_asyncapi(commands: Commands) -> None:
    asyncapi = commands.add_parser("asyncapi", help="print the AsyncAPI document of all topics and events")
    asyncapi.add_argument("--output", "-o", help="write to this file instead of standard output")
    asyncapi.set_defaults(run=_asyncapi)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
