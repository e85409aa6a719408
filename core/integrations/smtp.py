"""SMTP transport through smtplib: one connection per message, failures sorted by whether mail may have left."""

from __future__ import annotations

import functools
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

from core.errors import ConnectorError
from core.integrations.base import DeliveryOutcomeUnknown, SentMessage

CONNECTOR = "smtp"


class SmtpTransport:
    label = "SMTP"
    can_look_up_sent = False

    def __init__(self, *, host: str, port: int, security: str = "starttls", username: str | None = None,
                 password: str | None = None, timeout: float = 30.0) -> None:
        self.host, self.port, self.security = host, port, security
        self.username, self.password, self.timeout = username, password, timeout

    def _connect(self) -> smtplib.SMTP:
        client: smtplib.SMTP
        if self.security == "tls":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=_tls_context())
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        client.ehlo()
        if self.security == "starttls":
            client.starttls(context=_tls_context())
            client.ehlo()
        if self.username:
            client.login(self.username, self.password or "")
        return client

    def send(self, message: EmailMessage, *, thread_id: str | None = None) -> SentMessage:
        message_id = str(message["Message-ID"])
        sender = message["Return-Path"] or message["From"].addresses[0].addr_spec
        recipients = [a.addr_spec for a in message["To"].addresses]
        try:
            client = self._connect()
        except smtplib.SMTPAuthenticationError as exc:
            raise ConnectorError(f"SMTP login refused: {exc.smtp_code}", connector=CONNECTOR, retryable=False,
                                 status=exc.smtp_code) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise ConnectorError(f"cannot reach SMTP server: {exc}", connector=CONNECTOR, retryable=True) from None
        try:
            # Everything before DATA is refused or accepted explicitly: nothing has left yet.
            try:
                code, reply = client.mail(sender)
                if code != 250:
                    raise _refused(code, reply)
                code, reply = client.rcpt(recipients[0])
                if code not in (250, 251):
                    raise _refused(code, reply)
            except (OSError, smtplib.SMTPServerDisconnected) as exc:
                raise ConnectorError(f"SMTP connection lost before DATA: {exc}", connector=CONNECTOR,
                                     retryable=True) from None
            try:
                # smtplib fixes line endings of str only: bytes must already be CRLF.
                code, reply = client.data(message.as_bytes(policy=SMTP_POLICY))
            except smtplib.SMTPDataError as exc:
                raise _refused(exc.smtp_code, exc.smtp_error) from None
            except (TimeoutError, OSError, smtplib.SMTPServerDisconnected) as exc:
                raise DeliveryOutcomeUnknown(f"SMTP connection lost during DATA: {exc}", connector=CONNECTOR) from None
            if code != 250:  # smtplib.data returns the final reply instead of raising
                raise _refused(code, reply)
            return SentMessage(provider_message_id=_queue_id(reply) or message_id, thread_id=None)
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()

    def save_draft(self, message: EmailMessage, *, thread_id: str | None = None) -> SentMessage:
        raise ConnectorError("SMTP mailboxes have no drafts folder", connector=CONNECTOR, retryable=False)

    def find_sent(self, message_id: str) -> SentMessage | None:
        raise ConnectorError("SMTP offers no search of sent mail: check the message by hand",
                             connector=CONNECTOR, retryable=False)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the system CA store takes ~100 ms: once per process, not once per message.
    return ssl.create_default_context()


def _refused(code: int, reply: bytes | str) -> ConnectorError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    # 4xx: try again later; 5xx: the server will not take this message.
    return ConnectorError(f"SMTP {code} {text}"[:500], connector=CONNECTOR, retryable=400 <= code < 500,
                          status=code)


def _queue_id(reply: bytes) -> str | None:
    text = reply.decode("utf-8", "replace").strip()
    return text[:200] or None
