"""A fake OpenAI-compatible server on 127.0.0.1 speaking the real chat-completions JSON, errors and headers.

Run alone (``python -m tests.fakes.openai_server --latency 0.3``) it prints ``PORT <n>`` and serves canned
proposals until killed; the bulk-proposals benchmark runs it that way, in its own process like a real model.

Tests queue replies (``server.queue(Reply(...))``); with the queue empty the ``default`` reply is used.
Every request body is recorded in ``server.requests`` so tests can read the prompt that was sent.
Shapes follow the OpenAI API reference: the chat.completion object, the error envelope
{"error": {"message", "type", "param", "code"}}, and 429s with retry-after / x-ratelimit-* headers.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    content: str | dict[str, Any] | None = None  # the assistant message; a dict is JSON-encoded
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (timeouts, latency)
    error_type: str = "server_error"
    error_code: str | None = None
    error_message: str = "The server had an error while processing your request. Sorry about that!"
    usage: tuple[int, int] | None = (120, 80)  # (prompt_tokens, completion_tokens); None omits usage


def rate_limited(retry_after: float = 1) -> Reply:
    return Reply(status=429, headers={"retry-after": str(retry_after), "x-ratelimit-limit-requests": "500",
                                      "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1s"},
                 error_type="requests", error_code="rate_limit_exceeded",
                 error_message="Rate limit reached for gpt-4o-mini in organization org-test on requests per min "
                               "(RPM): Limit 500, Used 500, Requested 1. Please try again in 1s.")


def variants_for(first_name: str = "John", company: str = "Acme Logistics", n: int = 3,
                 body: str | None = None, subject: str | None = None) -> dict[str, Any]:
    """A canned, valid structured output: n variants that greet by name and cite the company."""
    return {"variants": [{
        "subject": subject or f"{company}: idea {i + 1}",
        "body": body if body is not None else (f"Hi {first_name},\n\nI work with logistics teams like yours at "
                                               f"{company}.\n\nWould a short call next week help?\n\nBest,\nRiley"),
        "reasoning": f"Variant {i + 1} leads with the industry.",
        "personalization_notes": ["company name", "industry"],
        "citations": [{"fact": f"company: {company}", "source": "companies.name"}],
    } for i in range(n)]}


def _multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    """A multipart/form-data body as {field: text}; file fields as {"filename", "size", "content_type"}."""
    message = BytesParser(policy=default_policy).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            fields[str(name)] = {"filename": part.get_filename(), "size": len(data),
                                 "content_type": part.get_content_type()}
        else:
            fields[str(name)] = data.decode()
    return fields


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAIServer  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"  # keep-alive, as api.openai.com: the client's connection pool is reused
    disable_nagle_algorithm = True  # headers and body go out in two writes; Nagle would hold the body ~40 ms

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        ctype = self.headers.get("content-type", "")
        body = _multipart(ctype, raw) if ctype.startswith("multipart/form-data") else json.loads(raw or b"{}")
        fake = self.server
        with fake.lock:
            fake.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
            reply = fake.replies.popleft() if fake.replies else fake.default(body)
            fake.in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
        try:
            self._answer(fake, body, reply)
        finally:
            with fake.lock:
                fake.in_flight -= 1

    def _answer(self, fake: FakeOpenAIServer, body: dict[str, Any], reply: Reply) -> None:
        if reply.delay:
            time.sleep(reply.delay)
        transcription = self.path.endswith("/audio/transcriptions")
        if not self.path.endswith("/chat/completions") and not transcription:
            reply = Reply(status=404, error_type="invalid_request_error", error_message=f"Unknown path {self.path}")
        if transcription and reply.status == 200 and not body.get("file"):
            reply = Reply(status=400, error_type="invalid_request_error", error_code=None,
                          error_message="1 validation error for Request\nbody -> file\n  field required")
        if reply.status != 200:
            payload = {"error": {"message": reply.error_message, "type": reply.error_type, "param": None,
                                 "code": reply.error_code}}
        elif transcription:  # the transcription object of response_format=json (the default)
            text = reply.content if isinstance(reply.content, str) else fake.transcript
            payload = {"text": text, "usage": {"type": "duration", "seconds": 42}}
        else:
            content = reply.content if isinstance(reply.content, str) else json.dumps(reply.content)
            payload = {"id": f"chatcmpl-{len(fake.requests)}", "object": "chat.completion", "created": int(time.time()),
                       "model": body.get("model", "gpt-4o-mini"), "system_fingerprint": "fp_fake",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": None},
                                    "logprobs": None, "finish_reason": "stop"}]}
            if reply.usage is not None:
                payload["usage"] = {"prompt_tokens": reply.usage[0], "completion_tokens": reply.usage[1],
                                    "total_tokens": sum(reply.usage)}
        data = json.dumps(payload).encode()
        try:
            self.send_response(reply.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("x-request-id", f"req_{len(fake.requests)}")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            pass


class FakeOpenAIServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 drops SYNs when many clients connect at once

    def __init__(self, default: Callable[[dict[str, Any]], Reply] | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.in_flight = self.max_in_flight = 0  # requests being answered now, and the most at once
        self.default = default or (lambda _body: Reply(content=variants_for()))
        self.transcript = ("Hey folks, thanks for joining. We're gonna keep this short and practical. "
                           "Let's look at how teams book meetings faster.")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def queue(self, *replies: Reply) -> None:
        with self.lock:
            self.replies.extend(replies)

    def user_prompts(self) -> list[str]:
        return [next(m["content"] for m in r["body"]["messages"] if m["role"] == "user") for r in self.requests]


@contextmanager
def running_openai(default: Callable[[dict[str, Any]], Reply] | None = None) -> Iterator[FakeOpenAIServer]:
    server = FakeOpenAIServer(default)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="fake OpenAI-compatible server answering canned proposals")
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--variants", type=int, default=3)
    args = parser.parse_args()
    server = FakeOpenAIServer(lambda _body: Reply(content=variants_for(n=args.variants), delay=args.latency))
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()
