"""Checks run on every generated variant: the voice's rules, and statements the inputs do not support."""

from __future__ import annotations

import re

from pydantic import BaseModel

from core.ai.schemas import DraftRequest, EmailVariant

DEFAULT_MAX_WORDS = 200
GREETING_WORD = {"en": "Hi", "es": "Hola", "de": "Hallo", "fr": "Bonjour"}
# Possessive "'s" is not a contraction, so only pronoun forms of 's count.
_CONTRACTION = re.compile(r"\b(\w+n['’]t|\w+['’](re|ve|ll|d|m)|(it|that|there|here|what|let|he|she|who)['’]s)\b",
                          re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w])[$€£]?\d[\d,.:]*%?")
_URL = re.compile(r"https?://[^\s)>\]]+", re.IGNORECASE)
_PROPER = re.compile(r"(?<![.!?\n]\s)(?<![.!?\n])(?<!^)\b([A-Z][a-zà-ÿ]+(?:\s+[A-Z][a-zà-ÿ]+)*)")
_CLAIMS = re.compile(r"\b(guarantee[sd]?|proven|#1|number one|best[- ]in[- ]class|industry[- ]leading|"
                     r"trusted by|award[- ]winning|\d+x)\b", re.IGNORECASE)
_COMMON_CAPITALISED = {
    "I", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January", "February",
    "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
    "UTC", "CET", "CEST", "EST", "EDT", "PST", "PDT", "GMT", "BST", "Best", "Thanks", "Cheers", "Regards",
}
FIXABLE = frozenset({"too_long", "contractions", "prohibited_phrase", "greeting"})


class Violation(BaseModel):
    code: str
    message: str

    @property
    def fixable(self) -> bool:
        return self.code in FIXABLE


def expected_greeting(request: DraftRequest) -> str:
    """"Hi <first name>" (or the voice's own greeting, or the language's word for Hi)."""
    if request.voice.greeting:
        return request.voice.greeting.replace("{first_name}", request.first_name).rstrip(",!. ")
    return f"{GREETING_WORD.get(request.language, 'Hi')} {request.first_name}"


def support_corpus(request: DraftRequest) -> str:
    """Trusted inputs only: untrusted notes and inbound text cannot make a statement "supported"."""
    parts = [request.first_name, request.company_name or "", request.title or "", request.industry or "",
             request.sender_name or "", request.context or "", request.voice.sign_off or "",
             request.voice.greeting or "", *request.slots, *request.value_props, *request.pain_points,
             *request.snippets, request.recommended_angle or ""]
    parts += [f"{f.label} {f.value}" for f in request.facts]
    parts += [f"{e.subject} {e.body}" for e in request.previous_emails if e.direction == "outbound"]
    return "\n".join(parts).lower()


def _digits(token: str) -> str:
    return re.sub(r"[^\d]", "", token)


def unsupported_statements(body: str, request: DraftRequest) -> list[str]:
    corpus = support_corpus(request)
    corpus_digits = " ".join(_digits(n) for n in _NUMBER.findall(corpus))
    found: list[str] = []
    for number in _NUMBER.findall(body):
        if _digits(number) and _digits(number) not in corpus_digits:
            found.append(f"number {number!r}")
    for url in _URL.findall(body):
        if url.lower().rstrip(".,") not in corpus:
            found.append(f"link {url!r}")
    if request.language != "de":  # German capitalises every noun
        for name in _PROPER.findall(_URL.sub(" ", body)):
            if name not in _COMMON_CAPITALISED and name.lower() not in corpus:
                found.append(f"name {name!r}")
    for claim in _CLAIMS.findall(body):
        if claim.lower() not in corpus:
            found.append(f"claim {claim!r}")
    return list(dict.fromkeys(found))


def check_variant(variant: EmailVariant, request: DraftRequest) -> list[Violation]:
    voice, body = request.voice, variant.body
    violations: list[Violation] = []
    limit = voice.max_length or DEFAULT_MAX_WORDS
    if (words := len(body.split())) > limit:
        violations.append(Violation(code="too_long", message=f"{words} words, the voice allows {limit}"))
    if not voice.use_contractions and request.language == "en":
        used = sorted({m.group(0) for m in _CONTRACTION.finditer(body)})
        if used:
            violations.append(Violation(code="contractions", message="contractions are off: " + ", ".join(used)))
    text = f"{variant.subject}\n{body}".lower()
    for phrase in voice.prohibited_phrases:
        if phrase.strip() and phrase.strip().lower() in text:
            violations.append(Violation(code="prohibited_phrase", message=f'uses the prohibited phrase "{phrase}"'))
    greeting = expected_greeting(request)
    if not body.lstrip().lower().startswith(greeting.lower()):
        violations.append(Violation(code="greeting", message=f'must open with "{greeting}"'))
    for statement in unsupported_statements(body, request):
        violations.append(Violation(code="unsupported", message=f"{statement} appears in none of the inputs"))
    return violations
