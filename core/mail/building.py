"""Building the message a recipient receives, and the CAN-SPAM check every message passes before it leaves."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

import nh3
from pydantic import BaseModel

from core.db import utcnow

_URL = re.compile(r"https?://[^\s<>\"')\]]+")
_HREF = re.compile(r'(<a\b[^>]*?\bhref=")([^"]+)(")', re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_DECEPTIVE_PREFIX = re.compile(r"^\s*(re|fwd?|aw|wg|tr|sv|rv)\s*:", re.IGNORECASE)
_UNSUBSCRIBE_WORDS = re.compile(r"unsubscribe|abmelden|se d[ée]sabonner|darse de baja|opt[- ]out", re.IGNORECASE)
_STREET = re.compile(r"\b(street|st\.|avenue|ave\.?|road|rd\.?|boulevard|blvd|suite|ste\.?|lane|drive|dr\.|way|"
                     r"p\.?\s?o\.? box|stra(ss|ß)e|platz|weg|rue|calle|via)\b", re.IGNORECASE)
_POSTCODE = re.compile(r"\b(\d{5}(-\d{4})?|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|\d{4,5} [A-ZÄÖÜ][a-zäöüß]+)\b")
_AD_LABEL = re.compile(r"\b(advertisement|advertising|\[ad\]|werbung|publicité)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Tracking:
    """What the per-campaign switches allow for one message."""

    opens: bool = True
    clicks: bool = True
    plain_text_only: bool = False


@dataclass(frozen=True)
class Envelope:
    from_email: str
    from_name: str
    to_email: str
    subject: str
    body: str
    message_id: str
    signature: str = ""
    postal_address: str = ""
    in_reply_to: str | None = None
    references: str | None = None


def _is_html(body: str) -> bool:
    return bool(re.search(r"<(p|div|br|a|table|b|strong|em|ul|ol|h\d)\b", body, re.IGNORECASE))


def text_to_html(text: str) -> str:
    """Paragraphs of escaped text with bare URLs made into links."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    out = []
    for paragraph in paragraphs:
        escaped = html.escape(paragraph)
        linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        out.append("<p>" + linked.replace("\n", "<br>") + "</p>")
    return "\n".join(out)


def html_to_text(markup: str) -> str:
    markup = re.sub(r"(?i)<br\s*/?>", "\n", markup)
    markup = re.sub(r"(?i)</p>|</div>|</li>|</h\d>", "\n\n", markup)
    markup = re.sub(r'(?i)<a\b[^>]*href="([^"]+)"[^>]*>(.*?)</a>', r"\2 (\1)", markup)
    text = html.unescape(_TAG.sub("", markup))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def sanitize_html(markup: str) -> str:
    # Only http(s) and mailto links survive; scripts, styles and event handlers are removed.
    return nh3.clean(markup, url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")


def rewrite_links(markup: str, tracked: Callable[[str], str]) -> str:
    """Point every http(s) link at the click endpoint; ``tracked`` maps the real URL to its redirect URL."""
    def swap(match: re.Match[str]) -> str:
        url = html.unescape(match.group(2))
        if not url.lower().startswith(("http://", "https://")):
            return match.group(0)
        return match.group(1) + html.escape(tracked(url)) + match.group(3)
    return _HREF.sub(swap, markup)


def links_in(markup: str) -> list[str]:
    return [html.unescape(m.group(2)) for m in _HREF.finditer(markup)
            if m.group(2).lower().startswith(("http://", "https://"))]


def body_html(envelope: Envelope) -> str:
    return sanitize_html(envelope.body if _is_html(envelope.body) else text_to_html(envelope.body))


def build_message(envelope: Envelope, *, unsubscribe_url: str, tracking: Tracking,
                  tracked_link: Callable[[str], str] | None = None, pixel_url: str | None = None) -> EmailMessage:
    """The full message: text and sanitised HTML alternatives, threading, List-Unsubscribe and the footer."""
    message = EmailMessage()
    message["From"] = formataddr((envelope.from_name, envelope.from_email)) if envelope.from_name \
        else envelope.from_email
    message["To"] = envelope.to_email
    message["Subject"] = envelope.subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = envelope.message_id
    if envelope.in_reply_to:
        message["In-Reply-To"] = envelope.in_reply_to
        message["References"] = envelope.references or envelope.in_reply_to
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"

    main_html = body_html(envelope)
    text = html_to_text(main_html)
    signature = envelope.signature.strip()
    footer_text = f"\n\n{signature}\n\n--\n" if signature else "\n\n--\n"
    footer_text += f"{envelope.postal_address}\nUnsubscribe: {unsubscribe_url}\n"
    message.set_content(text + footer_text)
    if tracking.plain_text_only:
        return message

    if tracking.clicks and tracked_link is not None:
        main_html = rewrite_links(main_html, tracked_link)
    signature_html = "<p>" + html.escape(signature).replace("\n", "<br>") + "</p>" if signature else ""
    footer_html = (f'<p style="color:#666;font-size:12px">{html.escape(envelope.postal_address)}<br>'
                   f'<a href="{html.escape(unsubscribe_url)}">Unsubscribe</a></p>')
    pixel = (f'<img src="{html.escape(pixel_url)}" width="1" height="1" alt="" style="display:none">'
             if tracking.opens and pixel_url else "")
    document = f"<html><body>{main_html}{signature_html}{footer_html}{pixel}</body></html>"
    message.add_alternative(document, subtype="html")
    return message


class ComplianceReport(BaseModel):
    has_physical_address: bool
    has_unsubscribe_link: bool
    subject_not_deceptive: bool
    commercial_label_ok: bool
    problems: list[str]

    @property
    def compliant(self) -> bool:
        return not self.problems


def _text_of(email: EmailMessage) -> str:
    parts = []
    for part in email.walk():
        if part.get_content_maintype() == "text":
            content = part.get_content()
            parts.append(html_to_text(content) if part.get_content_subtype() == "html" else content)
    return "\n".join(parts)


def check_can_spam_compliance(email: EmailMessage, *, advertisement: bool = False) -> ComplianceReport:
    """Seed 11.7: postal address, working opt-out, honest subject, and an ad label when the mail is an ad."""
    text = _text_of(email)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    has_address = any(
        re.search(r"\d", line) and (_STREET.search(line) or _POSTCODE.search(line)) for line in lines)
    header = str(email.get("List-Unsubscribe", ""))
    has_link = "https://" in header or "http://" in header or "mailto:" in header
    has_visible = any(_UNSUBSCRIBE_WORDS.search(line) for line in lines)
    first_email = not email.get("In-Reply-To") and not email.get("References")
    subject = str(email.get("Subject", ""))
    not_deceptive = not (first_email and _DECEPTIVE_PREFIX.match(subject))
    label_ok = not advertisement or bool(_AD_LABEL.search(subject) or _AD_LABEL.search(text))
    problems = []
    if not has_address:
        problems.append("no physical postal address in the message")
    if not (has_link and has_visible):
        problems.append("no working unsubscribe link (List-Unsubscribe header and a visible link are both needed)")
    if not not_deceptive:
        problems.append(f"subject {subject[:40]!r} pretends to be a reply or forward on a first email")
    if not label_ok:
        problems.append("an advertisement must be labelled as one")
    return ComplianceReport(has_physical_address=has_address, has_unsubscribe_link=has_link and has_visible,
                            subject_not_deceptive=not_deceptive, commercial_label_ok=label_ok, problems=problems)
