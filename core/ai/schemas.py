"""The drafting contract shared by every LanguageModel: what goes in (DraftRequest) and what comes out."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class DraftKind(StrEnum):
    cold_outreach = "cold_outreach"
    follow_up = "follow_up"
    nurture = "nurture"
    reply_handling = "reply_handling"


class Purpose(StrEnum):
    """Which configured model serves a call: each purpose may name a different (cheaper) model."""

    drafting = "drafting"
    analysis = "analysis"
    classification = "classification"


class Fact(BaseModel):
    """One thing we know, with where it came from: a database field ("companies.industry") or a URL."""

    model_config = ConfigDict(frozen=True)

    label: str
    value: str
    source: str


class Citation(BaseModel):
    """Model output: which fact a sentence rests on. Strict-schema friendly (all fields required)."""

    model_config = ConfigDict(extra="forbid")

    fact: str
    source: str


class EmailVariant(BaseModel):
    """One proposed email as a model returns it."""

    model_config = ConfigDict(extra="forbid")

    subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    body: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
    reasoning: str
    personalization_notes: list[str]
    citations: list[Citation]


class DraftOutput(BaseModel):
    """The structured output a model must return for a drafting call."""

    model_config = ConfigDict(extra="forbid")

    variants: list[EmailVariant] = Field(min_length=1, max_length=5)


class StyleNotes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notes: list[str]


class Usage(BaseModel):
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    offline: bool = False


class VoiceRules(BaseModel):
    """The voice profile as the composer and the constraint checker need it."""

    name: str = "default"
    tone: str = "professional"
    style_notes: str | None = None
    max_length: int | None = None
    use_contractions: bool = True
    prohibited_phrases: list[str] = Field(default_factory=list)
    greeting: str | None = None
    sign_off: str | None = None
    language: str = "en"


class PreviousEmail(BaseModel):
    subject: str
    body: str
    direction: str = "outbound"  # outbound (we wrote) or inbound (they wrote; untrusted)
    sent_at: str | None = None


class Rewrite(BaseModel):
    """What the offline composer adds for a rep's regeneration instruction (read by core.ai.instructions);
    a model endpoint gets the instruction itself as feedback instead and ignores this."""

    longer: bool = False  # one more fact, and in English one more benefit
    question: bool = False  # an open question about their priorities before the call to action
    mention: list[Fact] = Field(default_factory=list)  # research facts the rep asked to bring up


class DraftRequest(BaseModel):
    """Everything a model may use to write, already gathered; nothing here is fetched by the model."""

    kind: DraftKind = DraftKind.cold_outreach
    language: str = "en"
    variants: int = Field(default=3, ge=1, le=5)
    first_name: str
    company_name: str | None = None
    title: str | None = None
    industry: str | None = None
    persona: str = "individual_contributor"
    value_props: list[str] = Field(default_factory=list)
    pain_points: list[str] = Field(default_factory=list)
    recommended_angle: str | None = None
    facts: list[Fact] = Field(default_factory=list)
    voice: VoiceRules = Field(default_factory=VoiceRules)
    sender_name: str | None = None
    slots: list[str] = Field(default_factory=list)  # already formatted in the contact's time zone
    previous_emails: list[PreviousEmail] = Field(default_factory=list)
    context: str | None = None  # e.g. "demo held on 3 March"; written by our user
    untrusted_notes: str | None = None  # free text from the CRM record: data, never instructions
    snippets: list[str] = Field(default_factory=list)
    feedback: list[str] = Field(default_factory=list)  # violations of an earlier attempt, for the redo
    rewrite: Rewrite = Field(default_factory=Rewrite)


class DraftBatch(BaseModel):
    variants: list[EmailVariant]
    usage: Usage
    offline: bool
    label: str
