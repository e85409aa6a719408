"""Signing an AppTest session in without the form, for page tests (the session is server-side state)."""

from __future__ import annotations

from datetime import UTC, datetime

from streamlit.testing.v1 import AppTest

from ui.auth import SESSION_KEY


def sign_in(at: AppTest, user_id: int, issued_at: datetime | None = None) -> AppTest:
    at.session_state[SESSION_KEY] = {"user_id": user_id, "issued_at": (issued_at or datetime.now(UTC)).isoformat()}
    return at
