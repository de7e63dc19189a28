"""`careplan up`'s namespace: `--namespace NAME` prefixes every topic, consumer group and database with
`NAME_`, a stack of its own on shared servers (a staging cluster); `--remove-on-stop` deletes them."""

from __future__ import annotations

import argparse
import re

from launcher.stack import Platform


def platform_for(args: argparse.Namespace) -> Platform:
    """The platform `careplan up` runs: in `--namespace NAME`, every topic, group and database is `NAME_…`."""
    prefix = f"{args.namespace}_" if args.namespace else ""
    return Platform(
        args.state_dir.resolve(),
        database_prefix=prefix,
        topic_prefix=prefix,
        remove_namespace_on_stop=args.remove_on_stop,
    )


def namespace_name(value: str) -> str:
    """A namespace: letters, digits, '.', '-' (at most 30: the prefix must fit MongoDB's database names)."""
    if not re.fullmatch(r"[A-Za-z0-9.-]{1,30}", value):
        raise argparse.ArgumentTypeError("use 1-30 letters, digits, '.' or '-'")
    return value
