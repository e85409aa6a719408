"""Voice profile use cases: create, revise (each revision is a version), one default per user."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from core.audit import service as audit
from core.auth.actor import Actor
from core.auth.permissions import CREATE, READ, UPDATE, require
from core.errors import Conflict, NotFound, PermissionDenied
from core.uow import UnitOfWork
from core.voice.models import VoiceProfile, VoiceProfileVersion
from core.voice.schemas import VoiceProfileInput, VoiceProfileView

_VERSIONED = ("name", "tone", "style_notes", "max_length", "use_contractions", "prohibited_phrases",
              "greeting", "sign_off", "language")


def _view(profile: VoiceProfile) -> VoiceProfileView:
    return VoiceProfileView.model_validate(profile).model_copy(
        update={"prompt_context": profile.to_prompt_context()})


def _snapshot(profile: VoiceProfile) -> dict[str, Any]:
    return {field: audit.plain(getattr(profile, field)) for field in _VERSIONED}


def _clear_default(uow: UnitOfWork, owner_id: int | None, keep: int | None = None) -> None:
    query = update(VoiceProfile).where(VoiceProfile.owner_id == owner_id, VoiceProfile.is_default.is_(True))
    if keep is not None:
        query = query.where(VoiceProfile.id != keep)
    uow.session.execute(query.values(is_default=False))


def create_voice_profile(uow: UnitOfWork, *, actor: Actor, data: VoiceProfileInput,
                         owner_id: int | None = None) -> VoiceProfileView:
    require(actor, "voice_profiles", CREATE)
    owner = owner_id if owner_id is not None else actor.user_id
    with uow:
        session = uow.session
        if session.scalar(select(VoiceProfile.id).where(VoiceProfile.owner_id == owner,
                                                        VoiceProfile.name == data.name)) is not None:
            raise Conflict(f"you already have a voice profile named {data.name!r}")
        has_default = session.scalar(select(VoiceProfile.id).where(
            VoiceProfile.owner_id == owner, VoiceProfile.is_default.is_(True))) is not None
        if data.is_default:
            _clear_default(uow, owner)
        profile = VoiceProfile(**data.model_dump(exclude={"is_default"}), owner_id=owner,
                               is_default=data.is_default or not has_default, version=1)
        profile.versions.append(VoiceProfileVersion(version=1, snapshot={}, created_by_id=actor.user_id))
        session.add(profile)
        session.flush()
        profile.versions[0].snapshot = _snapshot(profile)
        audit.record(session, actor, "create", "voice_profile", profile.id, _snapshot(profile))
        view = _view(profile)
        uow.commit()
    return view


def revise_voice_profile(
    uow: UnitOfWork, *, actor: Actor, profile_id: int, changes: dict[str, Any]
) -> VoiceProfileView:
    """Apply changes as a new version; the previous settings stay in the version history."""
    require(actor, "voice_profiles", UPDATE)
    with uow:
        session = uow.session
        profile = session.get(VoiceProfile, profile_id)
        if profile is None:
            raise NotFound(f"voice profile {profile_id} not found")
        if profile.owner_id != actor.user_id and not actor.has_role_name("admin", "manager"):
            raise PermissionDenied("only the owner, a manager or an admin may change this voice profile")
        current = VoiceProfileInput.model_validate({**_snapshot(profile), "is_default": profile.is_default})
        merged = VoiceProfileInput.model_validate({**current.model_dump(), **changes})
        if merged.is_default and not profile.is_default:
            _clear_default(uow, profile.owner_id, keep=profile.id)
            session.flush()
        for field in (*_VERSIONED, "is_default"):
            setattr(profile, field, getattr(merged, field))
        diff = audit.changes_of(profile)
        if set(diff) & set(_VERSIONED):
            profile.version += 1
            profile.versions.append(VoiceProfileVersion(version=profile.version, snapshot=_snapshot(profile),
                                                        created_by_id=actor.user_id))
        session.flush()
        audit.record(session, actor, "update", "voice_profile", profile.id, diff)
        view = _view(profile)
        uow.commit()
    return view


def list_voice_profiles(uow: UnitOfWork, *, actor: Actor, owner_id: int | None = None) -> list[VoiceProfileView]:
    require(actor, "voice_profiles", READ)
    with uow:
        query = select(VoiceProfile).order_by(VoiceProfile.owner_id, VoiceProfile.name)
        if owner_id is not None:
            query = query.where(VoiceProfile.owner_id == owner_id)
        return [_view(p) for p in uow.session.scalars(query)]


def default_voice_profile(uow: UnitOfWork, *, actor: Actor, owner_id: int | None = None) -> VoiceProfileView | None:
    require(actor, "voice_profiles", READ)
    owner = owner_id if owner_id is not None else actor.user_id
    with uow:
        profile = uow.session.scalar(select(VoiceProfile).where(
            VoiceProfile.owner_id == owner, VoiceProfile.is_default.is_(True)))
        return None if profile is None else _view(profile)


def voice_profile_versions(uow: UnitOfWork, *, actor: Actor, profile_id: int) -> list[dict[str, Any]]:
    require(actor, "voice_profiles", READ)
    with uow:
        rows = uow.session.scalars(select(VoiceProfileVersion).where(VoiceProfileVersion.profile_id == profile_id)
                                   .order_by(VoiceProfileVersion.version.desc()))
        return [{"version": r.version, "created_at": r.created_at, **r.snapshot} for r in rows]
