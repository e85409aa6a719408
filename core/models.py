"""Imports every ORM model so metadata is complete (Alembic, create_all, the ERD generator)."""

from core.audit.models import AuditEntry
from core.auth.models import User
from core.campaigns.models import Campaign, CampaignMember, campaign_templates
from core.content.models import Draft, EmailTemplate, Snippet, TemplateVersion
from core.crm.models import Company, Contact, Suppression, Task
from core.db import Base
from core.ops.models import WorkerHeartbeat
from core.voice.models import VoiceProfile, VoiceProfileVersion

__all__ = [
    "AuditEntry", "Base", "Campaign", "CampaignMember", "Company", "Contact", "Draft", "EmailTemplate",
    "Snippet", "Suppression", "Task", "TemplateVersion", "User", "VoiceProfile", "VoiceProfileVersion",
    "WorkerHeartbeat", "campaign_templates",
]
