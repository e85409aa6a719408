"""OpenAI-compatible model adapter (OpenAI, Azure-style gateways, Ollama, vLLM) through the official client.

The client's own retries are off (max_retries=0) so every attempt is counted once here: 429, 5xx, timeouts
and connection errors are retried with exponential backoff and jitter, honouring Retry-After. Outputs are
requested as JSON-schema structured outputs and validated with pydantic; an invalid output is retried once
with the validation error, then the call fails with the reason.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any, TypeVar

import openai
from pydantic import BaseModel, ValidationError

from core.ai.prompting import drafting_prompt, quote_untrusted, render_prompt
from core.ai.schemas import DraftBatch, DraftOutput, DraftRequest, Purpose, StyleNotes, Usage
from core.ai.tokens import count_tokens
from core.errors import ConnectorError

M = TypeVar("M", bound=BaseModel)
CONNECTOR = "llm"
MAX_RETRY_AFTER = 60.0
_UNSUPPORTED_IN_STRICT = ("minLength", "maxLength", "minItems", "maxItems", "default", "title")


@cache  # building a pydantic JSON schema costs ~8 ms of CPU; the schemas never change at run time
def strict_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema in the form strict structured outputs accept (closed objects, all required)."""

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: fix(v) for k, v in node.items() if k not in _UNSUPPORTED_IN_STRICT}
            if node.get("type") == "object" and "properties" in node:
                node["additionalProperties"] = False
                node["required"] = list(node["properties"])
            return node
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    return dict(fix(model.model_json_schema()))


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Retry-After as seconds or an HTTP date, or OpenAI's retry-after-ms; capped at a minute."""
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return min(float(ms) / 1000, MAX_RETRY_AFTER)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        try:
            return min(max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0), MAX_RETRY_AFTER)
        except (TypeError, ValueError):
            return None


class OpenAICompatibleModel:
    """LanguageModel over any endpoint that speaks the OpenAI chat-completions API."""

    offline = False

    def __init__(self, *, base_url: str | None, api_key: str, models: Mapping[Purpose, str],
                 timeout: float = 30.0, max_attempts: int = 4, backoff_base: float = 0.5, max_connections: int = 8,
                 sleep: Callable[[float], None] = time.sleep, jitter: Callable[[], float] = random.random) -> None:
        # One client per process, its kept-alive pool as large as the calls we allow in flight (AI_CONCURRENCY).
        limits = type(openai.DEFAULT_CONNECTION_LIMITS)(max_connections=max_connections,
                                                        max_keepalive_connections=max_connections)
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=timeout,
                                     http_client=openai.DefaultHttpxClient(limits=limits, timeout=timeout))
        self.max_connections = max_connections
        self._models = dict(models)
        self._max_attempts = max(1, max_attempts)
        self._backoff_base = backoff_base
        self._sleep = sleep
        self._jitter = jitter
        self.attempts = 0  # every HTTP attempt made, for tests and the benchmark

    @property
    def label(self) -> str:
        return f"OpenAI-compatible ({self._models[Purpose.drafting]})"

    def model_for(self, purpose: Purpose) -> str:
        return self._models[purpose]

    def draft_emails(self, request: DraftRequest) -> DraftBatch:
        system, user = drafting_prompt(request)
        output, usage = self.structured(Purpose.drafting, system, user, DraftOutput, "email_proposals")
        return DraftBatch(variants=output.variants[: request.variants], usage=usage, offline=False,
                          label=self.label)

    def style_notes(self, samples: Sequence[str], computed: Sequence[str]) -> StyleNotes:
        user = render_prompt("style_notes", {"metrics": "\n".join(f"- {c}" for c in computed) or "(none)",
                                             "samples": quote_untrusted("writing_samples", list(samples)[:20])})
        system = "You analyse writing style and return only JSON that matches the schema."
        notes, _usage = self.structured(Purpose.analysis, system, user, StyleNotes, "style_notes")
        return notes

    def structured(self, purpose: Purpose, system: str, user: str, schema: type[M], name: str) -> tuple[M, Usage]:
        """One structured call; the invalid-output retry is part of it and its tokens are counted too."""
        messages: list[dict[str, str]] = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        usage = Usage(model=self._models[purpose])
        reason = ""
        for _ in range(2):
            completion = self._complete(purpose, messages, schema, name)
            content = (completion.choices[0].message.content or "") if completion.choices else ""
            usage = _add_usage(usage, completion, messages, content)
            try:
                return schema.model_validate_json(content), usage
            except ValidationError as exc:
                reason = _first_errors(exc)
                messages += [{"role": "assistant", "content": content},
                             {"role": "user", "content": f"That output was invalid: {reason}. "
                                                         "Return only JSON that matches the schema."}]
        raise ConnectorError(f"the model returned invalid output twice: {reason}", connector=CONNECTOR,
                             retryable=False, details={"usage": usage.model_dump()})

    def _complete(self, purpose: Purpose, messages: list[dict[str, str]], schema: type[BaseModel],
                  name: str) -> Any:
        response_format = {"type": "json_schema",
                           "json_schema": {"name": name, "schema": strict_json_schema(schema), "strict": True}}
        for attempt in range(1, self._max_attempts + 1):
            self.attempts += 1
            try:
                return self._client.chat.completions.create(  # type: ignore[call-overload]
                    model=self._models[purpose], messages=messages, response_format=response_format)
            except openai.APITimeoutError:
                status, retry_after, message = None, None, "the model endpoint timed out"
            except openai.APIConnectionError as exc:
                status, retry_after, message = None, None, f"cannot reach the model endpoint: {exc}"
            except openai.APIStatusError as exc:
                status, retry_after = exc.status_code, retry_after_seconds(exc.response.headers)
                message = f"the model endpoint answered {status}: {_error_message(exc)}"
                if not _retryable(exc):
                    raise ConnectorError(message, connector=CONNECTOR, retryable=False, status=status) from exc
            if attempt == self._max_attempts:
                raise ConnectorError(f"{message} (gave up after {attempt} attempts)", connector=CONNECTOR,
                                     retryable=True, status=status, retry_after=retry_after)
            self._sleep(self._delay(attempt, retry_after))
        raise AssertionError("unreachable")

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after + 0.1 * self._jitter()
        exponential = min(self._backoff_base * 2 ** (attempt - 1), 20.0)
        return float(exponential / 2 + exponential / 2 * self._jitter())  # "equal jitter": never less than half


def _retryable(exc: openai.APIStatusError) -> bool:
    if exc.status_code == 429:
        # An exhausted quota does not recover by waiting; a rate limit does.
        return _error_code(exc) != "insufficient_quota"
    return exc.status_code >= 500 or exc.status_code == 408


def _error_body(exc: openai.APIStatusError) -> dict[str, Any]:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        return inner if isinstance(inner, dict) else {}
    return {}


def _error_code(exc: openai.APIStatusError) -> str | None:
    code = _error_body(exc).get("code")
    return str(code) if code is not None else None


def _error_message(exc: openai.APIStatusError) -> str:
    return str(_error_body(exc).get("message") or exc.message)


def _first_errors(exc: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'output'}: {e['msg']}" for e in exc.errors()[:3]]
    return "; ".join(parts)


def _add_usage(usage: Usage, completion: Any, messages: list[dict[str, str]], content: str) -> Usage:
    reported = getattr(completion, "usage", None)
    if reported is not None:
        prompt, completion_tokens = int(reported.prompt_tokens or 0), int(reported.completion_tokens or 0)
    else:  # some local servers omit usage: count it ourselves
        prompt = sum(count_tokens(m["content"]) for m in messages)
        completion_tokens = count_tokens(content)
    return usage.model_copy(update={"prompt_tokens": usage.prompt_tokens + prompt,
                                    "completion_tokens": usage.completion_tokens + completion_tokens})
