"""Persona from job title, and the messaging context for a persona in an industry."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel


class Persona(StrEnum):
    c_level = "c_level"
    mid_management = "mid_management"
    individual_contributor = "individual_contributor"


# VPs count as c_level, as the seed says ("VP of Sales" is c_level): they hold the budget.
_C_LEVEL = re.compile(
    r"\b(chief|ceo|cfo|coo|cto|cmo|cro|cio|ciso|cpo|president|founder|co-founder|owner|partner|"
    r"vp|svp|evp|avp|vice[- ]president|managing director|general manager|gerente general|director general|"
    r"geschäftsführer|geschaftsfuhrer|vorstand|directeur général|pdg)\b", re.IGNORECASE)
_MID = re.compile(r"\b(director|head|manager|lead|leiter|leiterin|supervisor|gerente|jefe|directeur|"
                  r"responsable|principal)\b", re.IGNORECASE)


def classify_persona(title: str | None) -> Persona:
    if not title:
        return Persona.individual_contributor
    if _C_LEVEL.search(title):
        return Persona.c_level
    if _MID.search(title):
        return Persona.mid_management
    return Persona.individual_contributor


class PersonaContext(BaseModel):
    persona: Persona
    industry: str
    tone: str
    focus: str
    value_props: list[str]
    pain_points: list[str]


_BY_PERSONA: dict[Persona, tuple[str, str, list[str]]] = {
    Persona.c_level: ("concise and outcome-led", "revenue, cost and risk at company level",
                      ["a measurable lift in revenue or margin", "less risk with one view of the pipeline"]),
    Persona.mid_management: ("practical and specific", "team performance and predictable targets",
                             ["a team that hits its numbers predictably", "hours back from manual reporting"]),
    Persona.individual_contributor: ("friendly and hands-on", "daily workload and tools",
                                     ["less busywork every day", "tools that fit the way you already work"]),
}

# Industry → (pain points, value prop); keys are matched as lower-case words in the industry name.
_BY_INDUSTRY: dict[str, tuple[list[str], str]] = {
    "logistics": (["carrier costs", "on-time delivery", "visibility across shipments"],
                  "fewer late shipments through earlier exception alerts"),
    "software": (["long sales cycles", "churn in the first year", "pipeline coverage"],
                 "a fuller pipeline without adding headcount"),
    "manufacturing": (["supply-chain disruption", "unplanned downtime", "distributor visibility"],
                      "steadier orders from distributors"),
    "healthcare": (["compliance workload", "patient-intake delays", "staff shortages"],
                   "less administrative load on clinical teams"),
    "financial": (["regulatory reporting", "client retention", "manual onboarding"],
                  "faster, compliant client onboarding"),
    "retail": (["margin pressure", "inventory turns", "customer retention"], "better repeat-purchase rates"),
    "energy": (["asset uptime", "regulatory change", "project delays"], "fewer delays on capital projects"),
    "food": (["shelf-life waste", "distributor reach", "input-cost swings"], "less waste across distribution"),
}
_DEFAULT_INDUSTRY = (["growing pipeline with the same team", "manual follow-up"], "more meetings from the same effort")


def industry_key(industry: str | None) -> str | None:
    text = (industry or "").lower()
    return next((key for key in _BY_INDUSTRY if key in text), None)


def messaging_context(persona: Persona, industry: str | None) -> PersonaContext:
    tone, focus, persona_props = _BY_PERSONA[persona]
    key = industry_key(industry)
    pains, industry_prop = _BY_INDUSTRY[key] if key else _DEFAULT_INDUSTRY
    return PersonaContext(persona=persona, industry=industry or "unknown", tone=tone, focus=focus,
                          value_props=[industry_prop, *persona_props], pain_points=list(pains))
