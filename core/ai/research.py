"""AccountAnalyzer: what we know about a company, each insight citing its source (a field or a URL).

Facts come from our database, from HubSpot for companies the sync has linked (one batch read, outside any
transaction), and, when enabled, the company's public website (fetched outside any transaction, through
the SSRF-safe fetcher). The analysis is cached for 24 hours and invalidated as soon
as the company or any of its contacts changes (the cache key holds their updated_at values).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import cast

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core.ai.models import AccountResearch
from core.ai.persona import Persona, messaging_context
from core.ai.schemas import Fact
from core.ai.webfetch import fetch_public_page
from core.auth.actor import Actor
from core.auth.permissions import READ, require
from core.crm.emails import normalize_domain
from core.crm.models import Company
from core.errors import ConnectorError, NotFound
from core.hubspot.models import CrmLink, ObjectType
from core.integrations.base import CRMConnector, CRMRecord
from core.services import Services

CACHE_TTL = timedelta(hours=24)
# HubSpot company properties read for synced companies → the fact label they become.
HUBSPOT_FACTS = {"industry": "industry", "numberofemployees": "employees", "annualrevenue": "annual revenue",
                 "description": "description", "city": "city", "country": "country",
                 "lifecyclestage": "lifecycle stage"}
_TECH = ("Salesforce", "HubSpot", "SAP", "Oracle", "Shopify", "WordPress", "AWS", "Azure", "Google Cloud",
         "Snowflake", "Zendesk", "Slack", "Workday", "NetSuite", "Stripe", "Kubernetes")
_SIGNALS = {"hiring": r"\b(we'?re hiring|careers|join our team|open positions)\b",
            "expansion": r"\b(new (office|warehouse|facility|market)|expan(d|ding|sion))\b",
            "growth": r"\b(fastest[- ]growing|record (year|growth)|raised|series [a-e])\b"}


class Insight(BaseModel):
    text: str
    source: str


class AccountAnalysis(BaseModel):
    domain: str
    company_name: str
    industry: str | None
    size_range: str | None
    tech_stack: list[str]
    pain_points: list[str]
    opportunities: list[str]
    recommended_angle: str
    insights: list[Insight]
    facts: list[Fact]
    website_url: str | None = None
    website_error: str | None = None
    hubspot_error: str | None = None
    cached: bool = False
    generated_at: datetime


class _PageText(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.title, self.description, self._skip = "", "", 0
        self.chunks: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "style", "noscript"):
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "meta" and (values.get("name") or "").lower() == "description":
            self.description = (values.get("content") or "").strip()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "noscript") and self._skip:
            self._skip -= 1
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data.strip()
        elif not self._skip and data.strip():
            self.chunks.append(data.strip())


def size_range(employees: int | None, size: str | None) -> str | None:
    if size:
        return size
    if employees is None:
        return None
    for upper, label in ((10, "1-10"), (50, "11-50"), (200, "51-200"), (1000, "201-1000"), (5000, "1001-5000")):
        if employees <= upper:
            return label
    return "5001+"


@dataclass
class _Pending:
    """What one transaction read about a company whose analysis must be (re)built outside it."""

    domain: str
    fingerprint: str
    name: str
    industry: str | None
    size: str | None
    website: str
    facts: list[Fact]
    tech: list[str]
    hubspot_id: str | None = None


class AccountAnalyzer:
    def __init__(self, services: Services, actor: Actor, *, fetch_website: bool | None = None) -> None:
        self._services = services
        self._actor = actor
        self._fetch_website = services.settings.research_fetch_websites if fetch_website is None else fetch_website
        crm = services.connectors.get("hubspot")
        # CRMConnector is not runtime-checkable: a connected CRM is whatever offers batch_read.
        self._crm = cast(CRMConnector, crm) if hasattr(crm, "batch_read") else None

    def analyze_company(self, domain: str) -> AccountAnalysis:
        domain = normalize_domain(domain)
        found = self.analyze_companies([domain])
        if domain not in found:
            raise NotFound(f"no company with domain {domain}")
        return found[domain]

    def analyze_companies(self, domains: Iterable[str]) -> dict[str, AccountAnalysis]:
        """Analyses by domain for every known company among ``domains``: one read, one cache write."""
        require(self._actor, "companies", READ)
        wanted = sorted({normalize_domain(d) for d in domains})
        if not wanted:
            return {}
        now = self._services.clock()
        results: dict[str, AccountAnalysis] = {}
        pending: list[_Pending] = []
        with self._services.uow() as uow:
            session = uow.session
            companies = session.scalars(select(Company).options(selectinload(Company.contacts))
                                        .where(Company.domain.in_(wanted))).all()
            cache = {row.domain: row for row in session.scalars(
                select(AccountResearch).where(AccountResearch.domain.in_(wanted)))}
            links: dict[int, str] = {}
            if self._crm is not None:
                links = {local: remote for local, remote in session.execute(
                    select(CrmLink.local_id, CrmLink.hubspot_id).where(
                        CrmLink.object_type == ObjectType.company, CrmLink.local_id.in_([c.id for c in companies])))}
            for company in companies:
                fingerprint = self._fingerprint(company)
                cached = cache.get(company.domain)
                if cached is not None and cached.fingerprint == fingerprint and now - cached.created_at < CACHE_TTL:
                    results[company.domain] = AccountAnalysis.model_validate({**cached.payload, "cached": True})
                    continue
                facts, tech = self._database_facts(company)
                pending.append(_Pending(company.domain, fingerprint, company.name, company.industry,
                                        size_range(company.employee_count, company.size),
                                        company.website or f"https://{company.domain}", facts, tech,
                                        links.get(company.id)))
        if not pending:
            return results
        hubspot, hubspot_error = self._hubspot_records([p.hubspot_id for p in pending if p.hubspot_id])
        if self._fetch_website and len(pending) > 1:  # network, outside any transaction, bounded
            with ThreadPoolExecutor(max_workers=min(len(pending), self._services.settings.ai_concurrency)) as pool:
                built = list(pool.map(lambda p: self._build(p, now, hubspot, hubspot_error), pending))
        else:
            built = [self._build(p, now, hubspot, hubspot_error) for p in pending]
        self._store([(p.domain, p.fingerprint, a) for p, a in zip(pending, built, strict=True)])
        results.update({a.domain: a for a in built})
        return results

    def _fingerprint(self, company: Company) -> str:
        stamps = [c.updated_at for c in company.contacts]
        latest = max(stamps).isoformat() if stamps else None
        return hashlib.sha256(f"{company.updated_at.isoformat()}|{len(stamps)}|{latest}|{self._fetch_website}|"
                              f"{self._crm is not None}".encode()).hexdigest()

    def _hubspot_records(self, ids: list[str]) -> tuple[dict[str, CRMRecord], str | None]:
        """Synced companies' HubSpot properties in batches of 100, outside any transaction."""
        if self._crm is None or not ids:
            return {}, None
        try:
            return {r.id: r for r in self._crm.batch_read("companies", ids, properties=list(HUBSPOT_FACTS))}, None
        except ConnectorError as exc:
            return {}, f"HubSpot facts unavailable: {exc.message}"

    def _build(self, p: _Pending, now: datetime, hubspot: dict[str, CRMRecord],
               hubspot_error: str | None) -> AccountAnalysis:
        facts, tech, industry = list(p.facts), list(p.tech), p.industry
        record = hubspot.get(p.hubspot_id) if p.hubspot_id else None
        known = {f.label for f in facts}
        for prop, label in HUBSPOT_FACTS.items():
            value = ((record.properties.get(prop) if record else None) or "").strip()
            if record is not None and value and label not in known:
                facts.append(Fact(label=label, value=value[:240], source=f"hubspot:companies/{record.id}#{prop}"))
        industry = industry or next((f.value for f in facts if f.label == "industry"), None)
        insights = [Insight(text=f"{p.name} works in {industry}", source=_source(facts, "industry",
                                                                                 "companies.industry"))
                    ] if industry else []
        if p.size:
            insights.append(Insight(text=f"Company size: {p.size} employees", source="companies.employee_count"))
        insights += [Insight(text=f"HubSpot {f.label}: {f.value}", source=f.source) for f in facts
                     if f.source.startswith("hubspot:") and f.label != "industry"]
        website_url = website_error = None
        if self._fetch_website:
            try:
                website_url, found, web_facts, web_tech = self._website(p.website)
                insights += found
                facts += web_facts
                tech += [t for t in web_tech if t not in tech]
            except ConnectorError as exc:
                website_error = exc.message
        context = messaging_context(Persona.mid_management, industry)
        opportunities = [f"{context.value_props[0]} (for {industry or 'their'} teams)"]
        if tech:
            opportunities.append(f"works alongside their stack: {', '.join(tech[:3])}")
        insights += [Insight(text=f"Uses {t}", source=_tech_source(facts, t)) for t in tech]
        angle = (f"Lead with {context.pain_points[0]} in {industry}" if industry else
                 "Lead with a question about their current process")
        return AccountAnalysis(domain=p.domain, company_name=p.name, industry=industry, size_range=p.size,
                               tech_stack=tech, pain_points=context.pain_points, opportunities=opportunities,
                               recommended_angle=angle, insights=insights, facts=facts, website_url=website_url,
                               website_error=website_error, generated_at=now,
                               hubspot_error=hubspot_error if p.hubspot_id else None)

    def _database_facts(self, company: Company) -> tuple[list[Fact], list[str]]:
        facts = [Fact(label="company", value=company.name, source="companies.name")]
        if company.industry:
            facts.append(Fact(label="industry", value=company.industry, source="companies.industry"))
        if company.employee_count:
            facts.append(Fact(label="employees", value=f"{company.employee_count:,}",
                              source="companies.employee_count"))
        tech: list[str] = []
        for contact in company.contacts:
            for t in contact.technologies or []:
                if t not in tech:
                    tech.append(t)
                    facts.append(Fact(label="technology", value=t, source="contacts.technologies"))
        return facts, tech

    def _website(self, url: str) -> tuple[str, list[Insight], list[Fact], list[str]]:
        settings = self._services.settings
        allow = settings.research_test_allow_hosts if settings.environment.value == "test" else []
        final_url, html = fetch_public_page(url, max_bytes=settings.research_fetch_max_bytes,
                                            timeout=settings.research_fetch_timeout_seconds, allow_hosts=allow)
        page = _PageText()
        page.feed(html)
        text = " ".join(page.chunks)
        summary = page.description or (page.chunks[0] if page.chunks else page.title)
        insights, facts = [], []
        if summary:
            summary = re.sub(r"\s+", " ", summary)[:240]
            insights.append(Insight(text=f"Their website says: {summary}", source=final_url))
            facts.append(Fact(label="website", value=summary, source=final_url))
        for signal, pattern in _SIGNALS.items():
            if match := re.search(pattern, text, re.IGNORECASE):
                insights.append(Insight(text=f"Website signal ({signal}): \"{match.group(0)}\"", source=final_url))
        tech = [t for t in _TECH if re.search(rf"\b{re.escape(t)}\b", text)]
        facts += [Fact(label="technology", value=t, source=final_url) for t in tech]
        return final_url, insights, facts, tech

    def _store(self, built: list[tuple[str, str, AccountAnalysis]]) -> None:
        """Derived data, replaceable at any time: written without an audit row, all in one transaction."""
        with self._services.uow() as uow:
            rows = {row.domain: row for row in uow.session.scalars(
                select(AccountResearch).where(AccountResearch.domain.in_([d for d, _, _ in built])))}
            for domain, fingerprint, analysis in built:
                row = rows.get(domain)
                if row is None:
                    row = AccountResearch(domain=domain, fingerprint=fingerprint)
                    uow.session.add(row)
                row.fingerprint, row.created_at = fingerprint, analysis.generated_at
                row.payload = analysis.model_dump(mode="json", exclude={"cached"})
            try:
                uow.commit()
            except IntegrityError:  # another worker cached one of these first; theirs is as good
                uow.rollback()


def _source(facts: list[Fact], label: str, default: str) -> str:
    return next((f.source for f in facts if f.label == label), default)


def _tech_source(facts: list[Fact], tech: str) -> str:
    return next((f.source for f in facts if f.label == "technology" and f.value == tech), "contacts.technologies")
