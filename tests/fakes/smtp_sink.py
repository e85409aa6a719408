"""An SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it accepts, for the SMTP transport tests."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from email import message_from_bytes
from typing import Any

from aiosmtpd.controller import Controller


class SinkHandler:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[bytes] = []
        self.refuse_rcpt: dict[str, str] = {}  # address -> SMTP reply, e.g. "550 5.1.1 no such user"
        self.refuse_data_next: list[str] = []  # replies for the next DATA commands, e.g. "451 4.3.0 try later"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.refuse_data_next:
                return self.refuse_data_next.pop(0)
            self.messages.append(envelope.content)
            return f"250 2.0.0 Ok: queued as Q{len(self.messages)}"

    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(message_from_bytes(raw)["Message-ID"]) for raw in self.messages]

    def duplicates(self) -> dict[str, int]:
        return {mid: n for mid, n in Counter(self.message_ids()).items() if n > 1}


class SmtpSink:
    def __init__(self) -> None:
        self.handler = SinkHandler()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self._port = int(probe.getsockname()[1])
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self._port)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return self._port
