"""Voice profiles: prompt context, one default per user, versions."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from core.voice import service as voice
from core.voice.models import Tone, VoiceProfile
from core.voice.schemas import VoiceProfileInput


def test_prompt_context_starts_with_the_tone(services, admin):
    profile = voice.create_voice_profile(services.uow(), actor=admin, data=VoiceProfileInput(
        name="Direct", tone=Tone.casual, max_length=120, use_contractions=False,
        prohibited_phrases=["circle back"], greeting="Hi {first_name},", sign_off="Cheers"))
    assert profile.prompt_context.startswith("Tone: casual")
    assert "Maximum length: 120 words" in profile.prompt_context
    assert '"circle back"' in profile.prompt_context and "do not use them" in profile.prompt_context


def test_first_profile_becomes_default_and_only_one_default_per_user(services, admin):
    first = voice.create_voice_profile(services.uow(), actor=admin, data=VoiceProfileInput(name="A"))
    assert first.is_default
    second = voice.create_voice_profile(services.uow(), actor=admin, data=VoiceProfileInput(name="B", is_default=True))
    assert second.is_default
    assert voice.default_voice_profile(services.uow(), actor=admin).id == second.id
    assert [p.is_default for p in voice.list_voice_profiles(services.uow(), actor=admin)] == [False, True]


def test_database_refuses_a_second_default(services, admin):
    voice.create_voice_profile(services.uow(), actor=admin, data=VoiceProfileInput(name="A"))
    with services.uow() as uow, pytest.raises(IntegrityError):
        uow.session.add(VoiceProfile(name="Sneaky", owner_id=admin.user_id, is_default=True))
        uow.session.flush()


def test_revisions_create_versions(services, admin):
    profile = voice.create_voice_profile(services.uow(), actor=admin, data=VoiceProfileInput(name="A"))
    revised = voice.revise_voice_profile(services.uow(), actor=admin, profile_id=profile.id,
                                         changes={"tone": "formal", "max_length": 200})
    assert revised.version == 2 and revised.prompt_context.startswith("Tone: formal")
    history = voice.voice_profile_versions(services.uow(), actor=admin, profile_id=profile.id)
    assert [h["version"] for h in history] == [2, 1] and history[1]["tone"] == "professional"
