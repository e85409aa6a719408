"""The OpenAI-compatible adapter, through the official client against the fake server on 127.0.0.1."""

from __future__ import annotations

import pytest

from core.ai.schemas import DraftRequest, Fact
from core.errors import ConnectorError
from core.services import build_services
from tests.conftest import make_test_settings
from tests.fakes.openai_server import Reply, rate_limited, variants_for
from tests.unit.ai.conftest import make_model


def request(**fields) -> DraftRequest:
    values = {"first_name": "John", "company_name": "Acme Logistics", "industry": "Logistics", "variants": 3,
              "facts": [Fact(label="company", value="Acme Logistics", source="companies.name")]}
    values.update(fields)
    return DraftRequest(**values)


def test_structured_output_is_parsed_into_variants(model, fake_openai):
    batch = model.draft_emails(request())
    assert [v.subject for v in batch.variants] == ["Acme Logistics: idea 1", "Acme Logistics: idea 2",
                                                   "Acme Logistics: idea 3"]
    assert batch.variants[0].citations[0].source == "companies.name"
    assert not batch.offline and batch.usage.prompt_tokens == 120 and batch.usage.completion_tokens == 80


def test_request_asks_for_a_strict_json_schema(model, fake_openai):
    model.draft_emails(request())
    body = fake_openai.requests[0]["body"]
    schema = body["response_format"]["json_schema"]
    assert body["response_format"]["type"] == "json_schema" and schema["strict"] is True
    assert body["model"] == "gpt-4o-mini"
    assert schema["schema"]["additionalProperties"] is False


def test_rate_limit_then_success_honours_retry_after(model, fake_openai, sleeps):
    fake_openai.queue(rate_limited(retry_after=2))
    batch = model.draft_emails(request())
    assert len(batch.variants) == 3
    assert len(fake_openai.requests) == 2 and model.attempts == 2  # the client itself did not retry
    assert sleeps.delays and sleeps.delays[0] >= 2


def test_server_errors_back_off_exponentially_then_fail_as_retryable(model, fake_openai, sleeps):
    fake_openai.queue(*[Reply(status=500) for _ in range(4)])
    with pytest.raises(ConnectorError) as caught:
        model.draft_emails(request())
    assert caught.value.retryable and caught.value.status == 500
    assert len(fake_openai.requests) == 4
    assert sleeps.delays == sorted(sleeps.delays) and sleeps.delays[2] > sleeps.delays[0]


def test_timeout_is_retried(fake_openai, sleeps):
    model = make_model(fake_openai, sleeps, timeout=0.3)
    fake_openai.queue(Reply(content=variants_for(), delay=1.0))
    batch = model.draft_emails(request())
    assert len(batch.variants) == 3 and model.attempts == 2


def test_authentication_error_is_not_retried(model, fake_openai):
    fake_openai.queue(Reply(status=401, error_type="invalid_request_error", error_code="invalid_api_key",
                            error_message="Incorrect API key provided: sk-test."))
    with pytest.raises(ConnectorError) as caught:
        model.draft_emails(request())
    assert not caught.value.retryable and "Incorrect API key" in caught.value.message
    assert len(fake_openai.requests) == 1


def test_invalid_json_is_retried_once_with_the_error(model, fake_openai):
    fake_openai.queue(Reply(content="Sure! Here are your emails: {not json"))
    batch = model.draft_emails(request())
    assert len(batch.variants) == 3
    retry_messages = fake_openai.requests[1]["body"]["messages"]
    assert retry_messages[-1]["role"] == "user" and "That output was invalid" in retry_messages[-1]["content"]
    assert batch.usage.prompt_tokens == 240  # both calls are counted


def test_invalid_output_twice_fails_with_the_reason(model, fake_openai):
    fake_openai.queue(Reply(content={"variants": [{"subject": "x"}]}), Reply(content={"variants": []}))
    with pytest.raises(ConnectorError) as caught:
        model.draft_emails(request())
    assert "invalid output twice" in caught.value.message and "variants" in caught.value.message
    assert not caught.value.retryable


def test_build_services_picks_the_endpoint_only_when_configured(tmp_path, fake_openai):
    offline = build_services(make_test_settings(database_url="sqlite://"))
    configured = build_services(make_test_settings(database_url="sqlite://", openai_base_url=fake_openai.base_url,
                                                   openai_api_key="sk-test"))
    assert offline.llm.offline and offline.active_connectors()["llm"] == "offline composer"
    assert not configured.llm.offline and "OpenAI-compatible" in configured.llm.label
    assert len(configured.llm.draft_emails(request()).variants) == 3
