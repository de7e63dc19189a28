"""Remove what a namespaced platform (a test run) created on shared external servers."""

from __future__ import annotations

import logging
from typing import Any

from pymongo import AsyncMongoClient

from launcher.embedded import ServerAddresses
from launcher.topics import delete_namespace
from shared.messaging.naming import Namespace

log = logging.getLogger(__name__)


async def drop_databases(mongodb_uri: str, prefix: str) -> list[str]:
    """Drop every database whose name starts with `prefix` (never with an empty prefix); their names."""
    if not prefix:
        raise ValueError("refusing to drop databases without a prefix")
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, serverSelectionTimeoutMS=5000)
    try:
        ours = [name for name in await client.list_database_names() if name.startswith(prefix)]
        for name in ours:
            await client.drop_database(name)
        return ours
    finally:
        await client.close()


async def remove_namespace(addresses: ServerAddresses, namespace: Namespace, database_prefix: str) -> None:
    """Delete the run's topics and consumer groups (if it had a topic namespace) and databases (if it had a
    database prefix). Failures are logged, not raised: the run's outcome stands."""
    from launcher.consumer_groups import consumer_groups  # imports every service: only when tearing down

    try:
        if namespace.prefix:
            groups = sorted({group.name for group in consumer_groups()})
            await delete_namespace(addresses.kafka_bootstrap_servers, namespace, groups)
        if database_prefix:
            await drop_databases(addresses.mongodb_uri, database_prefix)
    except Exception:
        log.exception("could not remove namespace %r / databases %r", namespace.prefix, database_prefix)
