"""Inputs and read models of the CRM use cases."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.crm.models import (
    LawfulBasis,
    LifecycleStage,
    SuppressionReason,
    TaskPriority,
    TaskStatus,
    TaskType,
)

Text200 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class ContactInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str
    first_name: Text200 | None = None
    last_name: Text200 | None = None
    title: Text200 | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)] | None = None
    linkedin_url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    timezone: str | None = None
    language: str | None = None
    country: str | None = None
    lifecycle_stage: LifecycleStage | None = None
    owner_id: int | None = None
    company_domain: str | None = None
    company_name: str | None = None
    industry: str | None = None
    company_size: str | None = None
    technologies: list[str] | None = None
    lawful_basis: LawfulBasis | None = None
    opted_in_at: datetime | None = None
    data_source: str | None = None
    notes: str | None = None


class ContactUpdate(BaseModel):
    """Only the fields given are changed."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = None
    first_name: Text200 | None = None
    last_name: Text200 | None = None
    title: Text200 | None = None
    phone: str | None = None
    linkedin_url: str | None = None
    timezone: str | None = None
    language: str | None = None
    country: str | None = None
    lifecycle_stage: LifecycleStage | None = None
    owner_id: int | None = None
    company_id: int | None = None
    industry: str | None = None
    company_size: str | None = None
    technologies: list[str] | None = None
    lawful_basis: LawfulBasis | None = None
    opted_in_at: datetime | None = None
    data_source: str | None = None
    notes: str | None = None


class CompanyView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    domain: str
    name: str
    industry: str | None
    size: str | None
    employee_count: int | None
    revenue: int | None
    score: int
    website: str | None
    parent_id: int | None


class ContactView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    first_name: str | None
    last_name: str | None
    full_name: str
    title: str | None
    phone: str | None
    linkedin_url: str | None
    timezone: str | None
    language: str | None
    country: str | None
    lifecycle_stage: LifecycleStage
    owner_id: int | None
    company_id: int | None
    company: CompanyView | None
    industry: str | None
    company_size: str | None
    technologies: list[str]
    enrichment_score: int
    lawful_basis: LawfulBasis
    opted_in_at: datetime | None
    data_source: str | None
    notes: str | None
    created_at: datetime
    updated_at: datetime
    created_by_id: int | None
    suppressed: list[SuppressionReason] = Field(default_factory=list)
    merged: bool = False  # True when create_contact found the address and merged into it


class CompanyInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    domain: str
    name: Text200 | None = None
    industry: str | None = None
    size: str | None = None
    employee_count: int | None = Field(default=None, ge=0)
    revenue: int | None = Field(default=None, ge=0)
    score: int | None = Field(default=None, ge=0, le=100)
    website: str | None = None
    parent_id: int | None = None


class CompanyUpdate(CompanyInput):
    """Only the fields given are changed (``model_dump(exclude_unset=True)``); None clears a field."""

    domain: str | None = None  # type: ignore[assignment]  # optional here; update_company refuses removing it


class TaskInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    description: str | None = None
    type: TaskType = TaskType.todo
    due_at: datetime | None = None
    assignee_id: int | None = None
    priority: TaskPriority = TaskPriority.normal
    contact_id: int | None = None
    company_id: int | None = None


class TaskView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    description: str | None
    type: TaskType
    due_at: datetime | None
    assignee_id: int | None
    priority: TaskPriority
    status: TaskStatus
    contact_id: int | None
    company_id: int | None
    completed_at: datetime | None
    created_at: datetime


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
