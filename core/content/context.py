"""The data a template may see: plain dicts built from a contact, the sender and the campaign."""

from __future__ import annotations

from datetime import date

from core.auth.models import User
from core.campaigns.models import Campaign
from core.crm.models import Contact


def contact_context(contact: Contact) -> dict[str, object]:
    company = contact.company
    return {
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "full_name": contact.full_name,
        "email": contact.email,
        "title": contact.title,
        "job_title": contact.title,
        "phone": contact.phone,
        "linkedin_url": contact.linkedin_url,
        "timezone": contact.timezone,
        "language": contact.language,
        "lifecycle_stage": contact.lifecycle_stage.value,
        "industry": contact.industry or (company.industry if company else None),
        "company_size": contact.company_size or (company.size if company else None),
        "technologies": ", ".join(contact.technologies or []),
        "owner_name": None,
        "company": None if company is None else {
            "name": company.name,
            "domain": company.domain,
            "industry": company.industry,
            "size": company.size,
            "employee_count": company.employee_count,
            "revenue": company.revenue,
            "website": company.website or f"https://{company.domain}",
        },
    }


def sender_context(user: User | None, postal_address: str | None = None) -> dict[str, object]:
    if user is None:
        return {}
    first, _, last = user.name.partition(" ")
    return {"first_name": first, "last_name": last, "full_name": user.name, "email": user.email,
            "title": user.title, "company": None, "signature": None, "postal_address": postal_address}


def build_context(contact: Contact, *, sender: User | None = None, campaign: Campaign | None = None,
                  today: date | None = None) -> dict[str, object]:
    return {
        "contact": contact_context(contact),
        "sender": sender_context(sender),
        "campaign": None if campaign is None else {"name": campaign.name, "type": campaign.type.value},
        "today": today or date.today(),
    }
