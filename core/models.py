"""Imports every ORM model so metadata is complete (Alembic, create_all, the ERD generator)."""

from core.activity.models import ActivityEvent
from core.ai.models import AccountResearch, ModelUsage
from core.audit.models import AuditEntry
from core.auth.credential_models import ApiKey, RefreshToken, RevokedToken
from core.auth.models import LoginAttempt, RolePermission, User
from core.campaigns.models import Campaign, CampaignMember, campaign_templates
from core.content.models import Draft, EmailTemplate, Snippet, TemplateVersion
from core.crm.models import Company, Contact, Suppression, Task
from core.db import Base
from core.hubspot.models import (
    CrmLink,
    HubSpotConflict,
    HubSpotSyncError,
    HubSpotSyncJob,
    HubSpotSyncSetting,
    HubSpotTimelineEntry,
    HubSpotWebhookEvent,
)
from core.mail.gmail_models import GmailMailboxSync, GmailPushMessage
from core.mail.models import (
    CampaignTracking,
    InboundMessage,
    Mailbox,
    MessageEvent,
    Notification,
    OutboxMessage,
    SendLedgerEntry,
    TrackedLink,
)
from core.ops.models import WorkerHeartbeat
from core.queue.models import QueueEntry, QueueJob, QueueProposal, QueueStatusChange, SavedQueueFilter
from core.voice.models import VoiceProfile, VoiceProfileVersion

__all__ = [
    "AccountResearch",
    "ActivityEvent",
    "ApiKey",
    "AuditEntry",
    "Base",
    "Campaign",
    "CampaignMember",
    "CampaignTracking",
    "Company",
    "Contact",
    "CrmLink",
    "Draft",
    "EmailTemplate",
    "GmailMailboxSync",
    "GmailPushMessage",
    "HubSpotConflict",
    "HubSpotSyncError",
    "HubSpotSyncJob",
    "HubSpotSyncSetting",
    "HubSpotTimelineEntry",
    "HubSpotWebhookEvent",
    "InboundMessage",
    "LoginAttempt",
    "Mailbox",
    "MessageEvent",
    "ModelUsage",
    "Notification",
    "OutboxMessage",
    "QueueEntry",
    "QueueJob",
    "QueueProposal",
    "QueueStatusChange",
    "RefreshToken",
    "RevokedToken",
    "RolePermission",
    "SavedQueueFilter",
    "SendLedgerEntry",
    "Snippet",
    "Suppression",
    "Task",
    "TemplateVersion",
    "TrackedLink",
    "User",
    "VoiceProfile",
    "VoiceProfileVersion",
    "WorkerHeartbeat",
    "campaign_templates",
]
