"""Slack incoming webhook: a POST of {"text": ...}; Slack answers 200 "ok" or an error word."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from core.errors import ConnectorError


class SlackWebhook:
    label = "Slack incoming webhook"

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("SLACK_WEBHOOK_URL must be an http(s) URL")
        self._url = url
        self.timeout = timeout

    def notify(self, text: str) -> None:
        body = json.dumps({"text": text}).encode("utf-8")
        request = urllib.request.Request(self._url, data=body, method="POST",  # noqa: S310 (scheme checked)
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (http(s) only)
                response.read()
        except urllib.error.HTTPError as exc:
            reason = exc.read().decode("utf-8", "replace")[:200]
            raise ConnectorError(f"Slack refused the alert: {exc.code} {reason}", connector="slack",
                                 retryable=exc.code == 429 or exc.code >= 500, status=exc.code) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise ConnectorError(f"Slack did not answer: {exc}", connector="slack", retryable=True) from None
