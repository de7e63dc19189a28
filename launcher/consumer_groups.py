"""Who consumes what: every service's consumer groups, read from its real consumer declarations.

The AsyncAPI document's `receive` operations must come from the code that subscribes, not from a
second hand-kept list. Each service declares its consumers in `bootstrap.SPEC.consumers(runtime,
service)`, which builds `EventConsumer`s from a `Runtime` (connections) and the service-layer object.
Building a real `Runtime` would open clients, configure tracing and need a key and server addresses,
so the declarations are called here with stand-ins instead: an inert object that answers any
attribute, item, call or await with another inert object and iterates as empty (handlers,
repositories, the unit of work, the broker), and the service's real settings class filled with its
defaults (consumers read numbers such as worker counts from settings). Only what the consumers carry
is read back: group name, topics and subscribed ce_types, whatever their handlers are called.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any, cast

from launcher.catalogue import SERVICES
from shared.bootstrap import ServiceSpec
from shared.runtime import Runtime
from shared.settings import PlatformSettings


@dataclass(frozen=True)
class ConsumerGroup:
    """One `EventConsumer` of a service: its consumer group, topics and subscribed event types."""

    service: str
    name: str
    topics: tuple[str, ...]
    ce_types: tuple[str, ...]


class _Inert:
    """Stands in for any collaborator a consumers function touches while only declaring subscriptions."""

    def __getattr__(self, name: str) -> _Inert:
        if name.startswith("__"):
            raise AttributeError(name)  # keep Python's protocol probes (copy, pickle, ...) honest
        return _Inert()

    def __getitem__(self, _: object) -> _Inert:
        return _Inert()

    def __iter__(self) -> Iterator[Any]:
        return iter(())  # an inert collection is empty (without this, `__getitem__` would iterate forever)

    def __call__(self, *_: object, **__: object) -> _Inert:
        return _Inert()

    def __await__(self) -> Generator[Any, None, _Inert]:
        return _Inert()
        yield  # pragma: no cover - makes this a generator


class _Settings(_Inert):
    """A service's settings with their declared defaults; inert where a setting has no default."""

    def __init__(self, settings: PlatformSettings) -> None:
        self._settings = settings

    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(self._settings, name)
        except AttributeError:
            return super().__getattr__(name)


class _Runtime(_Inert):
    """A `Runtime` without connections: real settings, everything else inert."""

    def __init__(self, settings: PlatformSettings) -> None:
        self.settings = _Settings(settings)


def settings_class(service: str) -> type[PlatformSettings]:
    """The service's own settings class (the `PlatformSettings` subclass in `services/<service>/settings.py`)."""
    module = importlib.import_module(f"services.{service}.settings")
    found = [
        cls
        for cls in vars(module).values()
        if inspect.isclass(cls) and issubclass(cls, PlatformSettings) and cls.__module__ == module.__name__
    ]
    if len(found) != 1:
        raise LookupError(f"services/{service}/settings.py should declare one PlatformSettings subclass: {found}")
    return found[0]


def declared_groups(service: str, spec: ServiceSpec, settings: PlatformSettings | None = None) -> list[ConsumerGroup]:
    """The consumer groups a service spec declares, read without servers (see the module docstring)."""
    runtime = _Runtime(settings or PlatformSettings.model_construct())
    try:
        consumers = spec.consumers(cast(Runtime, runtime), _Inert())
    except Exception as exc:
        raise RuntimeError(
            f"cannot read the consumers of {service} without servers ({type(exc).__name__}: {exc}); "
            "see launcher/consumer_groups.py"
        ) from exc
    return [ConsumerGroup(service, c.name, tuple(c.topics), tuple(c.ce_types)) for c in consumers]


def service_consumer_groups(service: str) -> list[ConsumerGroup]:
    """The consumer groups a service's bootstrap declares, with its settings' defaults (no environment read)."""
    spec = importlib.import_module(f"services.{service}.bootstrap").SPEC
    return declared_groups(service, spec, settings_class(service).model_construct())


def consumer_groups() -> list[ConsumerGroup]:
    """Every consumer group of every service, in service order."""
    return [group for service in SERVICES for group in service_consumer_groups(service)]
