"""The offline composer: the embedded LanguageModel. Deterministic and without network, it writes drafts
from the research facts, persona context, voice profile and snippets, in English, Spanish, German or French,
and returns the same contract as a model endpoint (variants, reasoning, notes, citations)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from core.ai.constraints import expected_greeting
from core.ai.phrases import PHRASES, expand_contractions
from core.ai.schemas import Citation, DraftBatch, DraftKind, DraftRequest, EmailVariant, Fact, StyleNotes, Usage
from core.ai.tokens import count_tokens

LABEL = "offline composer"
ANGLES = ("fact", "role", "pain", "question", "industry")


@dataclass
class _Part:
    text: str
    keep: bool = False  # greeting, call to action and sign-off survive length trimming
    cites: list[Fact] = field(default_factory=list)


def _fact(request: DraftRequest, label: str) -> Fact | None:
    return next((f for f in request.facts if f.label == label), None)


class OfflineComposer:
    """LanguageModel that needs no endpoint; every output is labelled "offline"."""

    label = LABEL
    offline = True

    def draft_emails(self, request: DraftRequest) -> DraftBatch:
        language = request.language if request.language in PHRASES else "en"
        variants = [self._variant(request, language, ANGLES[i % len(ANGLES)]) for i in range(request.variants)]
        completion = sum(count_tokens(v.subject + v.body) for v in variants)
        usage = Usage(model="offline", prompt_tokens=0, completion_tokens=completion, offline=True)
        return DraftBatch(variants=variants, usage=usage, offline=True, label=LABEL)

    def style_notes(self, samples: Sequence[str], computed: Sequence[str]) -> StyleNotes:
        return StyleNotes(notes=list(computed))

    # -- composition ------------------------------------------------------------------------------

    def _variant(self, request: DraftRequest, language: str, angle: str) -> EmailVariant:
        words = PHRASES[language]
        english = language == "en"
        pain = (request.pain_points[0] if english and request.pain_points else words["pain_generic"])
        value = (request.value_props[0] if english and request.value_props else words["value_generic"])
        industry = (request.industry or "").lower() if english else (request.industry or "")
        values = {"company": request.company_name or "your company", "industry": industry,
                  "title": request.title or "", "pain": pain, "value": value, "first_name": request.first_name,
                  "subject": request.previous_emails[-1].subject if request.previous_emails else "",
                  "interaction": _interaction(request)}
        parts = [_Part(f"{expected_greeting(request)},", keep=True)]
        parts += self._opening(request, words, values, angle)
        cited_so_far = [f for p in parts for f in p.cites]
        parts += [_Part(self._fact_sentence(words, values, f), keep=True, cites=[f])  # the rep asked for it
                  for f in request.rewrite.mention if f not in cited_so_far]
        parts.append(_Part(words["bridge_pain" if angle == "pain" else "bridge"].format(**values),
                           cites=[f for f in (_fact(request, "industry"),) if f]))
        if request.rewrite.longer:  # optional parts: trimmed first when the voice's length limit is reached
            parts += self._more(request, words, values, [f for p in parts for f in p.cites])
        parts += [_Part(s) for s in request.snippets[:1]]
        if request.rewrite.question:  # the rep asked for it: survives length trimming
            parts.append(_Part(words["ask_question"].format(**values), keep=True))
        if request.slots:
            parts.append(_Part(words["cta_slots"] + "\n" + "\n".join(f"- {s}" for s in request.slots), keep=True))
        else:
            parts.append(_Part(words["cta_question" if angle == "question" else "cta"].format(**values), keep=True))
        sign_off = request.voice.sign_off or words["sign_off"]
        parts.append(_Part(sign_off + (f"\n{request.sender_name}" if request.sender_name else ""), keep=True))
        parts = self._apply_voice(request, parts)
        body = "\n\n".join(p.text for p in parts)
        cited = list(dict.fromkeys(f for p in parts for f in p.cites))
        return EmailVariant(subject=self._subject(request, words, values, angle), body=body,
                            reasoning=_reasoning(request, angle, cited),
                            personalization_notes=_notes(request, angle, cited),
                            citations=[Citation(fact=f"{f.label}: {f.value}", source=f.source) for f in cited])

    def _opening(self, request: DraftRequest, words: dict[str, str], values: dict[str, str], angle: str) -> list[_Part]:
        def fmt(key: str, **extra: str) -> str:
            return words[key].format(**{**values, **extra})

        if request.kind is DraftKind.follow_up and request.previous_emails:
            lead = [_Part(fmt("follow_up"))]
        elif request.kind is DraftKind.nurture:
            lead = [_Part(fmt("nurture"))]
        elif request.kind is DraftKind.reply_handling:
            lead = [_Part(fmt("reply"))]
        else:
            lead = []
        web, employees, tech = (_fact(request, k) for k in ("website", "employees", "technology"))
        industry = _fact(request, "industry")
        if angle == "fact" and web:
            lead.append(_Part(fmt("open_web", quote=web.value[:160]), cites=[web]))
        elif angle == "fact" and employees:
            lead.append(_Part(fmt("open_employees", n=employees.value), cites=[employees]))
        elif angle in ("fact", "question") and tech:
            lead.append(_Part(fmt("open_tech", tech=tech.value), cites=[tech]))
        elif angle == "role" and request.title:
            title = _fact(request, "title")
            lead.append(_Part(fmt("open_role"), cites=[title] if title else []))
        elif angle == "pain" and request.industry:
            lead.append(_Part(fmt("open_pain"), cites=[industry] if industry else []))
        elif request.industry:
            lead.append(_Part(fmt("open_industry"), cites=[industry] if industry else []))
        return lead

    def _more(self, request: DraftRequest, words: dict[str, str], values: dict[str, str],
              cited: list[Fact]) -> list[_Part]:
        """For "longer": one research fact the draft does not use yet, and in English a second benefit."""
        parts = []
        extra = next((f for f in request.facts if f not in cited and f.label != "company"), None)
        if extra is not None:
            parts.append(_Part(self._fact_sentence(words, values, extra), cites=[extra]))
        if request.language == "en" and len(request.value_props) > 1:
            parts.append(_Part(words["value_more"].format(value=request.value_props[1])))
        return parts

    def _fact_sentence(self, words: dict[str, str], values: dict[str, str], fact: Fact) -> str:
        if fact.label == "website":
            return words["open_web"].format(**{**values, "quote": fact.value[:160]})
        if fact.label == "employees":
            return words["open_employees"].format(**{**values, "n": fact.value})
        if fact.label == "technology":
            return words["open_tech"].format(**{**values, "tech": fact.value})
        if fact.label == "title" and values["title"]:
            return words["open_role"].format(**values)
        return words["mention"].format(**{**values, "label": fact.label, "value": fact.value})

    def _subject(self, request: DraftRequest, words: dict[str, str], values: dict[str, str], angle: str) -> str:
        if request.kind in (DraftKind.follow_up, DraftKind.reply_handling) and request.previous_emails:
            subject = request.previous_emails[-1].subject
            return subject if subject.lower().startswith("re:") else f"Re: {subject}"
        if request.kind is DraftKind.nurture:
            return words["subject_nurture"].format(**values)
        key = {"pain": "subject_pain", "question": "subject_question"}.get(angle, "subject_fact")
        text = words[key].format(**values)
        return text[:1].upper() + text[1:]

    def _apply_voice(self, request: DraftRequest, parts: list[_Part]) -> list[_Part]:
        voice = request.voice
        if not voice.use_contractions:
            parts = [_Part(expand_contractions(p.text), p.keep, p.cites) for p in parts]
        banned = [p.strip().lower() for p in voice.prohibited_phrases if p.strip()]
        parts = [p for p in parts if p.keep or not any(b in p.text.lower() for b in banned)]
        limit = voice.max_length or 200
        while sum(len(p.text.split()) for p in parts) > limit:
            optional = [i for i, p in enumerate(parts) if not p.keep]
            if not optional:
                break
            del parts[optional[-1]]
        return parts


def _interaction(request: DraftRequest) -> str:
    context = (request.context or "").strip()
    return context or "last conversation"


def _reasoning(request: DraftRequest, angle: str, cited: list[Fact]) -> str:
    company = request.company_name or "the account"
    why = {
        "fact": f"Leads with a specific fact about {company} so it is clearly written for them.",
        "pain": f"Leads with a typical {request.industry or 'industry'} pain point for a {request.persona} reader.",
        "question": "Ends on a direct question about their priorities, which is easy to answer.",
        "role": f"Speaks to what a {request.title or 'person in this role'} is measured on.",
        "industry": f"Frames the value for {request.industry or 'their'} teams.",
    }[angle]
    kind = {DraftKind.nurture: " Builds on the last interaction.", DraftKind.follow_up: " Refers to the earlier email.",
            DraftKind.reply_handling: " Answers their reply."}.get(request.kind, "")
    sources = f" Rests on: {', '.join(f.source for f in cited)}." if cited else " No research fact was available."
    return f"[offline] {why}{kind}{sources}"


def _notes(request: DraftRequest, angle: str, cited: list[Fact]) -> list[str]:
    notes = [f"greets {request.first_name} by first name"]
    if request.company_name:
        notes.append(f"names the company ({request.company_name})")
    notes += [f"uses {f.label}: {f.value}" for f in cited]
    if request.slots:
        notes.append(f"offers {len(request.slots)} times in the contact's time zone")
    notes.append(f"written in {request.language}; voice: {request.voice.name}")
    return notes
