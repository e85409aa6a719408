"""Voice training: samples (pasted text, files, YouTube captions, HubSpot marketing emails, transcribed audio)
→ measured style → a voice profile version.

Metrics are always computed here; when a model endpoint is configured it adds style notes on top.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import BaseModel
from sqlalchemy import select

from core.auth.actor import Actor
from core.auth.permissions import CREATE, require
from core.errors import ConnectorError, SalesAgentError, ValidationFailed
from core.integrations.base import LanguageModel, MarketingEmail, Transcriber
from core.services import Services
from core.voice import service as voice
from core.voice.models import Tone, VoiceProfile
from core.voice.schemas import VoiceProfileInput, VoiceProfileView

SAMPLE_SUFFIXES = (".txt", ".md", ".html", ".htm", ".eml")
MAX_SAMPLE_CHARS = 200_000
_CONTRACTION = re.compile(r"\b\w+['’](t|re|ve|ll|d|m|s)\b", re.IGNORECASE)
_EXPANDABLE = re.compile(r"\b(do not|does not|is not|are not|can not|cannot|will not|i am|we are|you are|it is|"
                         r"that is|i would|we will|i will)\b", re.IGNORECASE)
_GREETING = re.compile(r"^(hi|hello|hey|dear|good (morning|afternoon)|hola|hallo|bonjour|greetings)\b[^\n]{0,40}",
                       re.IGNORECASE | re.MULTILINE)
_SIGN_OFF = re.compile(r"^(best|best regards|kind regards|regards|cheers|thanks|thank you|warmly|sincerely|"
                       r"talk soon|all the best|saludos|viele grüße|cordialement)[,!.]?\s*$",
                       re.IGNORECASE | re.MULTILINE)
_CASUAL = re.compile(r"\b(hey|awesome|cool|gonna|wanna|super|stuff|folks|guys|yeah|btw)\b|!", re.IGNORECASE)
_FORMAL = re.compile(r"\b(dear|sincerely|furthermore|therefore|regarding|pursuant|kindly|hereby|accordingly|"
                     r"respectfully)\b", re.IGNORECASE)
CLICHES = ("circle back", "touch base", "synergy", "low-hanging fruit", "just checking in", "hope this finds you well",
           "per my last email", "game changer", "reach out", "quick question")
_STOP = {"the", "a", "an", "and", "or", "to", "of", "in", "on", "for", "is", "it", "that", "this", "with", "we", "you",
         "i", "be", "are", "at", "as", "our", "your", "so", "if", "but", "was", "from", "have", "has", "they"}


@dataclass(frozen=True)
class Sample:
    source: str  # file path, URL or "pasted text"
    text: str


@dataclass(frozen=True)
class SourceResult:
    source: str
    ok: bool
    detail: str  # word count, or why it failed


class VoiceAnalysis(BaseModel):
    samples: int
    words: int
    tone: Tone
    formality: float  # 0 casual … 1 formal
    average_sentence_length: float
    uses_contractions: bool
    contraction_rate: float  # contractions per 100 words
    greetings: list[str]
    sign_offs: list[str]
    common_phrases: list[str]
    prohibited_patterns: list[str]  # clichés the writer never uses: keep them out of drafts
    readability: float  # Flesch reading ease, 0–100 (higher reads easier)
    style_notes: list[str]


@runtime_checkable
class MarketingEmailSource(Protocol):
    """The part of the CRM connector voice training reads (HubSpot's marketing emails)."""

    def marketing_emails(self, *, limit: int = 50) -> list[MarketingEmail]: ...


NEWSLETTER_SCAN_LIMIT = 500  # HubSpot has no name/subject filter on marketing emails: we page and match here
MAX_NEWSLETTERS = 50
MAX_AUDIO_BYTES = 25 * 1024 * 1024  # the OpenAI transcription upload limit
NO_TRANSCRIBER = "transcription needs an OpenAI-compatible endpoint (set OPENAI_BASE_URL or OPENAI_API_KEY)"
NO_HUBSPOT = "HubSpot is not connected (set HUBSPOT_ACCESS_TOKEN) so its marketing emails cannot be read"


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("p", "br", "div", "li", "tr"):
            self.parts.append("\n")


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\n\s*\n+", "\n\n", "".join(parser.parts)).strip()


def _email_body(raw: str) -> str:
    """The readable body of an .eml: its text/plain part, else its HTML part as text; never the headers."""
    message = email.message_from_string(raw, policy=email.policy.default)
    if not isinstance(message, EmailMessage):
        return raw
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content() if isinstance(part, EmailMessage) else ""
    return html_to_text(content) if part.get_content_type() == "text/html" else str(content)


def read_sample_text(name: str, text: str) -> Sample:
    """A sample from a file's text, by its suffix: HTML and .eml bodies become plain text."""
    suffix = Path(name).suffix.lower()
    if suffix not in SAMPLE_SUFFIXES:
        raise ValidationFailed(f"{Path(name).name}: unsupported file type (use {', '.join(SAMPLE_SUFFIXES)})")
    text = text[:MAX_SAMPLE_CHARS]
    if suffix in (".html", ".htm"):
        text = html_to_text(text)
    elif suffix == ".eml":
        text = _email_body(text)
    if not text.strip():
        raise ValidationFailed(f"{Path(name).name} is empty")
    return Sample(source=name, text=text)


def read_sample_file(path: Path) -> Sample:
    if path.suffix.lower() not in SAMPLE_SUFFIXES:
        raise ValidationFailed(f"{path.name}: unsupported file type (use {', '.join(SAMPLE_SUFFIXES)})")
    return read_sample_text(str(path), path.read_text(encoding="utf-8", errors="replace")[:MAX_SAMPLE_CHARS])


def _syllables(word: str) -> int:
    groups = re.findall(r"[aeiouyáéíóúàèìòùäöüâêîôû]+", word.lower())
    return max(1, len(groups) - (1 if word.lower().endswith("e") and len(groups) > 1 else 0))


def analyze_samples(samples: Sequence[Sample], llm: LanguageModel | None = None) -> VoiceAnalysis:
    if not samples:
        raise ValidationFailed("voice training needs at least one sample")
    text = "\n\n".join(s.text for s in samples)
    words = re.findall(r"[A-Za-zÀ-ÿ'’]+", text)
    sentences = [s for s in re.split(r"[.!?]+\s|\n{2,}", text) if len(s.split()) >= 2]
    n_words, n_sentences = max(1, len(words)), max(1, len(sentences))
    avg_sentence = round(n_words / n_sentences, 1)
    contractions = len(_CONTRACTION.findall(text))
    expandable = len(_EXPANDABLE.findall(text))
    rate = round(100 * contractions / n_words, 2)
    casual, formal = len(_CASUAL.findall(text)), len(_FORMAL.findall(text))
    formality = 0.5 + 0.25 * (expandable - contractions) / max(1, expandable + contractions) \
        + 0.25 * (formal - casual) / max(1, formal + casual)
    formality = round(min(1.0, max(0.0, formality)), 2)
    tone = Tone.formal if formality >= 0.7 else Tone.casual if formality <= 0.35 else Tone.professional
    greetings = [g for g, _ in Counter(m.group(0).strip().rstrip(",") for m in _GREETING.finditer(text)).most_common(3)]
    greetings = [re.sub(r"\s+\w+$", "", g) if len(g.split()) > 1 else g for g in greetings]
    sign_offs = [s for s, _ in Counter(m.group(0).strip() for m in _SIGN_OFF.finditer(text)).most_common(3)]
    lower = [w.lower() for w in words]
    grams = Counter(" ".join(lower[i:i + 3]) for i in range(len(lower) - 2)
                    if not {lower[i], lower[i + 2]} <= _STOP)
    common = [g for g, c in grams.most_common(8) if c >= 2][:5]
    prohibited = [c for c in CLICHES if c not in text.lower()]
    syllables = sum(_syllables(w) for w in words)
    readability = round(min(100.0, max(0.0, 206.835 - 1.015 * avg_sentence - 84.6 * syllables / n_words)), 1)
    computed = [f"Tone: {tone.value} (formality {formality})", f"Average sentence: {avg_sentence} words",
                f"Contractions: {'yes' if contractions > expandable else 'no'} ({rate} per 100 words)",
                f"Readability (Flesch): {readability}"]
    notes = computed
    if llm is not None and not llm.offline:
        try:
            notes = computed + llm.style_notes([s.text[:4000] for s in samples], computed).notes
        except ConnectorError:
            notes = [*computed, "(model style notes unavailable; computed metrics only)"]
    return VoiceAnalysis(samples=len(samples), words=len(words), tone=tone, formality=formality,
                         average_sentence_length=avg_sentence, uses_contractions=contractions > expandable,
                         contraction_rate=rate, greetings=greetings, sign_offs=sign_offs, common_phrases=common,
                         prohibited_patterns=prohibited, readability=readability, style_notes=notes)


def collect_samples(*, texts: Iterable[str] = (), files: Iterable[Path] = (), videos: Iterable[str] = (),
                    uploads: Iterable[tuple[str, bytes]] = (), transcripts: Callable[[str], str] | None = None,
                    newsletters: str | None = None, crm: object | None = None,
                    audio: Iterable[tuple[str, bytes]] = (), transcriber: object | None = None,
                    progress: Callable[[SourceResult], None] | None = None) -> tuple[list[Sample], list[SourceResult]]:
    """Every source is tried; each yields one ✅/❌ result, and failures do not stop the others.

    ``newsletters`` is a search over HubSpot marketing emails' names and subjects (``crm`` is the connector);
    ``audio`` files are transcribed by ``transcriber`` (an OpenAI-compatible endpoint).
    """
    samples: list[Sample] = []
    results: list[SourceResult] = []

    def done(result: SourceResult, sample: Sample | None = None) -> None:
        results.append(result)
        if sample is not None:
            samples.append(sample)
        if progress is not None:
            progress(result)

    for n, text in enumerate(texts, 1):
        source = f"pasted text {n}"
        if text.strip():
            done(SourceResult(source, True, f"{len(text.split())} words"), Sample(source, text[:MAX_SAMPLE_CHARS]))
        else:
            done(SourceResult(source, False, "empty"))
    for path in files:
        try:
            sample = read_sample_file(path)
            done(SourceResult(str(path), True, f"{len(sample.text.split())} words"), sample)
        except (OSError, SalesAgentError) as exc:
            done(SourceResult(str(path), False, getattr(exc, "message", str(exc))))
    for name, data in uploads:
        try:
            sample = read_sample_text(name, data.decode("utf-8", errors="replace"))
            done(SourceResult(name, True, f"{len(sample.text.split())} words"), sample)
        except SalesAgentError as exc:
            done(SourceResult(name, False, exc.message))
    for url in videos:
        if transcripts is None:
            done(SourceResult(url, False, "no YouTube client configured"))
            continue
        try:
            text = transcripts(url)
            done(SourceResult(url, True, f"{len(text.split())} words of captions"), Sample(url, text))
        except SalesAgentError as exc:
            detail = exc.message
            if getattr(exc, "code", "") == "no_captions":
                detail += ": supply the video's audio file instead (--audio FILE or the audio upload) to transcribe it"
            done(SourceResult(url, False, detail))
    for name, data in audio:
        done(*transcribe_audio(name, data, transcriber))
    if newsletters is not None:
        for outcome in newsletter_samples(newsletters, crm):
            done(*outcome)
    return samples, results


def transcribe_audio(name: str, data: bytes, transcriber: object | None) -> tuple[SourceResult, Sample | None]:
    if not isinstance(transcriber, Transcriber):
        return SourceResult(name, False, NO_TRANSCRIBER), None
    if not data:
        return SourceResult(name, False, "empty audio file"), None
    if len(data) > MAX_AUDIO_BYTES:
        return SourceResult(name, False, f"audio file is {len(data) // (1024 * 1024)} MB; the limit is 25 MB"), None
    try:
        text = transcriber.transcribe(name, data)
    except SalesAgentError as exc:
        return SourceResult(name, False, exc.message), None
    if not text.strip():
        return SourceResult(name, False, "no speech found in the audio"), None
    return SourceResult(name, True, f"{len(text.split())} words transcribed"), Sample(name, text[:MAX_SAMPLE_CHARS])


def newsletter_samples(query: str, crm: object | None) -> list[tuple[SourceResult, Sample | None]]:
    """One sample per HubSpot marketing email whose name or subject contains the query (case-insensitive)."""
    source = f"HubSpot newsletters matching {query.strip()!r}"
    if not query.strip():
        return [(SourceResult("HubSpot newsletters", False, "give a search (name or subject words)"), None)]
    if not isinstance(crm, MarketingEmailSource):
        return [(SourceResult(source, False, NO_HUBSPOT), None)]
    try:
        emails = crm.marketing_emails(limit=NEWSLETTER_SCAN_LIMIT)
    except SalesAgentError as exc:
        return [(SourceResult(source, False, exc.message), None)]
    needle = query.strip().lower()
    matches = [e for e in emails if needle in (e.name or "").lower() or needle in (e.subject or "").lower()]
    if not matches:
        return [(SourceResult(source, False, f"no marketing email name or subject matches (searched {len(emails)})"),
                 None)]
    out: list[tuple[SourceResult, Sample | None]] = []
    for email_ in matches[:MAX_NEWSLETTERS]:
        label = f"newsletter {email_.name!r} (HubSpot {email_.id})"
        if not email_.text.strip():
            out.append((SourceResult(label, False, "the email has no text"), None))
        else:
            out.append((SourceResult(label, True, f"{len(email_.text.split())} words"),
                        Sample(label, email_.text[:MAX_SAMPLE_CHARS])))
    return out


def save_trained_profile(services: Services, *, actor: Actor, name: str, analysis: VoiceAnalysis,
                         language: str = "en") -> VoiceProfileView:
    """Create the profile, or add a version to the actor's existing profile of that name."""
    require(actor, "voice_profiles", CREATE)
    values = {"tone": analysis.tone, "use_contractions": analysis.uses_contractions,
              "style_notes": "; ".join(analysis.style_notes)[:2000],
              "greeting": (analysis.greetings[0] + " {first_name},") if analysis.greetings else None,
              "sign_off": analysis.sign_offs[0] if analysis.sign_offs else None,
              "prohibited_phrases": analysis.prohibited_patterns, "language": language,
              "max_length": max(60, min(250, int(analysis.average_sentence_length * 8)))}
    with services.uow() as uow:
        existing = uow.session.scalar(select(VoiceProfile.id).where(
            VoiceProfile.owner_id == actor.user_id, VoiceProfile.name == name))
    if existing is None:
        return voice.create_voice_profile(services.uow(), actor=actor, data=VoiceProfileInput(name=name, **values))
    return voice.revise_voice_profile(services.uow(), actor=actor, profile_id=existing, changes=values)
