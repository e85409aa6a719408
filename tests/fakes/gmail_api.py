"""A fake Gmail API (v1) on 127.0.0.1 for the official google-api-python-client.

Speaks the real paths, JSON shapes and error bodies of users.messages.send, users.messages.list (q=rfc822msgid:)
users.drafts.create, and for inbound mail users.history.list (messageAdded, paged, 404 for a cursor older
than the kept history), users.messages.get (format=raw), users.getProfile and users.watch. It can be told to answer 429, or to drop the connection before or after it kept the
message, which is how a real timeout looks to the client.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PREFIX = "/gmail/v1/users/"


class FakeGmail:
    def __init__(self, *, token: str = "ya29.fake-access-token") -> None:
        self.token = token
        self.lock = threading.Lock()
        self.messages: list[dict[str, Any]] = []  # {"id", "threadId", "message_id", "raw", "labelIds"}
        self.requests: list[tuple[str, str]] = []
        self.next_send: list[str] = []  # "429", "500", "drop_before", "drop_after"
        self.history_id = 1000  # the mailbox's current historyId; each added message moves it on
        self.history: list[dict[str, Any]] = []  # {"id", "message"} per messageAdded, oldest first
        self.oldest_history_id = 0  # startHistoryId below this answers 404, as after Gmail's ~week of history
        self.history_page_size = 100
        self.watches: list[dict[str, Any]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __enter__(self) -> FakeGmail:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def sent_message_ids(self) -> list[str]:
        return [m["message_id"] for m in self.messages if "SENT" in m["labelIds"]]

    def _store(self, body: dict[str, Any], label: str) -> dict[str, Any]:
        raw = base64.urlsafe_b64decode(body["raw"] + "=" * (-len(body["raw"]) % 4))
        parsed = message_from_bytes(raw)
        with self.lock:
            thread_id = body.get("threadId") or uuid.uuid4().hex[:16]
            record = {"id": uuid.uuid4().hex[:16], "threadId": thread_id, "labelIds": [label],
                      "message_id": str(parsed["Message-ID"]), "raw": raw}
            self.messages.append(record)
            self._added(record)
        return record

    def _added(self, record: dict[str, Any]) -> None:
        self.history_id += 1
        self.history.append({"id": self.history_id, "message": record})

    def deliver(self, raw: bytes, *, thread_id: str | None = None) -> dict[str, Any]:
        """Mail arriving in the inbox from outside (a reply, a bounce); returns the stored message."""
        parsed = message_from_bytes(raw)
        with self.lock:
            record = {"id": uuid.uuid4().hex[:16], "threadId": thread_id or uuid.uuid4().hex[:16],
                      "labelIds": ["INBOX", "UNREAD"], "message_id": str(parsed["Message-ID"]), "raw": raw}
            self.messages.append(record)
            self._added(record)
        return record

    def history_page(self, start: int, page_token: str | None) -> dict[str, Any]:
        with self.lock:
            records = [h for h in self.history if h["id"] > start]
            offset = int(page_token or 0)
            chunk = records[offset:offset + self.history_page_size]
            payload: dict[str, Any] = {"historyId": str(self.history_id)}
            if chunk:
                payload["history"] = [{"id": str(h["id"]), "messages": [_ref(h["message"])],
                                       "messagesAdded": [{"message": _ref(h["message"])}]} for h in chunk]
            if offset + self.history_page_size < len(records):
                payload["nextPageToken"] = str(offset + self.history_page_size)
        return payload

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self
        return _make_handler(fake)


def _ref(record: dict[str, Any]) -> dict[str, Any]:
    return {"id": record["id"], "threadId": record["threadId"], "labelIds": list(record["labelIds"])}


def _make_handler(fake: FakeGmail) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str, reason: str, state: str,
                   headers: dict[str, str] | None = None) -> None:
            self._json(status, {"error": {"code": status, "message": message, "status": state,
                                          "errors": [{"message": message, "domain": "global", "reason": reason}]}},
                       headers)

        def _authorised(self) -> bool:
            if self.headers.get("Authorization") == f"Bearer {fake.token}":
                return True
            self._error(401, "Request had invalid authentication credentials.", "authError", "UNAUTHENTICATED")
            return False

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            parsed: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
            return parsed

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            fake.requests.append(("POST", path))
            body = self._body()
            if not self._authorised():
                return
            if re.fullmatch(PREFIX + r"[^/]+/messages/send", path):
                mode = fake.next_send.pop(0) if fake.next_send else ""
                if mode == "429":
                    self._error(429, "User-rate limit exceeded.", "rateLimitExceeded", "RESOURCE_EXHAUSTED",
                                {"Retry-After": "2"})
                    return
                if mode == "500":
                    self._error(500, "Backend Error", "backendError", "INTERNAL")
                    return
                if mode == "drop_before":
                    self.close_connection = True
                    self.connection.close()
                    return
                record = fake._store(body, "SENT")
                if mode == "drop_after":
                    self.close_connection = True
                    self.connection.close()
                    return
                self._json(200, {"id": record["id"], "threadId": record["threadId"], "labelIds": ["SENT"]})
            elif re.fullmatch(PREFIX + r"[^/]+/watch", path):
                if not str(body.get("topicName", "")).startswith("projects/"):
                    self._error(400, "Invalid topicName", "invalidArgument", "INVALID_ARGUMENT")
                    return
                fake.watches.append(body)
                self._json(200, {"historyId": str(fake.history_id),
                                 "expiration": str(int((time.time() + 7 * 86400) * 1000))})
            elif re.fullmatch(PREFIX + r"[^/]+/drafts", path):
                record = fake._store(body["message"], "DRAFT")
                self._json(200, {"id": "r" + record["id"], "message": {
                    "id": record["id"], "threadId": record["threadId"], "labelIds": ["DRAFT"]}})
            else:
                self._error(404, "Not Found", "notFound", "NOT_FOUND")

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            fake.requests.append(("GET", parts.path))
            if not self._authorised():
                return
            params = parse_qs(parts.query)
            if re.fullmatch(PREFIX + r"[^/]+/history", parts.path):
                start = int(params.get("startHistoryId", ["0"])[0])
                if start < fake.oldest_history_id:
                    self._error(404, "Requested entity was not found.", "notFound", "NOT_FOUND")
                    return
                self._json(200, fake.history_page(start, params.get("pageToken", [None])[0]))
                return
            if re.fullmatch(PREFIX + r"[^/]+/profile", parts.path):
                self._json(200, {"emailAddress": "me@example.com", "messagesTotal": len(fake.messages),
                                 "threadsTotal": len(fake.messages), "historyId": str(fake.history_id)})
                return
            single = re.fullmatch(PREFIX + r"[^/]+/messages/([^/]+)", parts.path)
            if single:
                found_one = [m for m in fake.messages if m["id"] == single.group(1)]
                if not found_one:
                    self._error(404, "Requested entity was not found.", "notFound", "NOT_FOUND")
                    return
                m = found_one[0]
                self._json(200, {**_ref(m), "snippet": "", "historyId": str(fake.history_id),
                                 "sizeEstimate": len(m["raw"]), "internalDate": str(int(time.time() * 1000)),
                                 "raw": base64.urlsafe_b64encode(m["raw"]).decode("ascii")})
                return
            if not re.fullmatch(PREFIX + r"[^/]+/messages", parts.path):
                self._error(404, "Not Found", "notFound", "NOT_FOUND")
                return
            query = parse_qs(parts.query).get("q", [""])[0]
            match = re.fullmatch(r"rfc822msgid:<?([^>\s]+)>?", query)
            if not match:
                self._error(400, "Invalid query", "invalidArgument", "INVALID_ARGUMENT")
                return
            wanted = "<" + match.group(1) + ">"
            found = [{"id": m["id"], "threadId": m["threadId"]} for m in fake.messages
                     if m["message_id"] == wanted]
            payload: dict[str, Any] = {"resultSizeEstimate": len(found)}
            if found:
                payload["messages"] = found
            self._json(200, payload)

    return Handler
