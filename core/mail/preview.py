"""Preview (seed 10.8): a draft or unsaved text for one contact as it would leave — subject, HTML and text,
the compliance check, SpamAssassin's score, content warnings — and a test send to oneself.

Nothing here writes to the ledger or records an event: the preview's links lead straight to their destinations
(http, https and mailto only; anything else is left as inert text) and it carries no open pixel. Whether the
sent message will be tracked is reported beside it (``track_opens`` / ``track_clicks``) instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.utils import make_msgid
from typing import cast

import nh3
from sqlalchemy import select

from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.permissions import CREATE, READ, require
from core.content.models import Draft
from core.content.service import preview_template
from core.crm.models import Contact
from core.errors import NotFound, ValidationFailed
from core.integrations.base import SentMessage, SpamChecker, SpamScore
from core.mail.building import ComplianceReport, Envelope, Tracking, build_message, check_can_spam_compliance
from core.mail.ledger import MailboxConnection
from core.mail.models import CampaignTracking, Mailbox
from core.mail.secrets import decrypt_credentials
from core.mail.transports import transport_for
from core.services import Services

SPAM_PHRASES = ("act now", "100% free", "free money", "guarantee", "no obligation", "risk-free", "risk free",
                "click here", "buy now", "limited time", "winner", "cash bonus", "earn $", "double your",
                "urgent", "once in a lifetime", "special promotion", "no credit check", "$$$", "100% satisfied")
_IMG = re.compile(r"<img\b", re.IGNORECASE)
_LINK = re.compile(r'<a\b[^>]*href="([^"]*)"', re.IGNORECASE)
_WORD = re.compile(r"[A-Za-zÀ-ÿ]{3,}")
SAFE_SCHEMES = {"http", "https", "mailto"}
# What the preview keeps of the message's HTML (as a recipient's client would render it, minus anything active).
_PREVIEW_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height", "style"},
                       "p": {"style"}, "span": {"style"}, "div": {"style"}, "td": {"style"}}


@dataclass(frozen=True)
class EmailPreview:
    to_email: str
    from_email: str
    subject: str
    body_html: str
    body_text: str
    compliance: ComplianceReport
    spam: SpamScore
    warnings: list[str]
    # What the campaign's switches will do when the message is really sent (the preview itself tracks nothing).
    track_opens: bool = True
    track_clicks: bool = True
    plain_text_only: bool = False

    @property
    def tracking_note(self) -> str:
        if self.plain_text_only:
            return "Sent as plain text only: no open pixel and no tracked links."
        tracked = [what for what, on in (("links will go through the click tracker", self.track_clicks),
                                         ("an open pixel will be added", self.track_opens)) if on]
        when_sent = ("When sent, " + " and ".join(tracked) + ". ") if tracked else "Sent without tracking. "
        return when_sent + "In this preview links lead straight to their destinations and nothing is recorded."


def content_warnings(subject: str, text: str, html: str) -> list[str]:
    """Phrases filters dislike, too many links or images for the text, shouting."""
    found: list[str] = []
    lowered = f"{subject}\n{text}".lower()
    phrases = [p for p in SPAM_PHRASES if p in lowered]
    if phrases:
        found.append("spam-filter phrases: " + ", ".join(phrases))
    words = _WORD.findall(text)
    # The unsubscribe link and the open pixel are ours, not the writer's.
    links = len([href for href in _LINK.findall(html) if "/u/" not in href])
    images = len(_IMG.findall(html)) - html.count('width="1" height="1"')
    if links > 3 or (words and links / max(1, len(words)) > 0.05):
        found.append(f"{links} links for {len(words)} words: cold mail does best with one or two")
    if images > 0 and len(words) / images < 100:
        found.append(f"{images} image(s) for {len(words)} words: image-heavy mail looks like marketing")
    capitals = [w for w in _WORD.findall(subject + " " + text) if w.isupper() and len(w) > 3]
    if len(capitals) >= 3 or (subject and subject.isupper()):
        found.append("words in capitals: " + ", ".join(sorted(set(capitals))[:8] or [subject]))
    if subject.count("!") + text.count("!") >= 3:
        found.append("many exclamation marks")
    return found


def _mailbox(services: Services, actor: Actor, mailbox_id: int | None) -> Mailbox:
    with services.uow() as uow:
        query = select(Mailbox).where(Mailbox.active.is_(True)).order_by(Mailbox.id)
        if mailbox_id is not None:
            query = query.where(Mailbox.id == mailbox_id)
        boxes = list(uow.session.scalars(query))
        uow.session.expunge_all()
    if not boxes:
        raise ValidationFailed("no active mailbox: connect one to preview and test-send")
    return next((m for m in boxes if m.owner_id == actor.user_id), boxes[0])


@dataclass(frozen=True)
class _Content:
    to_email: str
    subject: str
    body: str
    tracking: Tracking  # the draft's campaign switches; the defaults for unsaved text


def _content(services: Services, actor: Actor, contact_id: int, draft_id: int | None, subject: str | None,
             body: str | None) -> _Content:
    """A saved draft, or unsaved template text rendered for the contact."""
    if draft_id is not None:
        require(actor, "drafts", READ)
        with services.uow() as uow:
            draft = uow.session.get(Draft, draft_id)
            if draft is None or draft.contact_id != contact_id:
                raise NotFound(f"draft {draft_id} of contact {contact_id} not found")
            switches = uow.session.get(CampaignTracking, draft.campaign_id) if draft.campaign_id else None
            tracking = Tracking(opens=switches.track_opens, clicks=switches.track_clicks,
                                plain_text_only=switches.plain_text_only) if switches else Tracking()
            return _Content(draft.to_email, draft.subject, draft.body, tracking)
    rendered = preview_template(services.uow(), actor=actor, contact_id=contact_id, subject=subject or "",
                                body=body or "")
    with services.uow() as uow:
        email = uow.session.scalar(select(Contact.email).where(Contact.id == contact_id)) or ""
    return _Content(email, rendered.subject, rendered.body, Tracking())


def preview_unsubscribe_url(services: Services) -> str:
    """The placeholder in a preview's List-Unsubscribe: the real one needs a ledger entry's signed token."""
    return f"{services.settings.public_base_url}/u/preview"


def _message(services: Services, mailbox: Mailbox, to_email: str, subject: str, body: str, tracking: Tracking,
             *, as_sent: bool = False) -> EmailMessage:
    """The message, untracked: links keep their destinations and there is no open pixel. ``as_sent`` gives the
    shape SpamAssassin should judge instead — redirect links and pixel as the campaign will add them, at
    placeholder addresses that are never shown, followed or sent."""
    envelope = Envelope(from_email=mailbox.email, from_name=mailbox.from_name, to_email=to_email, subject=subject,
                        body=body, message_id=make_msgid(domain=mailbox.email.rpartition("@")[2]),
                        signature=mailbox.signature,
                        postal_address=mailbox.postal_address or services.settings.default_postal_address)
    unsubscribe = preview_unsubscribe_url(services)
    if as_sent:
        base = services.settings.public_base_url
        return build_message(envelope, unsubscribe_url=unsubscribe, tracking=tracking,
                             tracked_link=lambda url: f"{base}/c/preview", pixel_url=f"{base}/o/preview.gif")
    return build_message(envelope, unsubscribe_url=unsubscribe, tracking=replace(tracking, opens=False, clicks=False))


def preview_html(markup: str, *, unsubscribe_placeholder: str) -> str:
    """The HTML to show: links to their real http(s)/mailto destinations; anything else (javascript:, relative
    or unknown schemes) and the placeholder unsubscribe link keep their text but lead nowhere."""
    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "a" and attribute == "href" and value == unsubscribe_placeholder:
            return None
        if attribute in ("href", "src") and not value.strip().lower().startswith(("http://", "https://", "mailto:")):
            return None
        return value

    return nh3.clean(markup, attributes=_PREVIEW_ATTRIBUTES, url_schemes=SAFE_SCHEMES, attribute_filter=keep,
                     link_rel="noopener noreferrer")


def _part(message: EmailMessage, kind: str) -> str:
    part = message.get_body((kind,))
    return str(part.get_content()) if part is not None else ""


def preview_email(services: Services, *, actor: Actor, contact_id: int, draft_id: int | None = None,
                  subject: str | None = None, body: str | None = None, mailbox_id: int | None = None,
                  spam_checker: SpamChecker | None = None, score_spam: bool = True) -> EmailPreview:
    """The message as it would leave, checked; SpamAssassin (when asked) runs outside any transaction."""
    require(actor, "sending", READ)
    content = _content(services, actor, contact_id, draft_id, subject, body)
    mailbox = _mailbox(services, actor, mailbox_id)
    message = _message(services, mailbox, content.to_email, content.subject, content.body, content.tracking)
    checker = spam_checker or cast(SpamChecker | None, services.connectors.get("spam_checker"))
    if checker is None:
        from core.integrations.spamassassin import SpamAssassinCli

        checker = SpamAssassinCli()
    html, text = _part(message, "html"), _part(message, "plain")
    if score_spam:
        spam = checker.score(_message(services, mailbox, content.to_email, content.subject, content.body,
                                      content.tracking, as_sent=True).as_bytes())
    else:
        spam = SpamScore(available=False, note="not scored yet")
    shown = preview_html(html, unsubscribe_placeholder=preview_unsubscribe_url(services)) if html else ""
    tracking = content.tracking
    return EmailPreview(to_email=content.to_email, from_email=mailbox.email, subject=content.subject,
                        body_html=shown, body_text=text, compliance=check_can_spam_compliance(message),
                        spam=spam, warnings=content_warnings(content.subject, text, html),
                        track_opens=tracking.opens and not tracking.plain_text_only,
                        track_clicks=tracking.clicks and not tracking.plain_text_only,
                        plain_text_only=tracking.plain_text_only)


def send_test_to_self(services: Services, *, actor: Actor, contact_id: int, draft_id: int | None = None,
                      subject: str | None = None, body: str | None = None,
                      mailbox_id: int | None = None) -> SentMessage:
    """The previewed message to the actor's own address, marked [Test]; not in the ledger, not tracked."""
    require(actor, "sending", CREATE)
    if not actor.email or "@" not in actor.email:
        raise ValidationFailed("your account has no email address to send a test to")
    content = _content(services, actor, contact_id, draft_id, subject, body)
    mailbox = _mailbox(services, actor, mailbox_id)
    message = _message(services, mailbox, actor.email, f"[Test] {content.subject}", content.body, content.tracking)
    connection = MailboxConnection(
        id=mailbox.id, kind=mailbox.kind.value, email=mailbox.email, smtp_host=mailbox.smtp_host,
        smtp_port=mailbox.smtp_port, smtp_security=mailbox.smtp_security.value, smtp_username=mailbox.smtp_username,
        credentials=decrypt_credentials(services.settings, mailbox.credentials_encrypted))
    sent = transport_for(services, connection).send(message)
    with services.uow() as uow:
        audit.record(uow.session, actor, "create", "test_send", sent.provider_message_id,
                     {"to": actor.email, "mailbox_id": mailbox.id, "draft_id": draft_id})
        uow.commit()
    return sent
