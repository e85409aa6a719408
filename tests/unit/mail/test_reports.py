"""DSN (RFC 3464) and ARF (RFC 5965) parsing, and the non-standard bounces flufl.bounce recognises."""

from __future__ import annotations

from core.mail.inbound import read_message
from core.mail.reports import parse_bounce, parse_complaint
from core.mail.simulated import SentFacts, bounce_for, complaint_for, reply_to

SENT = SentFacts(message_id="<abc.123@acme-sales.example>", to_email="ana@northwind.example",
                 from_email="riley@acme-sales.example", subject="Freight", body="Hi Ana")


def test_dsn_gives_recipient_status_and_original_message_id() -> None:
    report = parse_bounce(read_message(bounce_for(SENT, status="5.1.1")))
    assert report is not None and report.permanent
    assert (report.recipients, report.status, report.original_message_id) == (
        ("ana@northwind.example",), "5.1.1", "<abc.123@acme-sales.example>")


def test_4xx_dsn_is_a_soft_bounce() -> None:
    report = parse_bounce(read_message(bounce_for(SENT, status="4.2.2")))
    assert report is not None and not report.permanent and report.action == "failed"


def test_non_standard_qmail_bounce_is_found_by_flufl_bounce() -> None:
    raw = (b"From: MAILER-DAEMON@mx.northwind.example\r\nTo: riley@acme-sales.example\r\n"
           b"Subject: failure notice\r\nMessage-ID: <q1@mx.northwind.example>\r\n\r\n"
           b"Hi. This is the qmail-send program at mx.northwind.example.\r\n"
           b"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
           b"This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
           b"<ana@northwind.example>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n\r\n"
           b"--- Below this line is a copy of the message.\r\n\r\nSubject: Freight\r\n")
    report = parse_bounce(read_message(raw))
    assert report is not None and report.permanent and report.recipients == ("ana@northwind.example",)


def test_arf_report_gives_feedback_type_and_recipient() -> None:
    report = parse_complaint(read_message(complaint_for(SENT)))
    assert report is not None
    assert (report.feedback_type, report.recipients, report.original_message_id) == (
        "abuse", ("ana@northwind.example",), "<abc.123@acme-sales.example>")


def test_a_reply_is_neither_a_bounce_nor_a_complaint() -> None:
    message = read_message(reply_to(SENT, "Thanks"))
    assert parse_bounce(message) is None and parse_complaint(message) is None
