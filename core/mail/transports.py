"""Choosing the transport of a mailbox: Gmail API, SMTP or the embedded outbox."""

from __future__ import annotations

from typing import Any, cast

from core.errors import ConfigError
from core.integrations.base import MailTransport
from core.mail.ledger import MailboxConnection
from core.services import Services


def transport_for(services: Services, connection: MailboxConnection, *, timeout: float = 30.0) -> MailTransport:
    """Tests and special deployments override with ``build_services(settings, mail_transport=...)``."""
    override = services.connectors.get("mail_transport")
    if override is not None:
        return cast(MailTransport, override)
    settings = services.settings
    if connection.kind == "smtp":
        from core.integrations.smtp import SmtpTransport

        host = connection.smtp_host or settings.smtp_host
        if not host:
            raise ConfigError(f"mailbox {connection.email} has no SMTP host and SMTP_HOST is not set")
        password = connection.credentials.get("password") or (
            settings.smtp_password.get_secret_value() if settings.smtp_password else None)
        return SmtpTransport(host=host, port=connection.smtp_port or settings.smtp_port,
                             security=connection.smtp_security or settings.smtp_security,
                             username=connection.smtp_username or settings.smtp_username, password=password,
                             timeout=timeout)
    if connection.kind == "gmail":
        from core.integrations.gmail import GmailTransport

        secret = settings.google_client_secret.get_secret_value() if settings.google_client_secret else None
        token: dict[str, Any] = dict(connection.credentials)
        return GmailTransport(token=token, api_base=settings.gmail_api_base, client_id=settings.google_client_id,
                              client_secret=secret, timeout=timeout)
    from core.integrations.outbox import OutboxTransport

    return OutboxTransport(services.session_factory, mailbox_id=connection.id)
