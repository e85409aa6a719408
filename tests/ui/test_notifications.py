"""Notifications page: an interested reply injected on the Outbox page (the real inbound pipeline) shows up for
the contact's owner, with the reply text sanitised; mark read / mark all read change the counts; Home shows them."""

from __future__ import annotations

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core.auth.actor import Actor
from core.auth.models import User
from core.content.drafts import create_draft
from core.content.schemas import DraftInput
from core.mail import pipeline
from core.mail.approval import approve_and_queue
from core.mail.mailboxes import create_mailbox
from core.mail.models import Mailbox, Notification
from core.mail.schemas import MailboxInput
from core.mail.simulated import inject_outbox_response
from core.services import Services
from tests import factories
from tests.ui.conftest import page_text

NOTIFICATIONS, OUTBOX = "pages/Notifications.py", "pages/Outbox.py"
POSTAL = "Acme Sales Ltd, 12 Harbour Street, Bristol BS1 4RN, United Kingdom"
INTERESTED = "Sounds great, let's talk Thursday at 3pm."


def send_to_own_contact(services: Services, actor: Actor, first_name: str = "Ana") -> int:
    """A message through the outbox to a new contact the signed-in user owns; returns its ledger entry id."""
    with services.uow() as uow:
        has_mailbox = uow.session.scalar(select(Mailbox.id).limit(1)) is not None
    if not has_mailbox:
        create_mailbox(services.uow(), actor=actor, settings=services.settings, data=MailboxInput(
            email="dana@acme-sales.example", kind="outbox", from_name="Dana Demo", postal_address=POSTAL))
    contact = factories.contact(services, actor, first_name=first_name, last_name="Lopez")
    draft = create_draft(services.uow(), actor=actor, data=DraftInput(
        contact_id=contact.id, subject="Freight idea", body="Hi Ana,\n\nWorth a chat?\n\nDana"))
    entry = approve_and_queue(services.uow(), actor=actor, draft_id=draft.id)
    assert pipeline.deliver(services, entry.id, owner="test").outcome == "sent"
    return entry.id


def open_home(open_page) -> AppTest:  # type: ignore[no-untyped-def]
    at = open_page("Home.py")
    at.run()  # the menu is built before the page signs in; the next rerun knows the actor
    return at


def unread_metric(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == "Unread")


def test_interested_reply_from_the_outbox_shows_up_and_mark_read_changes_the_count(
        demo_services, demo_actor, open_page):
    send_to_own_contact(demo_services, demo_actor)
    at = open_home(open_page)
    at.switch_page(OUTBOX).run()
    at.text_area(key="outbox_reply_text").input(INTERESTED)
    at.button(key="outbox_inject_reply").click().run()
    assert "recorded as reply, intent interested" in page_text(at)

    assert "You have 1 unread notification." in page_text(open_page("Home.py"))
    at.switch_page(NOTIFICATIONS).run()
    assert not at.exception
    assert at.title[0].value == "Notifications" and unread_metric(at) == "1"
    assert "Ana Lopez is interested" in page_text(at) and "New" in page_text(at)
    (reply,) = at.get("html")
    assert f"<p>{INTERESTED}</p>" in reply.proto.body  # the reply's text, through nh3 in framed()

    (mark,) = [b for b in at.button if b.key and b.key.startswith("notification_read_")]
    mark.click().run()
    assert unread_metric(at) == "0"
    assert "Marked “Ana Lopez is interested” read." in page_text(at)
    assert not [b for b in at.button if b.key and b.key.startswith("notification_read_")]
    assert at.button(key="notifications_mark_all").disabled
    assert "unread notification" not in page_text(open_page("Home.py"))


def test_mark_all_read_and_the_unread_only_filter(demo_services, demo_actor, open_page):
    for name in ("Ana", "Ben"):
        entry_id = send_to_own_contact(demo_services, demo_actor, first_name=name)
        inject_outbox_response(demo_services, actor=demo_actor, ledger_entry_id=entry_id, kind="reply",
                               text=INTERESTED)
    at = open_home(open_page)
    at.switch_page(NOTIFICATIONS).run()
    assert unread_metric(at) == "2"
    at.button(key="notifications_mark_all").click().run()
    assert unread_metric(at) == "0" and "Marked 2 notifications read." in page_text(at)
    assert "Ben Lopez is interested" in page_text(at)  # read ones stay listed
    at.toggle(key="notifications_unread_only").set_value(True).run()
    assert "Nothing unread." in page_text(at)


def test_open_contact_goes_to_the_contact_and_reads_the_notification(demo_services, demo_actor, open_page):
    entry_id = send_to_own_contact(demo_services, demo_actor)
    view = inject_outbox_response(demo_services, actor=demo_actor, ledger_entry_id=entry_id, kind="reply",
                                  text=INTERESTED)
    at = open_home(open_page)
    at.switch_page(NOTIFICATIONS).run()
    (button,) = [b for b in at.button if b.key and b.key.startswith("notification_contact_")]
    button.click().run()
    assert not at.exception
    assert at.title[0].value == "Contacts" and view.from_email in page_text(at)
    with demo_services.uow() as uow:
        assert uow.session.scalars(select(Notification.read_at)).one() is not None


def test_reply_text_is_sanitised_and_other_users_notifications_stay_hidden(demo_services, demo_actor, open_page):
    entry_id = send_to_own_contact(demo_services, demo_actor)
    inject_outbox_response(demo_services, actor=demo_actor, ledger_entry_id=entry_id, kind="reply",
                           text=f'{INTERESTED} <script>alert("x")</script><img src=x onerror=alert(1)> '
                                f"[click](javascript:alert(2))")
    with demo_services.uow() as uow:
        other = uow.session.scalars(select(User.id).where(User.id != demo_actor.user_id)).first()
        uow.session.add(Notification(user_id=other, kind="interested_reply", title="Somebody else's lead"))
        uow.commit()
    at = open_home(open_page)
    at.switch_page(NOTIFICATIONS).run()
    assert not at.exception and unread_metric(at) == "1"
    assert "Somebody else's lead" not in page_text(at)
    (reply,) = at.get("html")
    body = reply.proto.body
    assert "<script" not in body and "<img" not in body
    assert "&lt;script&gt;" in body and "&lt;img src=x onerror" in body  # the text the contact typed, inert
    assert 'href="javascript' not in body
