"""Cached reads for the queue pages: aggregates and single pages of rows, never the whole queue table.

Same shape as ui.data: ``_services`` is not hashed, the actor is (two users never share an entry), and
every write made through ``attempt`` clears these caches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import nh3
import pandas as pd
import streamlit as st

from core.ai.instructions import OFFLINE_NOTICE
from core.auth.actor import Actor
from core.content import drafts as drafts_service
from core.content.models import DraftStatus
from core.content.schemas import DraftView
from core.exporting import dataframe_to_csv_bytes
from core.queue import batches, service
from core.queue.metrics import queue_metrics
from core.queue.models import QueuePriority, QueueStatus
from core.queue.schemas import ContactFilter, EntryDetail, EntryPage, EntryView, JobView, QueueMetrics, QueueQuery
from core.services import Services
from ui import data, widgets
from ui.caching import HASH_FUNCS

TTL = 45
PER_PAGE = 50
F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
_CACHED: list[Any] = []


def _cached(func: F) -> F:
    cached = st.cache_data(ttl=TTL, show_spinner=False, hash_funcs=HASH_FUNCS)(func)
    _CACHED.append(cached)
    return cached  # type: ignore[return-value]


def invalidate() -> None:
    for cached in _CACHED:
        cached.clear()
    data.invalidate("drafts")


def attempt(flash_key: str, action: Callable[[], T], *, success: str | Callable[[T], str]) -> T | None:
    """widgets.attempt, then clear the queue's cached reads (a write changes counts and pages)."""
    result = widgets.attempt(flash_key, action, success=success, areas=["drafts"])
    invalidate()
    return result


@_cached
def status_counts(_services: Services, actor: Actor, owner_id: int | None) -> dict[str, int]:
    return service.status_counts(_services.uow(), actor=actor, owner_id=owner_id)


@_cached
def entries_page(_services: Services, actor: Actor, query: QueueQuery) -> EntryPage:
    return service.list_queue(_services.uow(), actor=actor, query=query)


@_cached
def entries_csv(_services: Services, actor: Actor, query: QueueQuery) -> bytes:
    """The CSV of one page of rows (the cached page, formatted once rather than on every rerun)."""
    page = entries_page(_services, actor, query)
    return dataframe_to_csv_bytes(entries_frame(page.items, data.user_names(_services, actor)))


@_cached
def entry_detail(_services: Services, actor: Actor, entry_id: int) -> EntryDetail:
    return service.get_entry(_services.uow(), actor=actor, entry_id=entry_id)


@_cached
def metrics(_services: Services, actor: Actor, owner_id: int | None) -> QueueMetrics:
    return queue_metrics(_services.uow(), actor=actor, owner_id=owner_id)


@_cached
def saved_filters(_services: Services, actor: Actor) -> dict[int, str]:
    return {f.id: f.name for f in service.list_saved_filters(_services.uow(), actor=actor)}


@_cached
def matching_contacts(_services: Services, actor: Actor, filters: ContactFilter) -> dict[int, str]:
    return service.matching_contacts(_services.uow(), actor=actor, filters=filters)


def latest_job(services: Services, actor: Actor) -> JobView | None:
    """Not cached: the page polls it while a batch runs."""
    jobs = batches.recent_jobs(services.uow(), actor=actor, limit=1)
    return jobs[0] if jobs else None


# Formatting -------------------------------------------------------------------------------------------

def entries_frame(items: Sequence[EntryView], users: dict[int, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"id": e.id, "contact": e.contact_name, "email": e.contact_email, "company": e.company or "",
          "status": widgets.label(e.status), "priority": QueuePriority(e.priority).name,
          "owner": users.get(e.owner_id, "") if e.owner_id else "", "proposals": e.proposals,
          "since": widgets.fmt_dt(e.status_changed_at), "reason": e.failure_reason or ""} for e in items],
        columns=["id", "contact", "email", "company", "status", "priority", "owner", "proposals", "since", "reason"])


def status_label(status: QueueStatus | str) -> str:
    return widgets.label(status)


def safe_markdown(text: str) -> str:
    """Model output and research text as markdown that cannot carry HTML: cleaned by nh3 to text only,
    then the characters markdown would treat as markup are escaped."""
    cleaned = nh3.clean(text, tags=set(), attributes={}, strip_comments=True)
    for ch in ("\\", "`", "*", "_", "[", "]", "<", ">", "#", "|", "$", "~"):
        cleaned = cleaned.replace(ch, "\\" + ch)
    return cleaned.replace("\n", "  \n")


@_cached
def approved_drafts(_services: Services, actor: Actor, limit: int = 20) -> list[DraftView]:
    """The latest approved drafts (what the rep approved waits here until a mailbox sends it)."""
    return drafts_service.list_drafts(_services.uow(), actor=actor, status=DraftStatus.approved, limit=limit)


def instruction_notice(services: Services) -> str | None:
    """While no model is configured: which regeneration instructions the offline composer follows."""
    return OFFLINE_NOTICE if services.llm.offline else None


def page_link(page: str, label: str, icon: str) -> None:
    """st.page_link, or a hint while the page is not yet in Home.py's navigation (page links need it)."""
    from streamlit.errors import StreamlitAPIException

    try:
        st.page_link(page, label=label, icon=icon)
    except StreamlitAPIException:
        st.caption(f"{label} (in the menu under Rep workspace)")
