"""calculate_personalization_score: how specific an email is to its contact, 0–100, with advice."""

from __future__ import annotations

import re
from typing import Any, Protocol

from pydantic import BaseModel

from core.ai.persona import industry_key

WARN_BELOW = 50
WEIGHTS = {"company": 25, "role": 20, "industry": 20, "specific_fact": 25, "first_name": 10}
GENERIC_PENALTY = 15
SHORT_PENALTY = 10
GENERIC_PHRASES = (
    "hope this email finds you well", "hope this finds you well", "want to chat", "quick question",
    "touch base", "just checking in", "i wanted to reach out", "to whom it may concern", "dear sir or madam",
    "circle back", "synergy", "let me know if you are interested", "i came across your profile",
)
_SENIORITY = {"vp", "svp", "evp", "vice", "president", "of", "head", "director", "chief", "manager", "senior",
              "sr", "junior", "jr", "lead", "and", "the", "global", "regional", "officer", "associate", "&",
              "principal", "staff", "executive", "team", "for"}
_EVENT_WORDS = re.compile(r"\b(announced|launched|opened|expanding|expansion|hiring|raised|acquired|new office|"
                          r"funding|series [a-e]|award|recently|just released|grew|growth)\b", re.IGNORECASE)


class _Company(Protocol):
    name: str
    industry: str | None


class PersonalizationScore(BaseModel):
    score: int
    breakdown: dict[str, int]
    recommendations: list[str]
    warning: str | None


def _text_of(email: Any) -> tuple[str, str]:
    if isinstance(email, str):
        return "", email
    return str(getattr(email, "subject", "") or ""), str(getattr(email, "body", "") or "")


def _mentions(text: str, phrase: str | None) -> bool:
    return bool(phrase) and re.search(rf"\b{re.escape(str(phrase).lower())}\b", text) is not None


def _role_words(title: str | None) -> list[str]:
    words = re.findall(r"[a-zà-ÿ]+", (title or "").lower())
    return [w for w in words if w not in _SENIORITY and len(w) >= 3]


def calculate_personalization_score(email: Any, contact: Any) -> PersonalizationScore:
    """Points for mentioning the company, role, industry and a specific fact, and for greeting by name;
    penalties for generic phrasing and very short bodies. A warning below 50."""
    subject, body = _text_of(email)
    text = f"{subject}\n{body}".lower()
    company: _Company | None = getattr(contact, "company", None)
    company_name = company.name if company else None
    industry = getattr(contact, "industry", None) or (company.industry if company else None)
    title = getattr(contact, "title", None)
    technologies = list(getattr(contact, "technologies", None) or [])
    first_name = getattr(contact, "first_name", None)

    found = {
        "company": bool(company_name) and (_mentions(text, company_name)
                                           or _mentions(text, company_name.split()[0] if company_name else None)),
        "role": _mentions(text, title) or any(_mentions(text, w) for w in _role_words(title)),
        "industry": _mentions(text, industry) or _mentions(text, industry_key(industry)),
        "specific_fact": bool(re.search(r"\d", body)) or any(_mentions(text, t) for t in technologies)
        or bool(_EVENT_WORDS.search(body)),
        "first_name": bool(first_name) and _mentions(body[:80].lower(), first_name),
    }
    breakdown = {key: WEIGHTS[key] if hit else 0 for key, hit in found.items()}
    generic = [p for p in GENERIC_PHRASES if p in text]
    breakdown["generic_phrasing"] = -GENERIC_PENALTY * len(generic)
    too_short = len(body.split()) < 15
    breakdown["too_short"] = -SHORT_PENALTY if too_short else 0
    score = max(0, min(100, sum(breakdown.values())))

    advice = {
        "company": f"Mention the company by name{f' ({company_name})' if company_name else ''}.",
        "role": f"Speak to their role{f' as {title}' if title else ''} and what it is measured on.",
        "industry": f"Refer to their industry{f' ({industry})' if industry else ''} and its typical pain.",
        "specific_fact": "Add one specific, verifiable fact (a number, a technology they use, a recent event).",
        "first_name": f"Greet them by first name{f' (Hi {first_name},)' if first_name else ''}.",
    }
    recommendations = [advice[key] for key, hit in found.items() if not hit]
    recommendations += [f'Replace the generic phrase "{p}" with something specific to them.' for p in generic]
    if too_short:
        recommendations.append("Say why you are writing to them in particular; the body is very short.")
    warning = (f"Personalisation score {score} is below {WARN_BELOW}: this reads like a mass email."
               if score < WARN_BELOW else None)
    return PersonalizationScore(score=score, breakdown=breakdown, recommendations=recommendations, warning=warning)
