"""Research and proposals for queue entries: claim in one short transaction, call the model outside any
transaction, record the outcome (or the failure reason) in a second one.

Each function handles one entry, so jobs (jobs/queue.py) can run many in a bounded thread pool.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from core.ai import usage as usage_service
from core.ai.agents import Proposal, ProposalSet, ProspectingAgent
from core.ai.instructions import ReadInstruction, adjust_voice, length_warnings, read_instruction
from core.ai.language import DetectedLanguage, contact_language
from core.ai.proposals import pick_voice_profile
from core.ai.research import AccountAnalysis, AccountAnalyzer
from core.ai.schemas import DraftBatch, DraftRequest, PreviousEmail, Purpose
from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.permissions import CREATE, UPDATE, require, require_owner
from core.crm import service as contacts
from core.crm.schemas import ContactView
from core.errors import InvalidTransition, SalesAgentError, ValidationFailed
from core.queue.models import QUEUE_TRANSITIONS, ProposalStatus, QueueProposal, QueueStatus
from core.queue.schemas import EntryView, ProposalView
from core.queue.service import RESOURCE, entry_view, load_entry, move
from core.services import Services
from core.voice.schemas import VoiceProfileView

RESEARCHABLE = frozenset({QueueStatus.pending, QueueStatus.failed, QueueStatus.ready, QueueStatus.draft_created})
_SHORTER = re.compile(r"\b(short|shorter|brief|briefer|concise|cut|trim)\b", re.IGNORECASE)


class Unchanged(SalesAgentError):
    """The entry needed no work (already researched or proposed); not a failure."""

    code = "unchanged"


def _fail(services: Services, actor: Actor, entry_id: int, reason: str) -> None:
    with services.uow() as uow:
        entry = load_entry(uow.session, entry_id)
        if QueueStatus.failed in QUEUE_TRANSITIONS[entry.status]:
            move(uow.session, entry, QueueStatus.failed, now=services.clock(), reason=reason[:1000])
            audit.record(uow.session, actor, "update", "queue_entry", entry_id, {"status": "failed", "reason": reason})
            uow.commit()


# Research ---------------------------------------------------------------------------------------------

def research_entry(services: Services, *, actor: Actor, entry_id: int, force: bool = False) -> EntryView:
    """Research the entry's account (cited facts) and move it to ready; a failure keeps its reason."""
    require(actor, RESOURCE, UPDATE)
    with services.uow() as uow:
        entry = load_entry(uow.session, entry_id)
        require_owner(actor, "queue entries", entry.owner_id)
        if entry.research is not None and entry.status is not QueueStatus.failed and not force:
            raise Unchanged("already researched")
        if entry.status not in RESEARCHABLE:
            raise InvalidTransition(f"an entry that is {entry.status.value} is not researched again")
        move(uow.session, entry, QueueStatus.researching, now=services.clock())
        contact = ContactView.model_validate(entry.contact)
        uow.commit()
    try:
        research = _research(services, actor, contact)
    except SalesAgentError as exc:
        _fail(services, actor, entry_id, f"research failed: {exc.message}")
        raise
    with services.uow() as uow:
        entry = load_entry(uow.session, entry_id)
        move(uow.session, entry, QueueStatus.ready, now=services.clock())
        entry.research = research
        audit.record(uow.session, actor, "update", "queue_entry", entry_id, {"status": "ready", "researched": True})
        uow.session.flush()
        view = entry_view(entry)
        uow.commit()
    return view


def _research(services: Services, actor: Actor, contact: ContactView) -> dict[str, Any]:
    own = [{"label": "title", "value": contact.title, "source": "contacts.title"}] if contact.title else []
    if contact.industry:
        own.append({"label": "industry", "value": contact.industry, "source": "contacts.industry"})
    own += [{"label": "technology", "value": t, "source": "contacts.technologies"} for t in contact.technologies]
    if contact.company is None:
        return {"company_name": None, "insights": [], "facts": own, "contact_facts": own,
                "note": "No company on record: only the contact's own fields were used."}
    analysis = AccountAnalyzer(services, actor).analyze_company(contact.company.domain)
    return {**analysis.model_dump(mode="json", exclude={"cached"}), "contact_facts": own}


# Proposals --------------------------------------------------------------------------------------------

class _Inputs:
    """What drafting for one entry needs, gathered in short transactions before the model call."""

    def __init__(self, services: Services, actor: Actor, contact_id: int, research: dict[str, Any] | None) -> None:
        self.contact = contacts.get_contact(services.uow(), actor=actor, contact_id=contact_id)
        if self.contact.suppressed:
            raise ValidationFailed("suppressed: " + ", ".join(s.value for s in self.contact.suppressed))
        language = contact_language(language=self.contact.language, country=self.contact.country).code
        self.profile = pick_voice_profile(services, actor, name=None, language=language)
        research = research or {}
        self.analysis = AccountAnalysis.model_validate(research) if research.get("domain") else None


def _reserve(services: Services, actor: Actor) -> Any:
    def reserve(needed: int) -> None:
        usage_service.check_budget(services.uow(), actor=actor, needed=needed,
                                   budget=services.settings.ai_daily_token_budget, now=services.clock())
    return reserve


def _warnings(p: Proposal) -> list[str]:
    found = [v.message for v in p.violations]
    return found + ([p.personalization.warning] if p.personalization.warning else [])


def _fill(row: QueueProposal, p: Proposal, result: ProposalSet) -> None:
    row.subject = row.original_subject = p.subject
    row.body = row.original_body = p.body
    row.edited = False
    row.reasoning, row.personalization_notes = p.reasoning, list(p.personalization_notes)
    row.citations = [c.model_dump() for c in p.citations]
    row.score, row.content_warnings = p.personalization.score, _warnings(p)
    row.model_label, row.offline = result.model_label, result.offline


def propose_for_entry(services: Services, *, actor: Actor, entry_id: int, variants: int = 3,
                      regenerate: bool = False) -> list[ProposalView]:
    """Two or three proposals for a researched entry; a second call adds none unless ``regenerate``."""
    require(actor, RESOURCE, UPDATE)
    require(actor, "ai", CREATE)
    with services.uow() as uow:
        entry = load_entry(uow.session, entry_id)
        require_owner(actor, "queue entries", entry.owner_id)
        if entry.proposals and not regenerate:
            raise Unchanged("already has proposals")
        if entry.status not in (QueueStatus.ready, QueueStatus.draft_created):
            raise InvalidTransition(f"only researched entries get proposals; this one is {entry.status.value}")
        contact_id, research = entry.contact_id, entry.research
    try:
        inputs = _Inputs(services, actor, contact_id, research)
        agent = ProspectingAgent(services, actor)
        result = agent.draft(inputs.contact, inputs.profile, inputs.analysis, reserve=_reserve(services, actor),
                             variants=variants)
        usage_service.record_usage(services.uow(), actor=actor, purpose=Purpose.drafting, usage=result.usage,
                                   now=services.clock())
    except SalesAgentError as exc:
        _fail(services, actor, entry_id, f"proposals failed: {exc.message}")
        raise
    return _store_proposals(services, actor, entry_id, result, regenerate)


def _store_proposals(services: Services, actor: Actor, entry_id: int, result: ProposalSet,
                     regenerate: bool) -> list[ProposalView]:
    with services.uow() as uow:
        session = uow.session
        entry = load_entry(session, entry_id)
        if entry.proposals and not regenerate:  # another run got there first: keep theirs
            return [ProposalView.model_validate(p) for p in entry.proposals]
        if entry.status not in (QueueStatus.ready, QueueStatus.draft_created):
            raise InvalidTransition(f"the entry became {entry.status.value} while proposals were drafted")
        for old in list(entry.proposals):
            entry.proposals.remove(old)
        session.flush()
        for i, p in enumerate(result.proposals, 1):
            row = QueueProposal(entry_id=entry_id, variant=i, status=ProposalStatus.proposed)
            _fill(row, p, result)
            entry.proposals.append(row)
        if entry.status is QueueStatus.ready:
            move(session, entry, QueueStatus.draft_created, now=services.clock())
        audit.record(session, actor, "create", "queue_proposals", entry_id,
                     {"variants": len(result.proposals), "regenerate": regenerate, "model": result.model_label})
        session.flush()
        views = [ProposalView.model_validate(p) for p in entry.proposals]
        uow.commit()
    return views


class _InstructedAgent(ProspectingAgent):
    """Drafts with the rep's instruction passed to the model as a correction; length instructions also
    tighten the word limit, which every model (the offline composer included) honours.

    The offline composer reads no feedback: for it the instruction is read into what it can do
    (core.ai.instructions: shorter, longer, more formal or casual, a question, mention a research fact), and
    ``not_followed`` lists what it could not do, for the proposal's content warnings."""

    def __init__(self, services: Services, actor: Actor, *, instruction: str, words_before: int) -> None:
        super().__init__(services, actor)
        self._instruction = instruction
        self._words_before = words_before
        self._max_words = self._shorter_limit() if _SHORTER.search(instruction) else None
        self._read: ReadInstruction | None = None
        self._voice_limit: int | None = None

    def _shorter_limit(self) -> int:
        return max(30, int(self._words_before * 0.7))

    def _request(self, contact: ContactView, profile: VoiceProfileView | None, analysis: AccountAnalysis | None, *,
                 variants: int, slots: Sequence[datetime] | None, language: str | None,
                 previous: Sequence[PreviousEmail] = (), context: str | None = None,
                 ) -> tuple[DraftRequest, DetectedLanguage]:
        request, detected = super()._request(contact, profile, analysis, variants=variants, slots=slots,
                                             language=language, previous=previous, context=context)
        if not self._services.llm.offline:
            return request, detected  # a model reads the instruction itself (_call)
        read = self._read = read_instruction(self._instruction, request.facts, language=request.language)
        if read.shorter:
            self._max_words = self._shorter_limit()
        self._voice_limit = request.voice.max_length
        return request.model_copy(update={"voice": adjust_voice(request.voice, read, request.language),
                                          "rewrite": read.rewrite()}), detected

    def _call(self, request: DraftRequest, reserve: Any) -> DraftBatch:
        voice = request.voice
        if self._max_words is not None:
            voice = voice.model_copy(update={"max_length": min(voice.max_length or 10_000, self._max_words)})
        feedback = [*request.feedback, f"The rep asks: {self._instruction}"]
        return super()._call(request.model_copy(update={"feedback": feedback, "voice": voice}), reserve)

    def not_followed(self, body: str) -> list[str]:
        """Offline only: the parts of the instruction the composer could not follow (empty for a model)."""
        if self._read is None:
            return []
        return [*self._read.not_followed,
                *length_warnings(self._read, words_before=self._words_before, words_after=len(body.split()),
                                 limit=self._voice_limit)]


def regenerate_variant(services: Services, *, actor: Actor, proposal_id: int, instruction: str) -> ProposalView:
    """Redraft one variant following the rep's instruction ("shorter", "mention their expansion")."""
    require(actor, RESOURCE, UPDATE)
    require(actor, "ai", CREATE)
    instruction = instruction.strip()
    if not instruction:
        raise ValidationFailed("say how the variant should change")
    with services.uow() as uow:
        row = uow.session.get(QueueProposal, proposal_id)
        if row is None:
            raise ValidationFailed(f"proposal {proposal_id} not found")
        entry = load_entry(uow.session, row.entry_id)
        require_owner(actor, "queue entries", entry.owner_id)
        if row.status is not ProposalStatus.proposed or entry.status is not QueueStatus.draft_created:
            raise InvalidTransition("only open proposals can be regenerated")
        variant, entry_id, words = row.variant, entry.id, len(row.body.split())
        contact_id, research = entry.contact_id, entry.research
    agent = _InstructedAgent(services, actor, instruction=instruction, words_before=words)
    inputs = _Inputs(services, actor, contact_id, research)
    # Asking for as many variants as this one's number keeps its angle (variants differ by position).
    result = agent.draft(inputs.contact, inputs.profile, inputs.analysis, reserve=_reserve(services, actor),
                         variants=variant)
    usage_service.record_usage(services.uow(), actor=actor, purpose=Purpose.drafting, usage=result.usage,
                               now=services.clock())
    new = result.proposals[min(variant, len(result.proposals)) - 1]
    with services.uow() as uow:
        row = uow.session.get(QueueProposal, proposal_id)
        if row is None or row.status is not ProposalStatus.proposed:
            raise InvalidTransition("the proposal changed while it was regenerated")
        _fill(row, new, result)
        row.content_warnings = [*row.content_warnings, *agent.not_followed(new.body)]
        row.instruction = instruction[:500]
        audit.record(uow.session, actor, "update", "queue_proposal", proposal_id,
                     {"regenerated": True, "instruction": instruction, "entry_id": entry_id})
        uow.session.flush()
        view = ProposalView.model_validate(row)
        uow.commit()
    return view
