from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.voice.models import Tone


class VoiceProfileInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    tone: Tone = Tone.professional
    style_notes: str | None = None
    max_length: int | None = Field(default=None, ge=20, le=2000)
    use_contractions: bool = True
    prohibited_phrases: list[str] = []
    greeting: str | None = None
    sign_off: str | None = None
    language: str = "en"
    is_default: bool = False


class VoiceProfileView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    owner_id: int | None
    is_default: bool
    language: str
    tone: Tone
    style_notes: str | None
    max_length: int | None
    use_contractions: bool
    prohibited_phrases: list[str]
    greeting: str | None
    sign_off: str | None
    version: int
    updated_at: datetime
    prompt_context: str = ""
