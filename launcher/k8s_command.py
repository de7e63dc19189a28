"""`careplan k8s`: generate the Kubernetes resources that come from the code, and check the overlays offline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

OVERLAYS = ("dev", "prod")
DEPLOY_DIR = Path(__file__).resolve().parent.parent / "deploy" / "k8s"
# The checks import PyYAML, jsonschema and every service: only when a k8s command runs (not for `careplan up`).


def overlay_problems(docs: list[dict[str, Any]]) -> list[str]:
    """Every check of a rendered overlay: schemas, pod security, secrets, availability, flows, Kafka, KEDA."""
    from launcher.k8s_flows import kafka_problems, keda_problems, network_problems
    from launcher.k8s_policy import availability_problems, restricted_problems, secret_problems
    from launcher.k8s_render import schema_problems

    return (
        schema_problems(docs)
        + restricted_problems(docs)
        + secret_problems(docs)
        + availability_problems(docs)
        + network_problems(docs)
        + kafka_problems(docs)
        + keda_problems(docs)
    )


def check_overlay(directory: Path) -> list[str]:
    """Render a kustomization and check it; the problems, one line each (empty: all good)."""
    from launcher.k8s_render import render

    return overlay_problems(render(directory))


def _overlay_path(name: str) -> Path:
    return DEPLOY_DIR / "overlays" / name if name in OVERLAYS else Path(name)


def _generate(args: argparse.Namespace) -> int:
    from launcher.k8s import stale_files, write_generated

    if args.check:
        stale = stale_files()
        for relative in stale:
            print(f"stale: deploy/k8s/{relative} (run: careplan k8s generate)", file=sys.stderr)
        return 1 if stale else 0
    for path in write_generated():
        print(f"wrote {path}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from launcher.k8s import stale_files
    from launcher.k8s_render import RenderError

    failed = False
    for name in args.overlays or OVERLAYS:
        try:
            problems = check_overlay(_overlay_path(name))
        except RenderError as exc:
            problems = [str(exc)]
        for problem in problems:
            print(f"{name}: {problem}", file=sys.stderr)
        print(f"{name}: {'FAILED, ' + str(len(problems)) + ' problems' if problems else 'ok'}")
        failed = failed or bool(problems)
    stale = stale_files()
    for relative in stale:
        print(f"stale: deploy/k8s/{relative} (run: careplan k8s generate)", file=sys.stderr)
    return 1 if failed or stale else 0


def add_k8s_command(commands: Any) -> None:
    """`careplan k8s generate [--check]` and `careplan k8s check [OVERLAY...]`."""
    k8s = commands.add_parser("k8s", help="Kubernetes manifests: generate from the code, check offline")
    k8s_commands = k8s.add_subparsers(dest="k8s_command", required=True, metavar="COMMAND")
    generate = k8s_commands.add_parser(
        "generate",
        help="write the KafkaTopics, KafkaUsers and KEDA ScaledObject generated from the code",
        description="Write deploy/k8s/base/kafka/topics.yaml, users.yaml and base/app/keda-notifications.yaml "
        "from the topic registry, the contracts and the services' consumer declarations.",
    )
    generate.add_argument("--check", action="store_true", help="only report stale files (exit 1 if any)")
    generate.set_defaults(run=_generate)
    check = k8s_commands.add_parser(
        "check",
        help="render overlays with kubectl kustomize and validate them offline",
        description="Render each overlay (default: dev and prod) and check it: Kubernetes and CRD JSON schemas, "
        "the restricted Pod Security Standard, secrets, PodDisruptionBudgets and autoscalers, NetworkPolicy "
        "flows, KafkaTopics and KafkaUsers against the code, KEDA bounds. Exit 1 on any problem.",
    )
    check.add_argument("overlays", nargs="*", metavar="OVERLAY", help="dev, prod or a kustomization directory")
    check.set_defaults(run=_check)
