from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from core.campaigns.models import CampaignStatus, CampaignType


class CampaignInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    type: CampaignType = CampaignType.outbound
    status: CampaignStatus = CampaignStatus.draft
    description: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    owner_id: int | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> CampaignInput:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        return self


class CampaignStats(BaseModel):
    total_contacts: int = 0
    sent: int = 0
    opened: int = 0
    clicked: int = 0
    replied: int = 0

    @property
    def open_rate(self) -> float:
        return self.opened / self.sent if self.sent else 0.0

    @property
    def click_rate(self) -> float:
        return self.clicked / self.sent if self.sent else 0.0

    @property
    def reply_rate(self) -> float:
        return self.replied / self.sent if self.sent else 0.0


class CampaignView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    type: CampaignType
    status: CampaignStatus
    description: str | None
    starts_on: date | None
    ends_on: date | None
    owner_id: int | None
    template_ids: list[int] = []
    stats: CampaignStats = CampaignStats()
