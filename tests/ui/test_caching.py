"""Cached reads hash the actor by a digest of every field: equal actors share an entry, different ones never do."""

from __future__ import annotations

from dataclasses import replace

from core.auth.actor import Actor
from ui.caching import actor_cache_key

REP = Actor(user_id=7, email="rep@example.com", name="Riley", roles=frozenset({"sales_rep"}),
            permissions=frozenset({("contacts", "read"), ("queue", "read")}), via="dashboard")


def test_equal_actors_share_a_key() -> None:
    assert actor_cache_key(REP) == actor_cache_key(replace(REP, permissions=frozenset(REP.permissions or ())))


def test_any_difference_gives_another_key() -> None:
    others = [replace(REP, user_id=8), replace(REP, email="other@example.com"), replace(REP, roles=frozenset({"admin"})),
              replace(REP, permissions=frozenset({("contacts", "read")})), replace(REP, permissions=None)]
    keys = {actor_cache_key(a) for a in others}
    assert len(keys) == len(others) and actor_cache_key(REP) not in keys
