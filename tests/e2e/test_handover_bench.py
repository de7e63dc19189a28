"""bench/handover.py runs small on the real servers and prints its figures next to its baseline."""

from __future__ import annotations

import argparse

import pytest

from launcher.purge_load import LoadTarget
from launcher.stack import Platform
from tests.e2e.test_handover import FROM, TO, units
from tests.support.bench import load_bench

pytestmark = pytest.mark.integration
__all__ = ["units"]  # the module-scoped fixture, shared with test_handover


async def test_the_handover_benchmark_runs_small_and_prints_its_figures(platform: Platform, units: None) -> None:
    bench = load_bench("handover")
    assert platform.addresses is not None
    target = LoadTarget(platform.urls, platform.addresses.mongodb_uri, [], platform.private_key.read_bytes())
    args = argparse.Namespace(handovers=3, concurrency=2, hop_samples=5)

    figures = await bench.measure(target, platform.addresses.kafka_bootstrap_servers, args, bench.Units(FROM, TO))

    assert len(figures.refused_ms) == len(figures.completed_ms) == 3 and len(figures.hop_ms) == 5
    table = "\n".join(bench.table(figures, args))
    print(table)  # the figures, with -s
    assert "(a) accept -> old unit refused in every service" in table and "baseline: one event hop" in table
