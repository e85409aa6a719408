"""The enrichment score: 0–100, how much of what a rep needs to personalise an email is known about a contact.

It counts the contact's own fields and, for industry and size, its company's. It is stored on the contact (lists
sort and filter by it), so whatever changes one of its inputs recomputes it: contact writes, imports, HubSpot
pulls, and a company's industry or size changing (rescore_contacts_of_companies).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.crm.models import Company, Contact

# How much each enrichment field is worth; they add up to 100.
ENRICHMENT_WEIGHTS: dict[str, int] = {
    "name": 5, "title": 20, "phone": 10, "linkedin_url": 15, "industry": 15, "company_size": 10,
    "technologies": 10, "company": 10, "timezone": 5,
}
_W = ENRICHMENT_WEIGHTS


def score_of(*, first_name: Any, last_name: Any, title: Any, phone: Any, linkedin_url: Any, industry: Any,
             company_size: Any, technologies: Any, timezone: Any, has_company: bool, company_industry: Any,
             company_size_of_company: Any) -> int:
    """The score from plain values (a falsy value is an unknown one)."""
    return ((_W["name"] if first_name and last_name else 0) + (_W["title"] if title else 0)
            + (_W["phone"] if phone else 0) + (_W["linkedin_url"] if linkedin_url else 0)
            + (_W["industry"] if industry or company_industry else 0)
            + (_W["company_size"] if company_size or company_size_of_company else 0)
            + (_W["technologies"] if technologies else 0) + (_W["company"] if has_company else 0)
            + (_W["timezone"] if timezone else 0))


def calculate_enrichment_score(contact: Contact) -> int:
    company = contact.company
    return score_of(first_name=contact.first_name, last_name=contact.last_name, title=contact.title,
                    phone=contact.phone, linkedin_url=contact.linkedin_url, industry=contact.industry,
                    company_size=contact.company_size, technologies=contact.technologies,
                    timezone=contact.timezone, has_company=contact.company_id is not None or company is not None,
                    company_industry=company.industry if company else None,
                    company_size_of_company=company.size if company else None)


def rescore_contacts_of_companies(session: Session, company_ids: Collection[int]) -> int:
    """Recompute the stored score of every contact of these companies; returns how many changed.

    Their updated_at stays as it was: the contact itself did not change (and HubSpot sync reads updated_at).
    """
    if not company_ids:
        return 0
    rows = session.execute(
        select(Contact.id, Contact.first_name, Contact.last_name, Contact.title, Contact.phone,
               Contact.linkedin_url, Contact.industry, Contact.company_size, Contact.technologies,
               Contact.timezone, Contact.enrichment_score, Contact.updated_at,
               Company.industry.label("company_industry"), Company.size.label("company_size_of_company"))
        .join(Company, Company.id == Contact.company_id)
        .where(Contact.company_id.in_(list(company_ids))))
    changed = []
    for row in rows:
        score = score_of(first_name=row.first_name, last_name=row.last_name, title=row.title, phone=row.phone,
                         linkedin_url=row.linkedin_url, industry=row.industry, company_size=row.company_size,
                         technologies=row.technologies, timezone=row.timezone, has_company=True,
                         company_industry=row.company_industry,
                         company_size_of_company=row.company_size_of_company)
        if score != row.enrichment_score:
            changed.append({"id": row.id, "enrichment_score": score, "updated_at": row.updated_at})
    if changed:
        session.execute(update(Contact), changed)  # ORM bulk UPDATE by primary key
    return len(changed)
