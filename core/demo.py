"""Deterministic demo data: a believable small B2B team's CRM, loaded in one transaction.

Idempotent: a second run finds the demo marker campaign and changes nothing.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from core.audit import service as audit
from core.auth.actor import SYSTEM
from core.auth.models import Role, User
from core.auth.passwords import hash_password
from core.auth.permissions import seed_role_permissions
from core.campaigns.models import Campaign, CampaignMember, CampaignStatus, CampaignType, campaign_templates
from core.content.models import (
    Draft,
    DraftStatus,
    EmailTemplate,
    Snippet,
    SnippetCategory,
    TemplateCategory,
    TemplateVersion,
)
from core.content.service import validate_template
from core.crm.enrichment import calculate_enrichment_score
from core.crm.models import (
    Company,
    Contact,
    LawfulBasis,
    LifecycleStage,
    Task,
    TaskPriority,
    TaskStatus,
    TaskType,
)
from core.services import Services
from core.voice.models import Tone, VoiceProfile, VoiceProfileVersion

DEMO_USER_EMAIL = "demo@example.com"
# Every demo user signs in with this password; `make run` prints it. Demo data only, never a real account.
DEMO_PASSWORD = "demo-password"  # noqa: S105
MARKER_CAMPAIGN = "Q1 Logistics Outbound"
SEED = 20261129

USERS = [
    (DEMO_USER_EMAIL, "Dana Demo", "Head of Sales", [Role.admin]),
    ("morgan.lee@example.com", "Morgan Lee", "Sales Manager", [Role.manager]),
    ("alex.kim@example.com", "Alex Kim", "Account Executive", [Role.sales_rep]),
    ("sam.ortiz@example.com", "Sam Ortiz", "Sales Development Rep", [Role.sales_rep]),
]

# (name, domain, industry, employees, parent domain)
COMPANIES = [
    ("Northwind Holdings", "northwind-holdings.com", "Logistics", 12000, None),
    ("Northwind Freight", "northwindfreight.com", "Logistics", 3200, "northwind-holdings.com"),
    ("Northwind Cold Chain", "northwind-coldchain.com", "Logistics", 850, "northwind-holdings.com"),
    ("Northwind Air Cargo", "northwind-air.com", "Logistics", 640, "northwind-holdings.com"),
    ("Globex Group", "globex-group.com", "Manufacturing", 22000, None),
    ("Globex Industrial", "globex-industrial.com", "Manufacturing", 5400, "globex-group.com"),
    ("Globex Robotics", "globexrobotics.io", "Manufacturing", 410, "globex-industrial.com"),
    ("Acme Logistics", "acmelogistics.com", "Logistics", 1800, None),
    ("Initech Software", "initech.io", "Software", 260, None),
    ("Umbrella Health", "umbrella-health.com", "Healthcare", 7300, None),
    ("Umbrella Diagnostics", "umbrella-dx.com", "Healthcare", 900, "umbrella-health.com"),
    ("Stark Energy", "starkenergy.com", "Energy", 15000, None),
    ("Wayne Retail", "wayneretail.com", "Retail", 9100, None),
    ("Hooli Cloud", "hooli.cloud", "Software", 3100, None),
    ("Pied Piper", "piedpiper.net", "Software", 85, None),
    ("Soylent Foods", "soylentfoods.com", "Food & Beverage", 2400, None),
    ("Cyberdyne Systems", "cyberdyne.ai", "Software", 620, None),
    ("Tyrell Biotech", "tyrellbio.com", "Biotech", 1300, None),
    ("Vandelay Imports", "vandelay-imports.com", "Wholesale", 140, None),
    ("Massive Dynamic", "massivedynamic.com", "Manufacturing", 11000, None),
    ("Oscorp Materials", "oscorp-materials.com", "Chemicals", 4700, None),
    ("Gringotts Finance", "gringotts.finance", "Financial Services", 5200, None),
    ("Monarch Insurance", "monarch-ins.com", "Insurance", 3900, None),
    ("Blue Sun Shipping", "bluesunshipping.com", "Logistics", 2700, None),
    ("Wonka Confectionery", "wonka.co", "Food & Beverage", 1100, None),
    ("Aperture Labs", "aperturelabs.io", "Research", 480, None),
    ("Dunder Paper", "dunderpaper.com", "Wholesale", 320, None),
    ("Prestige Worldwide", "prestigeworldwide.co", "Media", 60, None),
    ("Bluth Homes", "bluthhomes.com", "Real Estate", 210, None),
    ("Sterling Advertising", "sterling-adv.com", "Media", 390, None),
    ("Los Pollos Logistics", "lospollos-logistics.com", "Logistics", 530, None),
    ("Krusty Foods", "krustyfoods.com", "Food & Beverage", 1500, None),
    ("Nakatomi Trading", "nakatomi.co.jp", "Wholesale", 6800, None),
    ("Rekall Travel", "rekall.travel", "Travel", 720, None),
    ("Weyland Freight", "weylandfreight.com", "Logistics", 4300, None),
    ("Virtucon", "virtucon.com", "Manufacturing", 2900, None),
    ("Duff Brewing", "duffbrewing.com", "Food & Beverage", 1700, None),
    ("Ollivander Crafts", "ollivander.shop", "Retail", 45, None),
    ("Zorg Industries", "zorg-industries.com", "Manufacturing", 8800, None),
    ("Frobozz Analytics", "frobozz.ai", "Software", 150, None),
]
TECH = {
    "Logistics": ["SAP TM", "Oracle WMS", "Salesforce", "Project44"],
    "Manufacturing": ["SAP S/4HANA", "Siemens MindSphere", "Microsoft Dynamics"],
    "Software": ["AWS", "Kubernetes", "HubSpot", "Segment", "Snowflake"],
    "Healthcare": ["Epic", "Salesforce Health Cloud", "Azure"],
}
FIRST = ["John", "Maria", "Wei", "Aisha", "Carlos", "Emma", "Liam", "Sofia", "Noah", "Olivia", "Lucas", "Mia",
         "Ethan", "Chloe", "Mateo", "Hannah", "Ravi", "Yuki", "Fatima", "Jonas", "Elena", "Omar", "Grace",
         "Felix", "Nadia", "Henrik", "Priya", "Diego", "Sara", "Tom"]
LAST = ["Smith", "Garcia", "Chen", "Khan", "Müller", "Rossi", "Dubois", "Novak", "Okafor", "Johansson",
        "Tanaka", "Silva", "Brown", "Kowalski", "Haddad", "Larsen", "Patel", "Moreau", "Schmidt", "Ivanova"]
TITLES = ["VP of Sales", "Head of Operations", "Director of Logistics", "Procurement Manager", "CTO",
          "Chief Operating Officer", "Supply Chain Analyst", "IT Director", "Marketing Manager",
          "Operations Coordinator", "Head of Growth", "Fleet Manager", "CFO", "Software Engineer"]
TIMEZONES = ["America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "Europe/Berlin",
             "Europe/Madrid", "Europe/Paris", "Asia/Tokyo"]
LANG = {"Europe/Berlin": "de", "Europe/Madrid": "es", "Europe/Paris": "fr", "Asia/Tokyo": "ja"}

SNIPPETS = [
    ("intro-referral", SnippetCategory.intro,
     "I'm reaching out because teams like yours at {{contact.company.name|default:\"your company\"}} "
     "keep telling us the same thing about manual follow-ups."),
    ("value-prop-time", SnippetCategory.value_prop,
     "We help {{contact.industry|default:\"B2B\"|lower}} teams cut the time spent on routine outreach by half."),
    ("case-study-acme", SnippetCategory.case_study,
     "Acme Logistics used it to book 38% more first meetings in one quarter."),
    ("cta-15-min", SnippetCategory.cta, "Would a 15-minute call next week be worth it?"),
    ("sign-off-warm", SnippetCategory.sign_off, "Best,\n{{sender.first_name}}"),
]

TEMPLATES = [
    ("Cold intro — operations leaders", TemplateCategory.prospecting,
     "{{contact.company.name}} + a faster follow-up process",
     "Hi {{contact.first_name|default:\"there\"}},\n\n{{> intro-referral}}\n\n"
     "{{#if contact.title}}As {{contact.title}}, you{{else}}You{{/if}} probably feel it most at month end. "
     "{{> value-prop-time}}\n\n{{> cta-15-min}}\n\n{{> sign-off-warm}}"),
    ("Cold intro — logistics case study", TemplateCategory.prospecting,
     "How Acme Logistics booked 38% more meetings",
     "Hi {{contact.first_name|default:\"there\"}},\n\n{{> case-study-acme}} "
     "Given {{contact.company.name|default:\"your team\"}}'s focus on "
     "{{contact.industry|default:\"operations\"|lower}}, "
     "I thought the playbook might be useful.\n\n{{> cta-15-min}}\n\n{{> sign-off-warm}}"),
    ("Nurture — quarterly insights", TemplateCategory.nurture,
     "Three ideas for {{contact.company.name|default:\"your team\"}} this quarter",
     "Hi {{contact.first_name|default:\"there\"}},\n\nNo ask today — here are three ideas we've seen work for "
     "{{contact.industry|default:\"B2B\"|lower}} teams this quarter.\n\n1. Shorter first emails.\n"
     "2. Follow up on day 3, not day 7.\n3. Reference one concrete fact about the account.\n\n{{> sign-off-warm}}"),
    ("Follow-up — gentle bump", TemplateCategory.follow_up,
     "Re: {{contact.company.name|default:\"our chat\"}}",
     "Hi {{contact.first_name|default:\"there\"}},\n\nJust floating this back to the top of your inbox. "
     "{{> cta-15-min}}\n\n{{> sign-off-warm}}"),
    ("Follow-up — after the demo", TemplateCategory.follow_up,
     "Following our demo, {{contact.first_name|default:\"there\"}}",
     "Hi {{contact.first_name|default:\"there\"}},\n\nThanks again for your time on {{today|date:\"%A\"}}. "
     "As promised, here's the summary for {{contact.company.name|default:\"your team\"}}.\n\n{{> sign-off-warm}}"),
]


def _at(rng: random.Random, now: datetime, days_back: int) -> datetime:
    return now - timedelta(days=rng.randint(0, days_back), minutes=rng.randint(0, 1440))


def load_demo_data(services: Services, *, only_if_empty: bool = False) -> dict[str, int]:
    """Load the demo set in one transaction; returns how many of each thing the database now holds."""
    with services.uow() as uow:
        session = uow.session
        already = session.scalar(select(Campaign.id).where(Campaign.name == MARKER_CAMPAIGN)) is not None
        has_contacts = (session.scalar(select(func.count(Contact.id))) or 0) > 0
        if already or (only_if_empty and has_contacts):
            return _counts(services)
        rng = random.Random(SEED)
        now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

        users: list[User] = []
        for email, name, title, roles in USERS:
            user = session.scalar(select(User).where(User.email == email))
            if user is None:
                user = User(email=email, name=name, title=title, roles=[r.value for r in roles])
                session.add(user)
            users.append(user)
        demo_hash = hash_password(DEMO_PASSWORD)  # hashed once: bcrypt is slow on purpose
        for user in users:
            if user.password_hash is None:
                user.password_hash, user.email_verified = demo_hash, True
        seed_role_permissions(session)
        session.flush()
        reps = [u for u in users if Role.sales_rep.value in u.roles or Role.admin.value in u.roles]

        companies: dict[str, Company] = {}
        for name, domain, industry, employees, parent in COMPANIES:
            size = ("1-50" if employees <= 50 else "51-200" if employees <= 200 else "201-1000"
                    if employees <= 1000 else "1001-5000" if employees <= 5000 else "5001+")
            company = Company(name=name, domain=domain, industry=industry, employee_count=employees, size=size,
                              revenue=employees * rng.randint(90_000, 240_000), score=rng.randint(20, 95),
                              website=f"https://{domain}", parent=companies.get(parent or ""),
                              created_by_id=users[0].id)
            session.add(company)
            companies[domain] = company
        session.flush()

        contacts: list[Contact] = []
        company_list = list(companies.values())
        stages = list(LifecycleStage)
        for i in range(200):
            company = company_list[i % len(company_list)]
            first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
            tz = rng.choice(TIMEZONES)
            stack = TECH.get(company.industry or "", ["Excel"])
            contact = Contact(
                email=f"{first}.{last}{i}@{company.domain}".lower().replace("ü", "ue"),
                first_name=first, last_name=last, title=rng.choice(TITLES),
                phone=f"+1 555 01{i:02d}" if rng.random() < 0.6 else None,
                linkedin_url=f"https://www.linkedin.com/in/{first.lower()}-{last.lower()}-{i}"
                if rng.random() < 0.7 else None,
                timezone=tz, language=LANG.get(tz, "en"), country=tz.split("/")[1].replace("_", " "),
                lifecycle_stage=rng.choices(stages, weights=[40, 20, 12, 8, 6, 8, 6])[0],
                owner_id=rng.choice(reps).id, company=company, industry=company.industry,
                company_size=company.size, technologies=rng.sample(stack, k=min(2, len(stack))),
                lawful_basis=LawfulBasis.legitimate_interest, data_source="demo data",
                created_by_id=users[0].id, created_at=_at(rng, now, 120),
            )
            contact.enrichment_score = calculate_enrichment_score(contact)
            session.add(contact)
            contacts.append(contact)
        session.flush()

        for name, category, content in SNIPPETS:
            session.add(Snippet(name=name, category=category, content=content))
        session.flush()
        templates: list[EmailTemplate] = []
        for name, template_category, subject, body in TEMPLATES:
            template = EmailTemplate(name=name, category=template_category, owner_id=users[0].id)
            template.versions.append(TemplateVersion(version=1, subject=subject, body=body,
                                                     variables=validate_template(session, subject, body),
                                                     created_by_id=users[0].id))
            session.add(template)
            templates.append(template)
        session.flush()

        campaigns = [
            Campaign(name=MARKER_CAMPAIGN, type=CampaignType.outbound, status=CampaignStatus.active,
                     starts_on=date(2026, 10, 1), ends_on=date(2026, 12, 31), owner_id=users[1].id,
                     description="Operations leaders at logistics companies over 500 employees."),
            Campaign(name="Customer nurture — autumn", type=CampaignType.nurture, status=CampaignStatus.active,
                     starts_on=date(2026, 9, 1), owner_id=users[1].id,
                     description="Quarterly insights for customers and open opportunities."),
            Campaign(name="Re-engage stalled deals", type=CampaignType.re_engagement, status=CampaignStatus.draft,
                     starts_on=date(2027, 1, 10), owner_id=users[2].id),
        ]
        session.add_all(campaigns)
        session.flush()
        campaigns[0].members = []
        for campaign, pool, template in (
            (campaigns[0], [c for c in contacts if c.industry == "Logistics"], templates[1]),
            (campaigns[1], [c for c in contacts if c.lifecycle_stage in (LifecycleStage.customer,
                                                                         LifecycleStage.opportunity)], templates[2]),
            (campaigns[2], contacts[150:170], templates[3]),
        ):
            session.execute(campaign_templates.insert().values(campaign_id=campaign.id, template_id=template.id))
            for contact in pool:
                member = CampaignMember(campaign_id=campaign.id, contact_id=contact.id,
                                        added_at=_at(rng, now, 60))
                if campaign.status is CampaignStatus.active and rng.random() < 0.85:
                    member.sent_at = _at(rng, now, 45)
                    if rng.random() < 0.55:
                        member.opened_at = member.sent_at + timedelta(hours=rng.randint(1, 48))
                        if rng.random() < 0.35:
                            member.clicked_at = member.opened_at + timedelta(minutes=rng.randint(1, 90))
                        if rng.random() < 0.2:
                            member.replied_at = member.opened_at + timedelta(hours=rng.randint(1, 72))
                session.add(member)
        session.flush()

        task_titles = [(TaskType.call, "Call {name} about pilot scope"),
                       (TaskType.email, "Send {name} the case study"),
                       (TaskType.linkedin, "Connect with {name} on LinkedIn"),
                       (TaskType.todo, "Research {company}'s Q4 priorities")]
        for i in range(36):
            contact = contacts[(i * 11) % len(contacts)]
            kind, title = task_titles[i % len(task_titles)]
            status = rng.choices(list(TaskStatus), weights=[60, 15, 25])[0]
            session.add(Task(
                title=title.format(name=contact.full_name, company=contact.company.name if contact.company else ""),
                type=kind, assignee_id=contact.owner_id, contact_id=contact.id, company_id=contact.company_id,
                priority=rng.choices(list(TaskPriority), weights=[15, 55, 22, 8])[0], status=status,
                due_at=now + timedelta(days=rng.randint(-5, 14), hours=rng.randint(0, 8)),
                completed_at=now - timedelta(days=1) if status is TaskStatus.complete else None,
                created_by_id=users[1].id))

        for i, contact in enumerate(contacts[:12]):  # drafts at each approval stage
            company_name = contact.company.name if contact.company else "you"
            session.add(Draft(to_email=contact.email, subject=f"Idea for {company_name}",
                              body=f"Hi {contact.first_name},\n\nA quick idea for your team…", contact_id=contact.id,
                              template_version_id=templates[0].versions[0].id,
                              status=[DraftStatus.draft, DraftStatus.pending_approval, DraftStatus.approved][i % 3],
                              created_by_id=contact.owner_id))

        for owner, name, tone, notes, default in (
            (users[0], "Direct & friendly", Tone.friendly,
             "Short sentences, one idea per email, always a concrete number.", True),
            (users[0], "Formal enterprise", Tone.formal,
             "Complete sentences, no slang, reference compliance and security early.", False),
        ):
            profile = VoiceProfile(name=name, owner_id=owner.id, tone=tone, style_notes=notes, is_default=default,
                                   max_length=150 if default else 220, use_contractions=default,
                                   prohibited_phrases=["just checking in", "circle back", "synergy"],
                                   greeting="Hi {first_name}," if default else "Dear {first_name},",
                                   sign_off="Best,\nDana" if default else "Kind regards,\nDana Demo")
            profile.versions.append(VoiceProfileVersion(version=1, snapshot={"name": name, "tone": tone.value},
                                                        created_by_id=owner.id))
            session.add(profile)

        audit.record(session, SYSTEM, "demo_load", "demo", None, {"contacts": len(contacts)})
        uow.commit()
    return _counts(services)


def _counts(services: Services) -> dict[str, int]:
    models = {"users": User, "companies": Company, "contacts": Contact, "campaigns": Campaign,
              "templates": EmailTemplate, "snippets": Snippet, "tasks": Task, "drafts": Draft,
              "voice_profiles": VoiceProfile}
    with services.uow() as uow:
        return {name: uow.session.scalar(select(func.count()).select_from(model)) or 0
                for name, model in models.items()}
