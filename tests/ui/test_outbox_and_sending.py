"""Outbox page (messages as recipients see them, inject buttons) and Sending page (ledger by status, review)."""

from __future__ import annotations

from sqlalchemy import select

from core.content.drafts import create_draft
from core.content.schemas import DraftInput
from core.crm.models import Suppression, SuppressionReason
from core.crm.service import list_contacts
from core.mail import pipeline
from core.mail.approval import approve_and_queue
from core.mail.mailboxes import create_mailbox
from core.mail.models import InboundMessage, SendLedgerEntry, SendStatus
from core.mail.schemas import MailboxInput

OUTBOX, SENDING = "pages/Outbox.py", "pages/Sending.py"
POSTAL = "Acme Sales Ltd, 12 Harbour Street, Bristol BS1 4RN, United Kingdom"


def send_one(services, actor) -> int:
    create_mailbox(services.uow(), actor=actor, settings=services.settings, data=MailboxInput(
        email="dana@acme-sales.example", kind="outbox", from_name="Dana Demo", postal_address=POSTAL))
    contact = list_contacts(services.uow(), actor=actor, limit=1).items[0]
    draft = create_draft(services.uow(), actor=actor, data=DraftInput(
        contact_id=contact.id, subject="Freight idea", body="Hi,\n\nSee https://acme-sales.example/case\n\nDana"))
    entry = approve_and_queue(services.uow(), actor=actor, draft_id=draft.id)
    assert pipeline.deliver(services, entry.id, owner="test").outcome == "sent"
    return entry.id


def test_outbox_shows_the_message_with_live_pixel_and_tracked_links(demo_services, demo_actor, open_page, text_of):
    send_one(demo_services, demo_actor)
    at = open_page(OUTBOX)
    assert not at.exception
    assert "**Subject:** Freight idea" in text_of(at)
    shown = at.get("html")[0].proto.body  # the message after nh3, as st.html shows it
    base = demo_services.settings.public_base_url
    assert f'src="{base}/o/' in shown and f'href="{base}/c/' in shown
    assert "<script" not in shown


def test_inject_reply_goes_through_the_inbound_pipeline(demo_services, demo_actor, open_page, text_of, table):
    entry_id = send_one(demo_services, demo_actor)
    at = open_page(OUTBOX)
    at.text_area(key="outbox_reply_text").input("Please remove me from your list.")
    at.button(key="outbox_inject_reply").click().run()
    assert not at.exception
    assert "recorded as reply, intent unsubscribe request" in text_of(at)
    with demo_services.uow() as uow:
        kinds = list(uow.session.scalars(select(InboundMessage.kind).where(InboundMessage.ledger_entry_id == entry_id)))
        reasons = set(uow.session.scalars(select(Suppression.reason)))
    assert [k.value for k in kinds] == ["reply"] and SuppressionReason.unsubscribed in reasons
    assert "Unsubscribe request" in set(table(at, "intent")["intent"])


def test_inject_bounce_suppresses_the_recipient(demo_services, demo_actor, open_page, text_of):
    send_one(demo_services, demo_actor)
    at = open_page(OUTBOX)
    at.button(key="outbox_inject_bounce").click().run()
    assert "recorded as bounce" in text_of(at) and "(bounced)" in text_of(at)


def test_sending_page_lists_the_ledger_by_status_and_reviews_an_unknown(demo_services, demo_actor, open_page,
                                                                         text_of, table):
    entry_id = send_one(demo_services, demo_actor)
    with demo_services.uow() as uow:
        entry = uow.session.get(SendLedgerEntry, entry_id)
        assert entry is not None
        entry.status = SendStatus.unknown
        uow.commit()
    at = open_page(SENDING)
    assert not at.exception
    assert list(table(at, "provider id")["status"]) == ["Unknown"]
    at.button(key="sending_unknown_delivered").click().run()
    assert f"Send #{entry_id} is now sent." in text_of(at)
    at.selectbox(key="sending_status").select("sent").run()
    assert list(table(at, "provider id")["id"]) == [entry_id]


def test_preview_page_shows_compliance_and_sends_a_test_to_oneself(demo_services, demo_actor, open_page, text_of):
    send_one(demo_services, demo_actor)  # also connects the outbox mailbox the test send goes through
    contact = list_contacts(demo_services.uow(), actor=demo_actor, limit=1).items[0]
    at = open_page("pages/Preview.py")
    at.text_input(key="preview_contact_search").input(contact.email).run()
    at.selectbox(key="preview_contact").select(contact.id).run()
    assert not at.exception
    assert "Compliance: postal address, unsubscribe link, honest subject — all present." in text_of(at)
    assert len(at.get("html")) == 2  # desktop and phone previews
    at.button(key="preview_test_send_button").click().run()
    assert f"Test sent to {demo_actor.email}." in text_of(at)


def test_email_performance_page_shows_totals_charts_and_csv(demo_services, demo_actor, open_page, table):
    send_one(demo_services, demo_actor)
    at = open_page("pages/Email_Performance.py")
    assert not at.exception
    assert [m.value for m in at.metric][:2] == ["1", "1"]
    assert len(at.get("plotly_chart")) == 2
    assert int(table(at, "open_rate")["sent"].sum()) == 1
