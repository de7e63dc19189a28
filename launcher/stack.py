"""The running platform: backing servers (embedded or external) and the six service processes."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from launcher.catalogue import SERVICES, all_topics, app_factory
from launcher.embedded import EmbeddedServers, ServerAddresses
from launcher.keys import ensure_keys
from launcher.processes import free_port, spawn, stop
from launcher.teardown import remove_namespace
from launcher.topics import create_topics
from shared.messaging.naming import Namespace

EXTERNAL_VARIABLES = ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI", "REDIS_URL")
# Per-service settings the launcher decides; never inherited from the caller's environment.
_NOT_INHERITED = {
    "SERVICE_NAME",
    "MONGODB_DATABASE",
    "KEYRING_DATABASE",
    "KAFKA_NAMESPACE",
    "TRACE_FILE",
    *EXTERNAL_VARIABLES,
}


def seconds_to_noon_stockholm() -> float:
    """A clock offset that puts a service at 12:00 Europe/Stockholm today, outside SMS quiet hours, for
    tests and benchmarks that must not depend on the hour they run at."""
    now = datetime.now(UTC)
    noon = datetime.combine(
        now.astimezone(ZoneInfo("Europe/Stockholm")).date(), dtime(12, 0), tzinfo=ZoneInfo("Europe/Stockholm")
    )
    return (noon - now).total_seconds()


class PlatformError(RuntimeError):
    """The platform could not be started."""


def external_addresses(environ: dict[str, str] | os._Environ[str] = os.environ) -> ServerAddresses | None:
    """The configured external servers, None if none is configured; an error if only some are."""
    present = [name for name in EXTERNAL_VARIABLES if environ.get(name)]
    if not present:
        return None
    missing = [name for name in EXTERNAL_VARIABLES if name not in present]
    if missing:
        raise PlatformError(
            f"{', '.join(present)} set but {', '.join(missing)} not: set all three to use "
            "external servers, or none to start the embedded ones"
        )
    return ServerAddresses(environ["KAFKA_BOOTSTRAP_SERVERS"], environ["MONGODB_URI"], environ["REDIS_URL"])


@dataclass
class Platform:
    """Starts and stops everything; `urls` maps service name to base URL once started."""

    state_dir: Path
    database_prefix: str = ""
    topic_prefix: str = ""
    """Namespace of this platform's topics and consumer groups on the broker (`KAFKA_NAMESPACE`): a test
    run on shared servers, or `careplan up --namespace`; empty otherwise (the registry's names)."""
    remove_namespace_on_stop: bool = True
    """On external servers, remove the namespaced topics, groups and databases when stopping."""
    extra_env: dict[str, str] = field(default_factory=dict)
    service_overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    mongo_in_memory: bool = False
    embedded: EmbeddedServers | None = None
    addresses: ServerAddresses | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    sinks: dict[str, str] = field(default_factory=dict)
    sinks_process: subprocess.Popen[bytes] | None = None

    @property
    def private_key(self) -> Path:
        return ensure_keys(self.state_dir)[0]

    @property
    def namespace(self) -> Namespace:
        """The broker names of this platform's topics and consumer groups."""
        return Namespace(self.topic_prefix)

    @property
    def keyring_database(self) -> str:
        """The plan keys sealing personal data on Kafka, shared by every service (`KEYRING_DATABASE`)."""
        return f"{self.database_prefix}careplan_keyring"

    def start_servers(self, shared: ServerAddresses | None = None) -> ServerAddresses:
        """Use `shared` servers (another platform's: this one in its own namespace), the configured external
        servers, or start the embedded ones; create the topics."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.addresses = shared or external_addresses()
        if self.addresses is None:
            self.embedded = EmbeddedServers(self.state_dir, mongo_in_memory=self.mongo_in_memory)
            self.addresses = self.embedded.start()
        asyncio.run(create_topics(self.addresses.kafka_bootstrap_servers, all_topics(), namespace=self.namespace))
        if not (os.environ.get("SMTP_HOST") or os.environ.get("SMS_GATEWAY_URL")):
            self.start_sinks()
        return self.addresses

    def start_sinks(self, timeout_seconds: float = 30.0) -> None:
        """The local SMTP server and SMS gateway that record what notifications send (dev and tests)."""
        smtp_port, sms_port = free_port(), free_port()
        directory = self.state_dir / "sinks"
        self.sinks_process = spawn(
            [
                sys.executable,
                "-m",
                "launcher.sinks",
                "--smtp-port",
                str(smtp_port),
                "--sms-port",
                str(sms_port),
                "--dir",
                str(directory),
            ],
            log_path=self.state_dir / "logs" / "sinks.log",
            cwd=Path(__file__).resolve().parent.parent,
        )
        self.sinks = {
            "smtp_host": "127.0.0.1",
            "smtp_port": str(smtp_port),
            "sms_gateway_url": f"http://127.0.0.1:{sms_port}",
            "directory": str(directory),
        }
        deadline = time.monotonic() + timeout_seconds
        while True:
            try:
                httpx.get(f"{self.sinks['sms_gateway_url']}/openapi.json", timeout=1).raise_for_status()
                with socket.create_connection(("127.0.0.1", smtp_port), timeout=1):
                    return
            except (httpx.HTTPError, OSError):
                if self.sinks_process.poll() is not None or time.monotonic() > deadline:
                    raise PlatformError(f"local sinks did not start:\n{self.log_tail('sinks')}") from None
                time.sleep(0.2)

    def service_env(self, service: str, overrides: dict[str, str] | None = None) -> dict[str, str]:
        assert self.addresses is not None, "start_servers first"
        _, public_key = ensure_keys(self.state_dir)
        env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
        env |= {
            "KAFKA_BOOTSTRAP_SERVERS": self.addresses.kafka_bootstrap_servers,
            "MONGODB_URI": self.addresses.mongodb_uri,
            "REDIS_URL": self.addresses.redis_url,
            "MONGODB_DATABASE": f"{self.database_prefix}careplan_{service}",
            "KEYRING_DATABASE": self.keyring_database,
            "KAFKA_NAMESPACE": self.topic_prefix,
            "AUTH_PUBLIC_KEY_FILE": str(public_key),
            "TRACE_FILE": str(self.state_dir / "traces" / f"{service}.jsonl"),
            "CAREPLAN_ENV": "dev",  # the dev pepper is accepted; production refuses to start without one
            "PYTHONUNBUFFERED": "1",
        }
        if self.sinks:
            env |= {
                "SMTP_HOST": self.sinks["smtp_host"],
                "SMTP_PORT": self.sinks["smtp_port"],
                "SMS_GATEWAY_URL": self.sinks["sms_gateway_url"],
            }
        return env | self.extra_env | self.service_overrides.get(service, {}) | (overrides or {})

    def start_service(self, service: str, *, port: int | None = None, overrides: dict[str, str] | None = None) -> str:
        """Start one service process (not waiting for it); returns its base URL."""
        port = port or free_port()
        self.processes[service] = spawn(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                app_factory(service),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
                "--timeout-graceful-shutdown",
                "5",
            ],
            log_path=self.state_dir / "logs" / f"{service}.log",
            env=self.service_env(service, overrides),
            cwd=Path(__file__).resolve().parent.parent,
        )
        self.urls[service] = f"http://127.0.0.1:{port}"
        return self.urls[service]

    def start_services(self, services: tuple[str, ...] = SERVICES, timeout_seconds: float = 90.0) -> None:
        for service in services:
            self.start_service(service)
        self.wait_ready(services, timeout_seconds)

    def wait_ready(self, services: tuple[str, ...] | list[str], timeout_seconds: float = 90.0) -> None:
        """Wait until every named service answers 200 on /readyz."""
        deadline = time.monotonic() + timeout_seconds
        pending = set(services)
        with httpx.Client(timeout=5) as client:
            while pending:
                for service in sorted(pending):
                    process = self.processes[service]
                    if process.poll() is not None:
                        raise PlatformError(
                            f"{service} exited with code {process.returncode}:\n{self.log_tail(service)}"
                        )
                    try:
                        if client.get(f"{self.urls[service]}/readyz").status_code == 200:
                            pending.discard(service)
                    except httpx.HTTPError:
                        pass
                if pending and time.monotonic() > deadline:
                    raise PlatformError(
                        f"not ready after {timeout_seconds:.0f}s: {', '.join(sorted(pending))}\n"
                        + "\n".join(self.log_tail(s) for s in pending)
                    )
                if pending:
                    time.sleep(0.2)

    def log_tail(self, service: str, lines: int = 30) -> str:
        path = self.state_dir / "logs" / f"{service}.log"
        text = path.read_text(errors="replace").splitlines()[-lines:] if path.exists() else []
        return f"--- {path} ---\n" + "\n".join(text)

    def stop_service(self, service: str, *, kill: bool = False) -> None:
        process = self.processes.pop(service, None)
        if process is None:
            return
        if kill:
            process.kill()
            process.wait(timeout=10)
        else:
            stop(process)

    def write_endpoints(self) -> Path:
        """endpoints.json: service name → base URL, and the backing servers' addresses."""
        assert self.addresses is not None
        path = self.state_dir / "endpoints.json"
        path.write_text(
            json.dumps(
                {
                    "services": self.urls,
                    "kafka_bootstrap_servers": self.addresses.kafka_bootstrap_servers,
                    "kafka_namespace": self.topic_prefix,
                    "mongodb_uri": self.addresses.mongodb_uri,
                    "databases": {service: f"{self.database_prefix}careplan_{service}" for service in self.urls},
                    "keyring_database": self.keyring_database,
                    "keyring_mongodb_uri": os.environ.get("KEYRING_MONGODB_URI") or self.addresses.mongodb_uri,
                    "redis_url": self.addresses.redis_url,
                    "traces": str(self.state_dir / "traces"),
                    "sinks": self.sinks,
                    "logs": str(self.state_dir / "logs"),
                    "signing_key": str(self.private_key),
                },
                indent=2,
            )
        )
        return path

    def stop(self) -> None:
        """Stop the services, then the embedded servers; on external servers, remove what a namespaced
        run created there (its topics, consumer groups and databases)."""
        for service in list(self.processes):
            self.stop_service(service)
        if self.sinks_process is not None:
            stop(self.sinks_process)
        if self.embedded is not None:
            self.embedded.stop()
        elif (
            self.addresses is not None and (self.topic_prefix or self.database_prefix) and self.remove_namespace_on_stop
        ):
            asyncio.run(remove_namespace(self.addresses, self.namespace, self.database_prefix))
