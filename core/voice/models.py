"""Voice profiles: how a user writes, as constraints the drafting model must respect."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.crm.models import enum_column
from core.db import Base, TimestampMixin, utcnow


class Tone(StrEnum):
    professional = "professional"
    casual = "casual"
    formal = "formal"
    friendly = "friendly"


class VoiceProfile(TimestampMixin, Base):
    __tablename__ = "voice_profiles"
    __table_args__ = (
        UniqueConstraint("owner_id", "name"),
        # At most one default profile per user, enforced by the database on both backends.
        Index("uq_voice_profiles_one_default", "owner_id", unique=True,
              sqlite_where=text("is_default"), postgresql_where=text("is_default")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    is_default: Mapped[bool] = mapped_column(default=False)
    language: Mapped[str] = mapped_column(String(16), default="en")
    tone: Mapped[Tone] = mapped_column(enum_column(Tone), default=Tone.professional)
    style_notes: Mapped[str | None] = mapped_column(Text)
    max_length: Mapped[int | None]  # words
    use_contractions: Mapped[bool] = mapped_column(default=True)
    prohibited_phrases: Mapped[list[str]] = mapped_column(default=list)
    greeting: Mapped[str | None] = mapped_column(String(120))
    sign_off: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(default=1)

    versions: Mapped[list[VoiceProfileVersion]] = relationship(
        back_populates="profile", order_by="VoiceProfileVersion.version", cascade="all, delete-orphan"
    )

    def to_prompt_context(self) -> str:
        """The profile as prompt text for a drafting model; it always starts with the tone."""
        lines = [f"Tone: {self.tone.value}"]
        if self.style_notes:
            lines.append(f"Style: {self.style_notes}")
        if self.max_length:
            lines.append(f"Maximum length: {self.max_length} words")
        lines.append("Contractions: " + ("use them" if self.use_contractions else "do not use them"))
        if self.greeting:
            lines.append(f"Greeting: {self.greeting}")
        if self.sign_off:
            lines.append(f"Sign-off: {self.sign_off}")
        if self.prohibited_phrases:
            lines.append("Never use: " + "; ".join(f'"{p}"' for p in self.prohibited_phrases))
        lines.append(f"Language: {self.language}")
        return "\n".join(lines)


class VoiceProfileVersion(Base):
    __tablename__ = "voice_profile_versions"
    __table_args__ = (UniqueConstraint("profile_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("voice_profiles.id", ondelete="CASCADE"))
    version: Mapped[int]
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    profile: Mapped[VoiceProfile] = relationship(back_populates="versions")
