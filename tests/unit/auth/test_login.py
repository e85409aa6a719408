"""Password sign-in: brute-force limit per email and per address, generic errors, server-side sign-out."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.auth.actor import SYSTEM
from core.auth.errors import SIGN_IN_FAILED, AuthenticationFailed, SignInLocked
from core.auth.login import actor_for_session, authenticate_password, sign_out_everywhere
from core.auth.models import Role
from core.auth.schemas import LoginLimits, UserInput
from core.auth.service import create_user, suspend_user
from core.services import Services

LIMITS = LoginLimits(max_attempts=5, window_minutes=15, lock_minutes=15)
PASSWORD = "s3cret-enough"


@pytest.fixture
def seller(services: Services) -> int:
    data = UserInput(email="sam@example.com", name="Sam", roles=[Role.sales_rep], password=PASSWORD)
    return create_user(services.uow(), actor=SYSTEM, data=data).id


def sign_in(services: Services, password: str, *, email: str = "sam@example.com", address: str = "10.0.0.1",
            minutes: float = 0):
    return authenticate_password(services.uow(), email=email, password=password, address=address,
                                 now=services.clock() + timedelta(minutes=minutes), limits=LIMITS)


def test_correct_password_signs_in_with_the_users_permissions(services: Services, seller: int) -> None:
    actor = sign_in(services, PASSWORD)
    assert actor.user_id == seller and ("contacts", "update") in (actor.permissions or set())


def test_wrong_password_and_unknown_email_give_the_same_message(services: Services, seller: int) -> None:
    with pytest.raises(AuthenticationFailed) as wrong:
        sign_in(services, "wrong-password")
    with pytest.raises(AuthenticationFailed) as unknown:
        sign_in(services, "wrong-password", email="nobody@example.com")
    assert wrong.value.message == unknown.value.message == SIGN_IN_FAILED


def test_five_failures_lock_the_email_even_for_the_right_password(services: Services, seller: int) -> None:
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            sign_in(services, "wrong-password", address="10.0.0.9")
    with pytest.raises(SignInLocked):
        sign_in(services, PASSWORD, address="10.0.0.77")


def test_the_lock_ends_by_itself(services: Services, seller: int) -> None:
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            sign_in(services, "wrong-password")
    with pytest.raises(SignInLocked):
        sign_in(services, PASSWORD, minutes=14)
    assert sign_in(services, PASSWORD, minutes=16).user_id == seller


def test_failures_from_one_address_lock_that_address_for_every_email(services: Services, seller: int) -> None:
    for i in range(5):
        with pytest.raises(AuthenticationFailed):
            sign_in(services, "guess", email=f"user{i}@example.com", address="203.0.113.5")
    with pytest.raises(SignInLocked):
        sign_in(services, PASSWORD, address="203.0.113.5")
    assert sign_in(services, PASSWORD, address="198.51.100.1").user_id == seller


def test_unknown_emails_lock_like_known_ones(services: Services, seller: int) -> None:
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            sign_in(services, "guess", email="ghost@example.com", address=f"10.1.0.{_}")
    with pytest.raises(SignInLocked):
        sign_in(services, "guess", email="ghost@example.com", address="10.9.9.9")


def test_suspended_user_cannot_sign_in_and_loses_sessions(services: Services, seller: int) -> None:
    sign_in(services, PASSWORD)
    assert actor_for_session(services.uow(), user_id=seller, issued_at=services.clock()) is not None
    suspend_user(services.uow(), actor=SYSTEM, user_id=seller, now=services.clock() + timedelta(seconds=1))
    assert actor_for_session(services.uow(), user_id=seller, issued_at=services.clock()) is None
    with pytest.raises(AuthenticationFailed):
        sign_in(services, PASSWORD, minutes=1)


def test_sign_out_everywhere_ends_sessions_issued_before_it(services: Services, seller: int) -> None:
    issued = services.clock()
    sign_out_everywhere(services.uow(), user_id=seller, now=issued + timedelta(seconds=1))
    assert actor_for_session(services.uow(), user_id=seller, issued_at=issued) is None
    assert actor_for_session(services.uow(), user_id=seller, issued_at=issued + timedelta(seconds=2)) is not None
