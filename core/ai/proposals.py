"""propose_for_email: the one entry point the CLI (and the queue workflow later) use to get proposals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.ai.agents import ProposalSet, ProspectingAgent
from core.ai.language import contact_language
from core.auth.actor import Actor
from core.crm import service as contacts
from core.crm.schemas import ContactView
from core.errors import NotFound
from core.services import Services
from core.voice import service as voice
from core.voice.schemas import VoiceProfileView


def pick_voice_profile(services: Services, actor: Actor, *, name: str | None, language: str) -> VoiceProfileView | None:
    """The named profile; else the actor's profile in the contact's language; else the actor's default."""
    owner = actor.user_id
    profiles = voice.list_voice_profiles(services.uow(), actor=actor, owner_id=owner)
    if not profiles and owner is None:  # the CLI acts as the system user, who owns nothing
        profiles = voice.list_voice_profiles(services.uow(), actor=actor)
    if name is not None:
        match = next((p for p in profiles if p.name == name), None)
        if match is None:
            raise NotFound(f"no voice profile named {name!r}")
        return match
    in_language = [p for p in profiles if p.language == language]
    return next((p for p in in_language if p.is_default), None) or (in_language[0] if in_language else None) \
        or next((p for p in profiles if p.is_default), None)


def propose_for_email(services: Services, *, actor: Actor, email: str, variants: int = 3,
                      profile_name: str | None = None, available_slots: list[datetime] | None = None,
                      **agent_options: Any) -> ProposalSet:
    contact = contacts.find_contact_by_email(services.uow(), actor=actor, email=email)
    if contact is None:
        raise NotFound(f"no contact with email {email}")
    return _propose(services, actor, contact, variants, profile_name, available_slots, agent_options)


def propose_for_contact(services: Services, *, actor: Actor, contact_id: int, variants: int = 3,
                        profile_name: str | None = None, available_slots: list[datetime] | None = None,
                        **agent_options: Any) -> ProposalSet:
    """The dashboard's entry point (a contact picked by id); the same path as the CLI's."""
    contact = contacts.get_contact(services.uow(), actor=actor, contact_id=contact_id)
    return _propose(services, actor, contact, variants, profile_name, available_slots, agent_options)


def _propose(services: Services, actor: Actor, contact: ContactView, variants: int, profile_name: str | None,
             available_slots: list[datetime] | None, agent_options: dict[str, Any]) -> ProposalSet:
    language = contact_language(language=contact.language, country=contact.country).code
    profile = pick_voice_profile(services, actor, name=profile_name, language=language)
    agent = ProspectingAgent(services, actor, **agent_options)
    return agent.generate_message(contact, profile, variants=variants, available_slots=available_slots)
