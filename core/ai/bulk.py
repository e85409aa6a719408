"""Bulk proposals: emails for many contacts at once, with at most ``concurrency`` model calls in flight.

The database is touched only in a few short transactions, never by the workers: one read of the contacts
and their suppressions, one read of today's token use, and one research read (and cache write) per chunk
of contacts, done by the calling thread while the pool's model calls are in flight. The workers draft
(prompt, model call, checks, scores) without touching the database; the calling thread records the usage
rows in one transaction per chunk of finished contacts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.ai import usage as usage_service
from core.ai.agents import ProposalSet, ProspectingAgent
from core.ai.research import AccountAnalysis, AccountAnalyzer
from core.ai.schemas import Purpose, Usage
from core.auth.actor import Actor
from core.auth.permissions import CREATE, READ, require
from core.crm.models import Contact, Suppression
from core.crm.schemas import ContactView
from core.errors import SalesAgentError
from core.services import Services
from core.voice.schemas import VoiceProfileView

MIN_RESEARCH_CHUNK = 10


class BulkFailure(BaseModel):
    contact_id: int
    contact_email: str | None
    reason: str


class BulkProposals(BaseModel):
    proposals: list[ProposalSet]  # in the order the contacts were given
    failures: list[BulkFailure]
    concurrency: int
    model_label: str
    offline: bool


def _load_contacts(services: Services, actor: Actor, contact_ids: Sequence[int]) -> list[ContactView]:
    require(actor, "contacts", READ)
    with services.uow() as uow:
        rows = uow.session.scalars(select(Contact).options(selectinload(Contact.company))
                                   .where(Contact.id.in_(list(contact_ids)))).all()
        suppressed: dict[str, list[str]] = {}
        for email, reason in uow.session.execute(select(Suppression.email, Suppression.reason)
                                                 .where(Suppression.email.in_([c.email for c in rows]))):
            suppressed.setdefault(email, []).append(reason)
        return [ContactView.model_validate(c).model_copy(update={"suppressed": suppressed.get(c.email, [])})
                for c in rows]


def propose_for_contacts(
    services: Services, *, actor: Actor, contact_ids: Sequence[int], variants: int = 3,
    voice_profile: VoiceProfileView | None = None, concurrency: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BulkProposals:
    """Proposals for every contact; a contact that fails (suppressed, budget, endpoint) is listed, not fatal."""
    require(actor, "ai", CREATE)
    found = {c.id: c for c in _load_contacts(services, actor, contact_ids)}
    failures = [BulkFailure(contact_id=i, contact_email=None, reason="contact not found")
                for i in dict.fromkeys(contact_ids) if i not in found]
    contacts: list[ContactView] = []
    for contact_id in dict.fromkeys(contact_ids):
        contact = found.get(contact_id)
        if contact is not None and contact.suppressed:
            failures.append(BulkFailure(contact_id=contact.id, contact_email=contact.email,
                                        reason="suppressed: " + ", ".join(str(r) for r in contact.suppressed)))
        elif contact is not None:
            contacts.append(contact)
    analyzer = AccountAnalyzer(services, actor)
    allowance = usage_service.TokenAllowance.for_today(
        services.uow(), actor=actor, budget=services.settings.ai_daily_token_budget, now=services.clock())
    agent = ProspectingAgent(services, actor, analyzer=analyzer)
    workers = max(1, min(concurrency or services.settings.ai_concurrency, len(contacts) or 1))
    analyses: dict[str, AccountAnalysis] = {}
    results: dict[int, ProposalSet] = {}
    unrecorded: list[Usage] = []

    def researched() -> Iterator[tuple[ContactView, AccountAnalysis | None]]:
        """Research one chunk at a time (one read, one cache write), so it overlaps the model calls in flight."""
        size = max(workers, MIN_RESEARCH_CHUNK)
        for start in range(0, len(contacts), size):
            chunk = contacts[start:start + size]
            analyses.update(analyzer.analyze_companies(
                {c.company.domain for c in chunk if c.company is not None} - analyses.keys()))
            for contact in chunk:
                yield contact, analyses.get(contact.company.domain) if contact.company is not None else None

    def draft(contact: ContactView, analysis: AccountAnalysis | None) -> ProposalSet:
        return agent.draft(contact, voice_profile, analysis, reserve=allowance.reserve, variants=variants)

    def flush() -> None:
        usage_service.record_usages(services.uow(), actor=actor, purpose=Purpose.drafting, usages=unrecorded,
                                    now=services.clock())
        unrecorded.clear()

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="proposals") as pool:
        outcomes = _inline(draft, researched()) if workers == 1 else _pooled(pool, draft, researched())
        for done, (contact, future) in enumerate(outcomes, 1):
            try:
                result = future.result()
            except SalesAgentError as exc:
                failures.append(BulkFailure(contact_id=contact.id, contact_email=contact.email, reason=exc.message))
            else:
                results[contact.id] = result
                unrecorded.append(result.usage)
                if len(unrecorded) >= workers:
                    flush()
            if progress is not None:
                progress(done, len(contacts))
    flush()
    return BulkProposals(proposals=[results[c.id] for c in contacts if c.id in results], failures=failures,
                         concurrency=workers, model_label=services.llm.label, offline=services.llm.offline)


Draft = Callable[[ContactView, AccountAnalysis | None], ProposalSet]
Outcomes = Iterator[tuple[ContactView, "Future[ProposalSet]"]]


def _pooled(pool: ThreadPoolExecutor, draft: Draft,
            work: Iterator[tuple[ContactView, AccountAnalysis | None]]) -> Outcomes:
    futures = {pool.submit(draft, contact, analysis): contact for contact, analysis in work}
    for future in as_completed(futures):
        yield futures[future], future


def _inline(draft: Draft, work: Iterator[tuple[ContactView, AccountAnalysis | None]]) -> Outcomes:
    """Concurrency 1 runs in the calling thread: no thread to hand over to, and profilers see the work."""
    for contact, analysis in work:
        future: Future[ProposalSet] = Future()
        try:
            future.set_result(draft(contact, analysis))
        except Exception as exc:  # delivered through the future exactly as the pool would
            future.set_exception(exc)
        yield contact, future
