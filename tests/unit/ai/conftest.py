"""Fixtures for the AI domain: the fake OpenAI-compatible server and services wired to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.ai.schemas import Purpose
from core.integrations.llm import OpenAICompatibleModel
from core.services import Services, build_services
from tests.fakes.openai_server import FakeOpenAIServer, running_openai


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    with running_openai() as server:
        yield server


class SleepRecorder:
    """Stands in for time.sleep so backoff waits are observed, not spent."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


def make_model(server: FakeOpenAIServer, sleep: SleepRecorder, **options: object) -> OpenAICompatibleModel:
    values: dict[str, object] = {"timeout": 2.0, "max_attempts": 4}
    values.update(options)
    return OpenAICompatibleModel(base_url=server.base_url, api_key="sk-test",
                                 models={p: f"gpt-4o-mini-{p.value}" if p is not Purpose.drafting else "gpt-4o-mini"
                                         for p in Purpose},
                                 sleep=sleep, jitter=lambda: 0.5, **values)  # type: ignore[arg-type]


@pytest.fixture
def model(fake_openai: FakeOpenAIServer, sleeps: SleepRecorder) -> OpenAICompatibleModel:
    return make_model(fake_openai, sleeps)


@pytest.fixture
def model_services(settings, model: OpenAICompatibleModel) -> Iterator[Services]:
    svc = build_services(settings, llm=model)
    yield svc
    svc.dispose()
