"""The contact's language from its data: the language field, then earlier replies, then the country.

Replies are classified offline by py3langid, whose model ships inside its wheel (lingua's wheel is ~96 MB,
langdetect is non-deterministic unless seeded); the candidates are limited to languages we may write in.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cache
from typing import Any

from pydantic import BaseModel

DRAFTING_LANGUAGES = ("en", "es", "de", "fr")
_DETECTABLE = ["en", "es", "de", "fr", "it", "pt", "nl"]
MIN_CONFIDENCE = 0.80
MIN_REPLY_CHARS = 12
_lock = threading.Lock()

_COUNTRY_LANGUAGE = {
    **dict.fromkeys(["es", "spain", "españa", "mexico", "méxico", "mx", "argentina", "ar", "colombia", "co",
                     "chile", "cl", "peru", "perú", "pe", "uruguay", "venezuela", "ecuador"], "es"),
    **dict.fromkeys(["de", "germany", "deutschland", "austria", "österreich", "at"], "de"),
    **dict.fromkeys(["fr", "france", "monaco", "luxembourg", "lu"], "fr"),
    **dict.fromkeys(["us", "usa", "united states", "uk", "gb", "united kingdom", "ie", "ireland", "au",
                     "australia", "ca", "canada", "nz", "new zealand"], "en"),
}


class DetectedLanguage(BaseModel):
    code: str  # ISO 639-1
    source: str  # "contact.language", "earlier replies", "contact.country" or "default"
    supported: bool  # whether the offline composer and the prompts cover it


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(_DETECTABLE)
    return identifier


def detect_text_language(text: str) -> tuple[str, float] | None:
    """Best language and its probability, or None when the text is too short to say."""
    if len(text.strip()) < MIN_REPLY_CHARS:
        return None
    with _lock:  # the identifier is not documented as thread-safe
        code, probability = _identifier().classify(text)
    return str(code), float(probability)


def contact_language(*, language: str | None, country: str | None,
                     earlier_replies: Sequence[str] = ()) -> DetectedLanguage:
    if language:
        code = language.strip().lower().replace("_", "-").split("-")[0]
        return DetectedLanguage(code=code, source="contact.language", supported=code in DRAFTING_LANGUAGES)
    joined = "\n".join(r for r in earlier_replies if r.strip())
    detected = detect_text_language(joined) if joined else None
    if detected and detected[1] >= MIN_CONFIDENCE:
        return DetectedLanguage(code=detected[0], source="earlier replies",
                                supported=detected[0] in DRAFTING_LANGUAGES)
    by_country = _COUNTRY_LANGUAGE.get((country or "").strip().lower())
    if by_country:
        return DetectedLanguage(code=by_country, source="contact.country", supported=True)
    return DetectedLanguage(code="en", source="default", supported=True)
