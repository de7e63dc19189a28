"""Benchmark of the announcement fan-out, against two baselines measured in the same run on the same broker:

  (1) raw ceiling: aiokafka producing and consuming N messages of the same size, no processing;
  (2) a bare faststream consume→publish hop, one message at a time (the shape of faststream's own
      published benchmark);
  (3) end to end: an announcement to R recipients through the real notifications service (ledger,
      rate limit, provider call) to the local sinks.

Prints the three rates, ratio_vs_hop = (3)/(2), ratio_vs_raw = (3)/(1), lost and duplicated deliveries
from the ledger, and the peak memory (VmHWM) of the notifications process.

    python bench/fanout.py --recipients 100000 --channels sms
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from launcher.loadtest import FanoutReport, FanoutTarget, run_fanout
from launcher.stack import Platform, seconds_to_noon_stockholm
from launcher.topics import create_topics
from shared.messaging.events import Topic

MESSAGE_SIZE = 300  # bytes: about one delivery's worth of event


async def raw_ceiling(bootstrap: str, count: int) -> float:
    topic = f"bench.raw.{uuid.uuid4().hex[:6]}"
    await create_topics(bootstrap, [Topic(name=topic, partitions=12)])
    payload = b"x" * MESSAGE_SIZE
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=256 * 1024)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"raw-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await producer.start()
    await consumer.start()
    started = time.perf_counter()
    try:
        sends = [await producer.send(topic, payload, key=str(i % 1000).encode()) for i in range(count)]
        await asyncio.gather(*sends)
        received = 0
        while received < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            received += sum(len(records) for records in batches.values())
        await consumer.commit()
    finally:
        await producer.stop()
        await consumer.stop()
    return count / (time.perf_counter() - started)


async def bare_hop(bootstrap: str, count: int) -> float:
    source, sink = f"bench.hop.in.{uuid.uuid4().hex[:6]}", f"bench.hop.out.{uuid.uuid4().hex[:6]}"
    await create_topics(bootstrap, [Topic(name=source, partitions=12), Topic(name=sink, partitions=12)])
    broker = KafkaBroker(bootstrap, acks="all", logger=None)
    publisher = broker.publisher(sink)

    @broker.subscriber(
        source, group_id=f"hop-{uuid.uuid4().hex[:6]}", auto_offset_reset="earliest", ack_policy=AckPolicy.ACK
    )
    async def hop(body: bytes) -> None:
        await publisher.publish(body)

    payload = b"x" * MESSAGE_SIZE
    counter = AIOKafkaConsumer(sink, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await broker.start()
    await counter.start()
    await asyncio.sleep(3)  # let the group get its partitions: measure the hop, not the join
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    started = time.perf_counter()
    try:
        await asyncio.gather(*[await producer.send(source, payload) for _ in range(count)])
        received = 0
        while received < count:
            batches = await counter.getmany(timeout_ms=1000)
            received += sum(len(records) for records in batches.values())
    finally:
        await producer.stop()
        await counter.stop()
        await broker.stop()
    return count / (time.perf_counter() - started)


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    args = _parse_args()
    channels = args.channels.split(",")
    platform = _platform()
    try:
        addresses = platform.start_servers()
        raw = asyncio.run(raw_ceiling(addresses.kafka_bootstrap_servers, args.raw_messages))
        print(f"(1) raw aiokafka produce+consume   {raw:>10,.0f} msg/s  ({args.raw_messages:,} x {MESSAGE_SIZE} B)")
        hop = asyncio.run(bare_hop(addresses.kafka_bootstrap_servers, args.hop_messages))
        print(
            f"(2) bare faststream hop            {hop:>10,.0f} msg/s  ({args.hop_messages:,} messages, one at a time)"
        )
        platform.start_services(("notifications",))
        target = _fanout_target(platform, addresses.mongodb_uri)
        report = asyncio.run(run_fanout(target, args.recipients, channels, show_progress=False))
        _print_fanout(report, channels, raw, hop)
        print(f"notifications peak memory (VmHWM) {peak_memory_mb(platform.processes['notifications'].pid):,.0f} MB")
    finally:
        platform.stop()


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--channels", default="sms", help="comma-separated: inbox, email, sms")
    parser.add_argument("--raw-messages", type=int, default=100_000)
    parser.add_argument("--hop-messages", type=int, default=20_000)
    return parser.parse_args()


def _platform() -> Platform:
    """Embedded servers in a fresh directory; notifications without rate limits, its clock at noon (SMS hours)."""
    return Platform(
        Path(tempfile.mkdtemp(prefix="bench-fanout-")),
        mongo_in_memory=True,
        service_overrides={
            "notifications": {
                "SMS_RATE_LIMIT_PER_SECOND": "100000",
                "EMAIL_RATE_LIMIT_PER_SECOND": "100000",
                "CLOCK_OFFSET_SECONDS": str(seconds_to_noon_stockholm()),
            }
        },
    )


def _fanout_target(platform: Platform, mongodb_uri: str) -> FanoutTarget:
    return FanoutTarget(
        notifications_url=platform.urls["notifications"],
        mongodb_uri=mongodb_uri,
        database="careplan_notifications",
        sinks_dir=Path(platform.sinks["directory"]),
        private_key=platform.private_key.read_bytes(),
    )


def _print_fanout(report: FanoutReport, channels: list[str], raw: float, hop: float) -> None:
    rate = report.deliveries_per_second
    print(
        f"(3) end-to-end fan-out             {rate:>10,.0f} deliveries/s  ({report.recipients:,} recipients, "
        f"{','.join(channels)}, {report.seconds:.1f}s)"
    )
    print(f"ratio_vs_hop {rate / hop:.2f}   ratio_vs_raw {rate / raw:.3f}")
    print(
        f"lost {report.lost}   duplicated {report.duplicated}   failed {report.failed}   "
        f"latency p50 {report.latency_ms.get('p50', 0):,.0f} ms p99 {report.latency_ms.get('p99', 0):,.0f} ms"
    )


if __name__ == "__main__":
    main()
