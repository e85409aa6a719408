"""A fake HubSpot per test and a connector on the official client pointed at it, tuned to fail fast."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.integrations.hubspot import HubSpotConnector
from tests.fakes.hubspot import FakeHubSpot


@pytest.fixture
def hub() -> Iterator[FakeHubSpot]:
    with FakeHubSpot() as fake:
        fake.slow_seconds = 0.3
        yield fake


@pytest.fixture
def crm(hub: FakeHubSpot) -> HubSpotConnector:
    # Retries to spare: on a loaded machine an ordinary answer can also miss the short timeout.
    return HubSpotConnector(hub.token, api_base=hub.base_url, timeout=0.15, backoff=0.01, rate_limit_pause=0.01,
                            max_retries=8, max_backoff=0.05, search_limit=(1000, 1.0))
