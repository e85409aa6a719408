"""Sending and tracking: mailboxes, the send ledger, tracking events, inbound replies, bounces, unsubscribes."""
