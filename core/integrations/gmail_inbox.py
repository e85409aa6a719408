"""Reading a Gmail mailbox through google-api-python-client: users.history.list, messages.get (raw), users.watch."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from core.errors import ConnectorError
from core.integrations.gmail import CONNECTOR, GmailTransport

# Mail we put there ourselves: not inbound.
_OWN_LABELS = frozenset({"SENT", "DRAFT"})


class HistoryExpired(ConnectorError):
    """Gmail answered 404 to startHistoryId: the cursor is older than the history Gmail keeps (about a week)."""


@dataclass(frozen=True)
class NewMessage:
    id: str
    thread_id: str | None


@dataclass(frozen=True)
class HistoryPage:
    messages: list[NewMessage]
    history_id: int


class GmailInbox(GmailTransport):
    """The same OAuth credentials and single-attempt HTTP as sending; read calls may be retried by the job."""

    def new_messages_since(self, start_history_id: int) -> HistoryPage:
        """Every message added since the cursor (all pages), without our own sent mail and drafts."""
        found: dict[str, NewMessage] = {}
        latest = start_history_id
        page_token: str | None = None
        for _ in range(1000):  # bounded: 1,000 pages of history is far beyond a week of mail
            kwargs: dict[str, Any] = {"userId": self.user_id, "startHistoryId": str(start_history_id),
                                      "historyTypes": "messageAdded"}
            if page_token:
                kwargs["pageToken"] = page_token
            try:
                result = self._execute(self._service().users().history().list(**kwargs), may_have_left=False)
            except ConnectorError as exc:
                if exc.status == 404:
                    raise HistoryExpired(str(exc), connector=CONNECTOR, retryable=False, status=404) from None
                raise
            latest = max(latest, int(result.get("historyId") or latest))
            for record in result.get("history") or []:
                for added in record.get("messagesAdded") or []:
                    message = added.get("message") or {}
                    if _OWN_LABELS.intersection(message.get("labelIds") or []) or not message.get("id"):
                        continue
                    found.setdefault(str(message["id"]), NewMessage(str(message["id"]), message.get("threadId")))
            page_token = result.get("nextPageToken")
            if not page_token:
                break
        return HistoryPage(messages=list(found.values()), history_id=latest)

    def raw_message(self, message_id: str) -> bytes:
        request = self._service().users().messages().get(userId=self.user_id, id=message_id, format="raw")
        result = self._execute(request, may_have_left=False)
        raw = str(result.get("raw") or "")
        return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))

    def current_history_id(self) -> int:
        result = self._execute(self._service().users().getProfile(userId=self.user_id), may_have_left=False)
        return int(result["historyId"])

    def watch(self, topic_name: str) -> tuple[int, int]:
        """Ask Gmail to publish the inbox's changes to the topic; returns (historyId, expiration in epoch ms)."""
        body = {"topicName": topic_name, "labelIds": ["INBOX"], "labelFilterBehavior": "INCLUDE"}
        result = self._execute(self._service().users().watch(userId=self.user_id, body=body), may_have_left=False)
        return int(result["historyId"]), int(result["expiration"])
