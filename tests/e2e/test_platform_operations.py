"""What a platform engineer relies on: probes tell the truth, and `careplan up` stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from launcher.demo import DEMO_RECEIVING_UNIT, DEMO_THERAPIST, staff_token
from launcher.keys import ensure_keys
from launcher.processes import free_port
from launcher.stack import Platform, PlatformError, external_addresses
from shared.kernel.roles import Role

pytestmark = pytest.mark.integration


def test_readyz_names_the_dependency_that_is_down_while_livez_stays_up(platform: Platform) -> None:
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    port = free_port()
    env = platform.service_env("retention") | {"REDIS_URL": dead_redis, "MONGODB_DATABASE": "probe_check"}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "services.retention.bootstrap:create_app", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/livez", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
        assert ready.status_code == 503
        checks = ready.json()["checks"]
        assert checks["mongodb"] == "ok" and checks["kafka"] == "ok" and checks["redis"].startswith("failed")
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_external_servers_must_be_configured_all_or_none() -> None:
    assert external_addresses({}) is None
    with pytest.raises(PlatformError, match="MONGODB_URI, REDIS_URL"):
        external_addresses({"KAFKA_BOOTSTRAP_SERVERS": "kafka:9092"})
    both = external_addresses(
        {"KAFKA_BOOTSTRAP_SERVERS": "k:9092", "MONGODB_URI": "mongodb://m", "REDIS_URL": "redis://r"}
    )
    assert both is not None and both.kafka_bootstrap_servers == "k:9092"


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(status.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def assert_a_demo_plan_can_be_handed_over(services: dict[str, str], private_key: bytes) -> None:
    """Both demo units run the demo plans' program version, so the demo shows a handover."""
    therapist = {"Authorization": f"Bearer {staff_token(private_key, DEMO_THERAPIST, [Role.THERAPIST])}"}
    plans = httpx.get(f"{services['plans']}/units/me/plans", headers=therapist, timeout=30).json()["items"]
    body = {"to_unit_id": DEMO_RECEIVING_UNIT, "consent": {"method": "verbal"}}
    deadline = time.monotonic() + 60
    while True:  # the handover service hears of plans and units over Kafka
        answer = httpx.post(
            f"{services['handover']}/plans/{plans[0]['plan_id']}/handovers", json=body, headers=therapist, timeout=30
        )
        if answer.status_code == 201 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert answer.status_code == 201, answer.text


@pytest.mark.skipif(bool(external_addresses()), reason="checks the embedded servers' shutdown")
def test_careplan_up_serves_demo_data_and_ctrl_c_leaves_no_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "SMS_"))}
    up = subprocess.Popen(
        [sys.executable, "-m", "launcher.cli", "--state-dir", str(tmp_path), "up"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = up.stdout.readline()  # type: ignore[union-attr]
            output.append(line)
            if "ready;" in line or up.poll() is not None:
                break
        assert any("ready;" in line for line in output), "".join(output)
        assert any("demo data: programs min-vardplan-brostcancer@1.0" in line for line in output)
        assert any("embedded broker keeps nothing across a stop" in line for line in output)  # said plainly
        services = json.loads((tmp_path / "endpoints.json").read_text())["services"]
        assert set(services) == {"plans", "messaging", "forms", "notifications", "retention", "handover"}
        for url in services.values():
            assert httpx.get(f"{url}/readyz", timeout=10).status_code == 200
        started = descendants(up.pid)
        assert len(started) >= 10  # six services, three servers, the sinks
        assert_a_demo_plan_can_be_handed_over(services, ensure_keys(tmp_path)[0].read_bytes())
    finally:
        up.send_signal(signal.SIGINT)
        up.wait(timeout=60)
    time.sleep(1)
    alive = {pid for pid in started if Path(f"/proc/{pid}").exists()}
    assert not alive, f"left behind: {alive}"
