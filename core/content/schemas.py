from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from core.content.models import DraftStatus, SnippetCategory, TemplateCategory

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class TemplateInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    category: TemplateCategory
    subject: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    body: Annotated[str, StringConstraints(min_length=1)]


class TemplateVersionView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    template_id: int
    version: int
    subject: str
    body: str
    variables: list[str]
    created_at: datetime
    created_by_id: int | None


class TemplateView(BaseModel):
    id: int
    name: str
    category: TemplateCategory
    archived: bool
    latest: TemplateVersionView
    version_count: int


class SnippetInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z0-9_\-]{1,100}$")]
    content: Annotated[str, StringConstraints(min_length=1, max_length=5000)]
    category: SnippetCategory


class SnippetView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    content: str
    category: SnippetCategory
    variables: list[str]


class RenderedEmail(BaseModel):
    subject: str
    body: str


class DraftInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_id: int
    subject: str
    body: str
    template_version_id: int | None = None
    campaign_id: int | None = None


class DraftView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    to_email: str
    subject: str
    body: str
    contact_id: int | None
    template_version_id: int | None
    campaign_id: int | None
    status: DraftStatus
    scheduled_at: datetime | None
    sent_at: datetime | None
    rejection_reason: str | None
    created_by_id: int | None
    approved_by_id: int | None
    created_at: datetime
    updated_at: datetime
