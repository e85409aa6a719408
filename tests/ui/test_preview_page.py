"""Preview page: links lead to their real destinations (in a new tab), no pixel, and an honest tracking note."""

from __future__ import annotations

from sqlalchemy import func, select

from core.crm.service import list_contacts
from core.mail.models import MessageEvent, TrackedLink
from tests.ui.test_outbox_and_sending import send_one


def test_preview_links_are_the_destinations_and_nothing_is_tracked(demo_services, demo_actor, open_page, text_of):
    send_one(demo_services, demo_actor)  # connects the outbox mailbox the preview is built for
    with demo_services.uow() as uow:
        before = (uow.session.scalar(select(func.count()).select_from(MessageEvent)),
                  uow.session.scalar(select(func.count()).select_from(TrackedLink)))
    contact = list_contacts(demo_services.uow(), actor=demo_actor, limit=1).items[0]
    at = open_page("pages/Preview.py")
    at.text_input(key="preview_contact_search").input(contact.email).run()
    at.selectbox(key="preview_contact").select(contact.id).run()
    at.text_area(key="preview_body").input("Hi,\n\nOur numbers: https://acme-sales.example/case?x=1\n\nDana").run()
    assert not at.exception

    base = demo_services.settings.public_base_url
    for shown in (h.proto.body for h in at.get("html")):
        assert 'href="https://acme-sales.example/case?x=1"' in shown and 'target="_blank"' in shown
        assert f"{base}/c/" not in shown and f"{base}/o/" not in shown and "<img" not in shown
    assert ("When sent, links will go through the click tracker and an open pixel will be added. In this "
            "preview links lead straight to their destinations and nothing is recorded.") in text_of(at)
    with demo_services.uow() as uow:
        after = (uow.session.scalar(select(func.count()).select_from(MessageEvent)),
                 uow.session.scalar(select(func.count()).select_from(TrackedLink)))
    assert after == before
