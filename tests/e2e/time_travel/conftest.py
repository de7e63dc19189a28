"""Tests that move service clocks forward run on a platform of their own.

A jump to day 731 would end, export and purge every plan the rest of the session made, and a clock
set back leaves the durable timers' watermark ahead (timers due before it wait for it): neither may
reach the shared platform. These fixtures shadow the session's `platform`, `tokens` and
`published_programs` for this package only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from launcher.stack import Platform
from shared.messaging.naming import install_namespace
from tests.conftest import Tokens, new_platform, publish_programs


@pytest.fixture(scope="package")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    running = new_platform(tmp_path_factory)
    outer = install_namespace(running.topic_prefix)  # raw reads in these tests are this platform's
    try:
        running.start_servers()
        running.start_services()
        yield running
    finally:
        running.stop()
        install_namespace(outer.prefix)


@pytest.fixture(scope="package")
def tokens(platform: Platform) -> Tokens:
    return Tokens(platform.private_key.read_bytes())


@pytest.fixture(scope="package")
async def published_programs(platform: Platform, tokens: Tokens) -> list[str]:
    return await publish_programs(platform, tokens)
