"""Gmail through google-api-python-client: send with raw + threadId, drafts, and rfc822msgid: look-ups.

``send`` is attempted exactly once: the client's num_retries stays 0 and the HTTP layer below it is replaced
by one that never repeats a request (httplib2 silently re-sends a POST when a connection drops).
"""

from __future__ import annotations

import base64
import http.client
import socket
from email.message import EmailMessage
from typing import Any

import httplib2
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from core.errors import ConnectorError
from core.integrations.base import DeliveryOutcomeUnknown, SentMessage

CONNECTOR = "gmail"
TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105  (an address, not a secret)
SCOPES = ["https://www.googleapis.com/auth/gmail.send", "https://www.googleapis.com/auth/gmail.compose",
          "https://www.googleapis.com/auth/gmail.readonly"]


class _NotSent(ConnectionError):
    """The connection could not be opened: the request never left."""


class SingleAttemptHttp(httplib2.Http):  # type: ignore[misc]
    """httplib2.Http that sends each request at most once (no reconnect-and-resend on a dropped socket)."""

    def _conn_request(self, conn: Any, request_uri: str, method: str, body: Any, headers: Any) -> Any:
        try:
            if conn.sock is None:
                conn.connect()
        except OSError as exc:
            conn.close()
            raise _NotSent(str(exc)) from exc
        try:
            conn.request(method, request_uri, body, headers)
            raw = conn.getresponse()
            content = b"" if method == "HEAD" else raw.read()
        except BaseException:
            conn.close()
            raise
        response = httplib2.Response(raw)
        if method != "HEAD":
            content = httplib2._decompressContent(response, content, self.limit_kwargs)
        return response, content


class GmailTransport:
    label = "Gmail API"
    can_look_up_sent = True

    def __init__(self, *, token: dict[str, Any], api_base: str, client_id: str | None = None,
                 client_secret: str | None = None, user_id: str = "me", timeout: float = 30.0) -> None:
        self.credentials = Credentials(  # type: ignore[no-untyped-call]
            token=token.get("token"), refresh_token=token.get("refresh_token"),
            token_uri=token.get("token_uri") or TOKEN_URI, client_id=client_id or token.get("client_id"),
            client_secret=client_secret or token.get("client_secret"), scopes=token.get("scopes") or SCOPES)
        self.api_base, self.user_id, self.timeout = api_base, user_id, timeout

    def _service(self) -> Any:
        http = AuthorizedHttp(self.credentials, http=SingleAttemptHttp(timeout=self.timeout))
        return build("gmail", "v1", http=http, static_discovery=True, cache_discovery=False,
                     client_options={"api_endpoint": self.api_base})

    def send(self, message: EmailMessage, *, thread_id: str | None = None) -> SentMessage:
        body: dict[str, Any] = {"raw": base64.urlsafe_b64encode(message.as_bytes()).decode("ascii")}
        if thread_id:
            body["threadId"] = thread_id
        request = self._service().users().messages().send(userId=self.user_id, body=body)
        result = self._execute(request, may_have_left=True)
        return SentMessage(provider_message_id=str(result["id"]), thread_id=result.get("threadId"))

    def save_draft(self, message: EmailMessage, *, thread_id: str | None = None) -> SentMessage:
        inner: dict[str, Any] = {"raw": base64.urlsafe_b64encode(message.as_bytes()).decode("ascii")}
        if thread_id:
            inner["threadId"] = thread_id
        request = self._service().users().drafts().create(userId=self.user_id, body={"message": inner})
        result = self._execute(request, may_have_left=True)
        saved = result.get("message", {})
        return SentMessage(provider_message_id=str(saved.get("id") or result["id"]), thread_id=saved.get("threadId"))

    def find_sent(self, message_id: str) -> SentMessage | None:
        query = "rfc822msgid:" + message_id.strip("<>")
        request = self._service().users().messages().list(userId=self.user_id, q=query, includeSpamTrash=True)
        result = self._execute(request, may_have_left=False)
        found = result.get("messages") or []
        if not found:
            return None
        return SentMessage(provider_message_id=str(found[0]["id"]), thread_id=found[0].get("threadId"))

    def _execute(self, request: Any, *, may_have_left: bool) -> dict[str, Any]:
        try:
            result: dict[str, Any] = request.execute(num_retries=0)
            return result
        except HttpError as exc:
            raise _from_http_error(exc, may_have_left=may_have_left) from None
        except RefreshError as exc:
            raise ConnectorError(f"Gmail authorisation expired or was revoked: {exc}", connector=CONNECTOR,
                                 retryable=False, status=401) from None
        except (_NotSent, TransportError, socket.gaierror) as exc:
            raise ConnectorError(f"cannot reach Gmail: {exc}", connector=CONNECTOR, retryable=True) from None
        except (OSError, http.client.HTTPException, httplib2.HttpLib2Error) as exc:
            if may_have_left:
                raise DeliveryOutcomeUnknown(f"Gmail did not answer: {exc!r}", connector=CONNECTOR) from None
            raise ConnectorError(f"Gmail did not answer: {exc!r}", connector=CONNECTOR, retryable=True) from None


def _from_http_error(exc: HttpError, *, may_have_left: bool) -> ConnectorError:
    status = int(exc.resp.status)
    retry_after = exc.resp.get("retry-after")
    reason = exc._get_reason() if hasattr(exc, "_get_reason") else str(exc)
    message = f"Gmail {status}: {reason}"[:500]
    if status >= 500 and may_have_left:
        # Google may have accepted the message before failing: look it up rather than send again.
        return DeliveryOutcomeUnknown(message, connector=CONNECTOR)
    retryable = status == 429 or status >= 500 or (status == 403 and "rate" in message.lower())
    return ConnectorError(message, connector=CONNECTOR, retryable=retryable, status=status,
                          retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None)
