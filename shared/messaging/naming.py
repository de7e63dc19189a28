"""Topic and consumer-group names on the broker, optionally namespaced.

Every name a service uses on Kafka goes through `topic_name` and `group_name`: with a namespace
(`KAFKA_NAMESPACE`, e.g. `t1a2b3c4_` for one test run on a shared staging cluster) the topic
`careplan.plans.v1` is `t1a2b3c4_careplan.plans.v1` on the broker and the group `retention` is
`t1a2b3c4_retention`, so runs on the same servers never consume each other's events. Without one (dev
and production) the names are the registry's, unchanged. The contract (AsyncAPI, `KafkaTopic`
resources) always names the registry's topics: only the wire is namespaced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NAMESPACE_PATTERN = re.compile(r"^[A-Za-z0-9._-]{0,40}$")
"""Characters Kafka allows in topic names (and so in a prefix of one), bounded in length."""


@dataclass(frozen=True)
class Namespace:
    """A prefix for topic and group names on the broker ('' : none)."""

    prefix: str = ""

    def __post_init__(self) -> None:
        if not NAMESPACE_PATTERN.match(self.prefix):
            raise ValueError(f"namespace {self.prefix!r}: up to 40 of A-Z a-z 0-9 . _ -")

    def topic(self, name: str) -> str:
        """The broker's name of a registry topic (a name already in the namespace is left as it is)."""
        return name if name.startswith(self.prefix) else self.prefix + name

    def group(self, name: str) -> str:
        """The broker's name of a consumer group."""
        return name if name.startswith(self.prefix) else self.prefix + name

    def logical(self, physical: str) -> str:
        """The registry's name of a topic read on the broker."""
        return physical.removeprefix(self.prefix) if self.prefix else physical


_namespace = Namespace()


def install_namespace(prefix: str) -> Namespace:
    """Set this process's namespace (a service process has one, from its settings); returns the one it
    replaces."""
    global _namespace
    previous, _namespace = _namespace, Namespace(prefix)
    return previous


def current_namespace() -> Namespace:
    """This process's namespace."""
    return _namespace


def topic_name(name: str) -> str:
    """The broker's name of a registry topic in this process's namespace."""
    return _namespace.topic(name)


def group_name(name: str) -> str:
    """The broker's name of a consumer group in this process's namespace."""
    return _namespace.group(name)
