"""How st.cache_data hashes an actor: pass ``hash_funcs=HASH_FUNCS`` to every cached read that takes one.

Streamlit hashes every argument on every call; walking an Actor's hundred-odd (resource, action)
permission pairs cost most of a cached rerun. The digest covers every field, so two actors share a cache
entry only when they are equal; it is computed once per actor value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from core.auth.actor import Actor


@lru_cache(maxsize=4096)
def actor_cache_key(actor: Actor) -> str:
    """Every field of the actor, as a digest (lru_cache matches actors by equality, never by hash alone)."""
    fields = (actor.user_id, actor.email, actor.name, sorted(actor.roles),
              None if actor.permissions is None else sorted(actor.permissions), actor.via)
    return hashlib.sha256(repr(fields).encode()).hexdigest()


HASH_FUNCS: dict[str | type[Any], Callable[[Any], Any]] = {Actor: actor_cache_key}

