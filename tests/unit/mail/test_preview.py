"""Preview: the message as it would leave, its compliance, a real SpamAssassin score, warnings, test send."""

from __future__ import annotations

import re
import shutil
from email import message_from_bytes, policy

import pytest
from sqlalchemy import func, select

from core.auth.actor import Actor
from core.campaigns.schemas import CampaignInput
from core.campaigns.service import create_campaign
from core.content.drafts import create_draft
from core.content.schemas import DraftInput
from core.integrations.spamassassin import SpamAssassinCli, parse_report
from core.mail.mailboxes import set_campaign_tracking
from core.mail.models import MessageEvent, TrackedLink
from core.mail.preview import content_warnings, preview_email, send_test_to_self
from core.mail.schemas import MailboxView
from core.services import Services
from tests import factories
from tests.conftest import unavailable
from tests.fakes.smtp_sink import SmtpSink


class Unscored:
    label = "no checker"

    def score(self, raw_message: bytes):  # type: ignore[no-untyped-def]
        return SpamAssassinCli(executable="no-such-spamassassin-binary").score(raw_message)


def draft_for(services: Services, admin: Actor, body: str, subject: str = "Freight costs at Northwind",
              campaign_id: int | None = None) -> tuple[int, int]:
    contact = factories.contact(services, admin)
    draft = create_draft(services.uow(), actor=admin, data=DraftInput(contact_id=contact.id, subject=subject,
                                                                     body=body, campaign_id=campaign_id))
    return contact.id, draft.id


LINKED_BODY = ('<p>Our case study: <a href="https://acme-sales.example/case?from=mail&amp;id=7">read it</a>, '
               '<a href="mailto:dana@acme-sales.example">write to Dana</a>, <a href="javascript:alert(1)">run me</a>, '
               '<a href="/relative/path">relative</a>, <a href="ftp://files.example/x">old file</a>.</p>')


def tracking_rows(services: Services) -> tuple[int, int]:
    with services.uow() as uow:
        return (int(uow.session.scalar(select(func.count()).select_from(MessageEvent)) or 0),
                int(uow.session.scalar(select(func.count()).select_from(TrackedLink)) or 0))


def test_preview_links_lead_to_their_destination_and_record_nothing(services: Services, admin: Actor,
                                                                    sink: SmtpSink, smtp_mailbox: MailboxView) -> None:
    contact_id, draft_id = draft_for(services, admin, LINKED_BODY)
    shown = preview_email(services, actor=admin, contact_id=contact_id, draft_id=draft_id, spam_checker=Unscored())
    html = shown.body_html
    assert 'href="https://acme-sales.example/case?from=mail&amp;id=7"' in html
    assert 'href="mailto:dana@acme-sales.example"' in html
    # Anything but http(s)/mailto keeps its text and leads nowhere.
    for text in ("run me", "relative", "old file"):
        assert re.search(r"<a\b(?![^>]*href)[^>]*>" + text + "</a>", html), text
    assert "javascript" not in html and "/relative/path" not in html and "ftp:" not in html
    # Nothing in the preview reaches the public endpoints: no pixel, no click redirect, no placeholder link.
    base = services.settings.public_base_url
    addresses = re.findall(r'(?:href|src)="([^"]*)"', html)
    assert addresses and not [a for a in addresses if a.startswith(base)]
    assert "<img" not in html and "Unsubscribe" in html
    send_test_to_self(services, actor=admin, contact_id=contact_id, draft_id=draft_id)
    (raw,) = sink.handler.messages
    sent_html = message_from_bytes(raw, policy=policy.default).get_body(("html",)).get_content()
    assert "https://acme-sales.example/case?from=mail&amp;id=7" in sent_html and "/c/" not in sent_html
    assert "<img" not in sent_html
    assert tracking_rows(services) == (0, 0)


class Recording:
    """A spam checker that keeps what it was asked to judge (and answers like a missing SpamAssassin)."""

    label = "recording"

    def __init__(self) -> None:
        self.judged: list[bytes] = []

    def score(self, raw_message: bytes):  # type: ignore[no-untyped-def]
        self.judged.append(raw_message)
        return Unscored().score(raw_message)


def test_spamassassin_judges_the_message_as_it_will_be_sent_while_the_preview_shows_destinations(
        services: Services, admin: Actor, smtp_mailbox: MailboxView) -> None:
    contact_id, draft_id = draft_for(services, admin, "Hi John,\n\nSee https://acme-sales.example/case")
    checker = Recording()
    shown = preview_email(services, actor=admin, contact_id=contact_id, draft_id=draft_id, spam_checker=checker)
    (raw,) = checker.judged
    judged = message_from_bytes(raw, policy=policy.default).get_body(("html",)).get_content()
    base = services.settings.public_base_url
    assert f'href="{base}/c/preview"' in judged and f'src="{base}/o/preview.gif"' in judged
    assert f"{base}/c/" not in shown.body_html and "<img" not in shown.body_html
    assert tracking_rows(services) == (0, 0)


def test_preview_says_what_tracking_the_sent_message_will_have(services: Services, admin: Actor,
                                                               smtp_mailbox: MailboxView) -> None:
    contact_id, draft_id = draft_for(services, admin, "Hi John,\n\nSee https://acme-sales.example/case")
    default = preview_email(services, actor=admin, contact_id=contact_id, draft_id=draft_id, score_spam=False)
    assert (default.track_opens, default.track_clicks) == (True, True)
    assert default.tracking_note.startswith(
        "When sent, links will go through the click tracker and an open pixel will be added.")
    assert "nothing is recorded" in default.tracking_note

    campaign = create_campaign(services.uow(), actor=admin, data=CampaignInput(name="No pixel"))
    set_campaign_tracking(services.uow(), actor=admin, campaign_id=campaign.id, track_opens=False,
                          track_clicks=True)
    contact_id, draft_id = draft_for(services, admin, "Hi John,\n\nSee https://acme-sales.example/case",
                                     campaign_id=campaign.id)
    shown = preview_email(services, actor=admin, contact_id=contact_id, draft_id=draft_id, score_spam=False)
    assert (shown.track_opens, shown.track_clicks) == (False, True)
    assert "click tracker" in shown.tracking_note and "pixel" not in shown.tracking_note
    assert 'href="https://acme-sales.example/case"' in shown.body_html

    set_campaign_tracking(services.uow(), actor=admin, campaign_id=campaign.id, track_opens=True,
                          track_clicks=True, plain_text_only=True)
    plain = preview_email(services, actor=admin, contact_id=contact_id, draft_id=draft_id, score_spam=False)
    assert plain.plain_text_only and plain.body_html == "" and "https://acme-sales.example/case" in plain.body_text
    assert plain.tracking_note.startswith("Sent as plain text only")


def test_preview_shows_html_text_and_a_passing_compliance_check(services: Services, admin: Actor,
                                                                smtp_mailbox: MailboxView) -> None:
    contact_id, draft_id = draft_for(services, admin, "Hi John,\n\nWorth a chat about https://acme-sales.example?")
    shown = preview_email(services, actor=admin, contact_id=contact_id, draft_id=draft_id, spam_checker=Unscored())
    assert shown.subject == "Freight costs at Northwind" and shown.from_email == smtp_mailbox.email
    assert "12 Harbour Street" in shown.body_text and "Unsubscribe" in shown.body_html
    assert shown.compliance.compliant and shown.warnings == []


def test_missing_spamassassin_says_so_instead_of_a_score(services: Services, admin: Actor,
                                                         smtp_mailbox: MailboxView) -> None:
    contact_id, draft_id = draft_for(services, admin, "Hi John")
    spam = preview_email(services, actor=admin, contact_id=contact_id, draft_id=draft_id,
                         spam_checker=Unscored()).spam
    assert not spam.available and spam.score is None and "not installed" in spam.note


@pytest.mark.slow
def test_real_spamassassin_scores_a_spammy_draft_higher(services: Services, admin: Actor,
                                                        smtp_mailbox: MailboxView, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("one SpamAssassin run is enough; the database is not its subject")
    if shutil.which("spamassassin") is None:
        unavailable("spamassassin", "not installed (apt-get install spamassassin)")
    contact_id, draft_id = draft_for(services, admin, "CLICK HERE to WIN FREE MONEY!!! 100% GUARANTEED, ACT NOW! $$$",
                                     subject="FREE MONEY GUARANTEED!!!")
    shown = preview_email(services, actor=admin, contact_id=contact_id, draft_id=draft_id)
    assert shown.spam.available and shown.spam.score is not None and shown.spam.score > 0
    assert shown.spam.required == 5.0 and shown.spam.rules
    assert any("spam-filter phrases" in w for w in shown.warnings) and any("capitals" in w for w in shown.warnings)


def test_spamassassin_report_is_parsed() -> None:
    report = ("Content analysis details:   (3.9 points, 5.0 required)\n\n pts rule name              description\n"
              "---- ---------------------- ----------------\n 2.7 MISSING_DATE           Missing Date: header\n"
              " 0.6 MISSING_MID            Missing Message-Id:\n                            header\n")
    score = parse_report(report)
    assert (score.score, score.required) == (3.9, 5.0)
    assert [(r.points, r.name) for r in score.rules] == [(2.7, "MISSING_DATE"), (0.6, "MISSING_MID")]
    assert score.rules[1].description == "Missing Message-Id: header"


def test_content_warnings_flag_links_images_and_shouting() -> None:
    html = "".join(f'<a href="https://x.example/{i}">x</a>' for i in range(5)) + '<img src="a.png">'
    warnings = content_warnings("BUY NOW", "short text here", html)
    assert any("links" in w for w in warnings) and any("image" in w for w in warnings)
    assert any("capitals" in w for w in warnings) and any("buy now" in w for w in warnings)


def test_test_send_goes_to_oneself_not_to_the_contact(services: Services, admin: Actor, sink: SmtpSink,
                                                      smtp_mailbox: MailboxView) -> None:
    contact_id, draft_id = draft_for(services, admin, "Hi John,\n\nWorth a chat?")
    send_test_to_self(services, actor=admin, contact_id=contact_id, draft_id=draft_id)
    (raw,) = sink.handler.messages
    message = message_from_bytes(raw, policy=policy.default)
    assert message["To"] == admin.email and message["Subject"] == "[Test] Freight costs at Northwind"
