"""ProspectingAgent and NurturingAgent: research, persona, language and voice in; checked proposals out.

Each call gathers its inputs in short transactions, calls the model outside any transaction, checks
every variant against the voice (length, contractions, prohibited phrases, greeting) and the inputs
(unsupported names, numbers, links, claims), regenerates once when a fixable rule is broken, flags what
remains, and records the usage in a final short transaction. ``draft`` is the database-free middle that
bulk proposals (core.ai.bulk) run in worker threads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel

from core.ai import usage as usage_service
from core.ai.constraints import Violation, check_variant
from core.ai.language import DetectedLanguage, contact_language
from core.ai.persona import classify_persona, messaging_context
from core.ai.personalization import PersonalizationScore, calculate_personalization_score
from core.ai.prompting import drafting_prompt
from core.ai.research import AccountAnalysis, AccountAnalyzer
from core.ai.schemas import (
    Citation,
    DraftBatch,
    DraftKind,
    DraftRequest,
    EmailVariant,
    Fact,
    PreviousEmail,
    Purpose,
    Usage,
    VoiceRules,
)
from core.ai.tokens import count_tokens
from core.auth.actor import Actor
from core.auth.permissions import CREATE, require
from core.crm.schemas import ContactView
from core.services import Services
from core.voice.schemas import VoiceProfileView

OUTPUT_TOKENS_PER_VARIANT = 400


class Proposal(BaseModel):
    subject: str
    body: str
    reasoning: str
    personalization_notes: list[str]
    citations: list[Citation]
    violations: list[Violation]
    personalization: PersonalizationScore


class ProposalSet(BaseModel):
    contact_id: int
    contact_email: str
    kind: DraftKind
    language: str
    language_source: str
    persona: str
    voice_profile: str | None
    model_label: str
    offline: bool
    regenerated: bool
    proposals: list[Proposal]
    research_insights: list[dict[str, str]]
    usage: Usage


def voice_rules(profile: VoiceProfileView | None) -> VoiceRules:
    if profile is None:
        return VoiceRules()
    return VoiceRules(name=profile.name, tone=profile.tone.value, style_notes=profile.style_notes,
                      max_length=profile.max_length, use_contractions=profile.use_contractions,
                      prohibited_phrases=list(profile.prohibited_phrases), greeting=profile.greeting,
                      sign_off=profile.sign_off, language=profile.language)


def format_slots(slots: Sequence[datetime], timezone: str | None, language: str) -> list[str]:
    """Times in the contact's zone (UTC when unknown or invalid), each labelled with the zone."""
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    out = []
    for slot in slots:
        local = slot.astimezone(zone)
        when = f"{local:%A %d %B, %H:%M}" if language == "en" else f"{local:%Y-%m-%d %H:%M}"
        out.append(f"{when} {local.tzname()} ({zone.key})")
    return out


Reserve = Callable[[int], None]  # raises TokenBudgetExceeded when the tokens a call needs are not left today


class _Agent:
    kind = DraftKind.cold_outreach

    def __init__(self, services: Services, actor: Actor, *, analyzer: AccountAnalyzer | None = None) -> None:
        self._services = services
        self._actor = actor
        self._analyzer = analyzer or AccountAnalyzer(services, actor)

    def _research(self, contact: ContactView) -> AccountAnalysis | None:
        return self._analyzer.analyze_company(contact.company.domain) if contact.company is not None else None

    def _request(self, contact: ContactView, profile: VoiceProfileView | None, analysis: AccountAnalysis | None, *,
                 variants: int, slots: Sequence[datetime] | None, language: str | None,
                 previous: Sequence[PreviousEmail] = (), context: str | None = None,
                 ) -> tuple[DraftRequest, DetectedLanguage]:
        inbound = [e.body for e in previous if e.direction == "inbound"]
        detected = contact_language(language=language or contact.language, country=contact.country,
                                    earlier_replies=inbound)
        lang = detected.code if detected.supported else "en"
        persona = classify_persona(contact.title)
        industry = contact.industry or (analysis.industry if analysis else None)
        ctx = messaging_context(persona, industry)
        facts = list(analysis.facts) if analysis else []
        if contact.title:
            facts.append(Fact(label="title", value=contact.title, source="contacts.title"))
        if contact.industry and not any(f.label == "industry" for f in facts):
            facts.append(Fact(label="industry", value=contact.industry, source="contacts.industry"))
        for tech in contact.technologies:
            if not any(f.label == "technology" and f.value == tech for f in facts):
                facts.append(Fact(label="technology", value=tech, source="contacts.technologies"))
        request = DraftRequest(
            kind=self.kind, language=lang, variants=variants, first_name=contact.first_name or contact.full_name,
            company_name=contact.company.name if contact.company else None, title=contact.title,
            industry=industry, persona=persona.value, value_props=ctx.value_props, pain_points=ctx.pain_points,
            recommended_angle=analysis.recommended_angle if analysis else None, facts=facts,
            voice=voice_rules(profile), sender_name=self._actor.name or None,
            slots=format_slots(slots or [], contact.timezone, lang), previous_emails=list(previous),
            context=context, untrusted_notes=contact.notes)
        return request, detected

    def _db_reserve(self, needed: int) -> None:
        usage_service.check_budget(self._services.uow(), actor=self._actor, needed=needed,
                                   budget=self._services.settings.ai_daily_token_budget, now=self._services.clock())

    def _record(self, result: ProposalSet) -> ProposalSet:
        usage_service.record_usage(self._services.uow(), actor=self._actor, purpose=Purpose.drafting,
                                   usage=result.usage, now=self._services.clock())
        return result

    def draft(self, contact: ContactView, profile: VoiceProfileView | None, analysis: AccountAnalysis | None, *,
              reserve: Reserve, variants: int, slots: Sequence[datetime] | None = None, language: str | None = None,
              previous: Sequence[PreviousEmail] = (), context: str | None = None) -> ProposalSet:
        """Model calls, checks and scores without touching the database; the caller records ``usage``."""
        request, detected = self._request(contact, profile, analysis, variants=variants, slots=slots,
                                          language=language, previous=previous, context=context)
        batch = self._call(request, reserve)
        checks = [check_variant(v, request) for v in batch.variants]
        regenerated = False
        if any(v.fixable for found in checks for v in found):
            feedback = [f"variant {i + 1}: {v.message}" for i, found in enumerate(checks) for v in found
                        if v.fixable]
            redo = self._call(request.model_copy(update={"feedback": feedback}), reserve)
            regenerated = True
            batch = batch.model_copy(update={"usage": _sum_usage(batch.usage, redo.usage)})
            variants_out: list[EmailVariant] = []
            new_checks: list[list[Violation]] = []
            for i, (old, old_found) in enumerate(zip(batch.variants, checks, strict=True)):
                new = redo.variants[i] if i < len(redo.variants) else old
                new_found = check_variant(new, request)
                better = sum(v.fixable for v in new_found) < sum(v.fixable for v in old_found)
                variants_out.append(new if better else old)
                new_checks.append(new_found if better else old_found)
            batch, checks = batch.model_copy(update={"variants": variants_out}), new_checks
        llm = self._services.llm
        proposals = [Proposal(**v.model_dump(), violations=found,
                              personalization=calculate_personalization_score(v, contact))
                     for v, found in zip(batch.variants, checks, strict=True)]
        return ProposalSet(
            contact_id=contact.id, contact_email=contact.email, kind=request.kind, language=request.language,
            language_source=detected.source, persona=request.persona,
            voice_profile=profile.name if profile else None, model_label=llm.label, offline=llm.offline,
            regenerated=regenerated, proposals=proposals, usage=batch.usage,
            research_insights=[i.model_dump() for i in analysis.insights] if analysis else [])

    def _call(self, request: DraftRequest, reserve: Reserve) -> DraftBatch:
        llm = self._services.llm
        if not llm.offline:
            system, user = drafting_prompt(request)
            reserve(count_tokens(system) + count_tokens(user) + OUTPUT_TOKENS_PER_VARIANT * request.variants)
        return llm.draft_emails(request)


def _sum_usage(a: Usage, b: Usage) -> Usage:
    return a.model_copy(update={"prompt_tokens": a.prompt_tokens + b.prompt_tokens,
                                "completion_tokens": a.completion_tokens + b.completion_tokens})


class ProspectingAgent(_Agent):
    kind = DraftKind.cold_outreach

    def generate_message(self, prospect: ContactView, voice_profile: VoiceProfileView | None, variants: int = 3,
                         available_slots: Sequence[datetime] | None = None,
                         language: str | None = None) -> ProposalSet:
        """Two or three (up to five) cold emails for the prospect in the trained voice, checked and scored."""
        require(self._actor, "ai", CREATE)
        return self._record(self.draft(prospect, voice_profile, self._research(prospect), reserve=self._db_reserve,
                                       variants=variants, slots=available_slots, language=language))


class NurturingAgent(_Agent):
    kind = DraftKind.nurture

    def generate_nurture_email(
        self, contact: ContactView, previous_emails: Sequence[PreviousEmail | Mapping[str, Any]],
        context: str | Mapping[str, Any] | None, *, voice_profile: VoiceProfileView | None = None, variants: int = 2,
    ) -> ProposalSet:
        """Emails that refer to the thread and the last interaction ("Following our demo …")."""
        require(self._actor, "ai", CREATE)
        previous = [e if isinstance(e, PreviousEmail) else PreviousEmail.model_validate(e) for e in previous_emails]
        if isinstance(context, Mapping):
            context = str(context.get("last_interaction") or context.get("summary") or "") or None
        return self._record(self.draft(contact, voice_profile, self._research(contact), reserve=self._db_reserve,
                                       variants=variants, previous=previous, context=context))
