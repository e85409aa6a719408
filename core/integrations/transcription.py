"""Audio transcription (Whisper-style) through the official openai client's audio.transcriptions endpoint."""

from __future__ import annotations

from pathlib import Path

import openai

from core.errors import ConnectorError
from core.integrations.llm import _error_message, _retryable

CONNECTOR = "transcription"
# OpenAI refuses uploads over 25 MB; refusing here saves the user the upload.
MAX_AUDIO_BYTES = 25 * 1024 * 1024
AUDIO_SUFFIXES = (".mp3", ".mp4", ".mpeg", ".mpga", ".m4a", ".wav", ".webm", ".ogg", ".flac")


class OpenAITranscriber:
    """Transcriber over any OpenAI-compatible endpoint serving /audio/transcriptions."""

    def __init__(self, *, base_url: str | None, api_key: str, model: str = "whisper-1", timeout: float = 30.0,
                 max_attempts: int = 4) -> None:
        # No token budget is counted per attempt here, so the client's own backoff (Retry-After aware) is fine.
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=max(0, max_attempts - 1),
                                     timeout=timeout)
        self.model = model

    @property
    def label(self) -> str:
        return f"OpenAI-compatible transcription ({self.model})"

    def transcribe(self, filename: str, audio: bytes) -> str:
        name = Path(filename).name
        try:
            result = self._client.audio.transcriptions.create(model=self.model, file=(name, audio))
        except openai.APITimeoutError as exc:
            raise ConnectorError("the transcription endpoint timed out", connector=CONNECTOR,
                                 retryable=True) from exc
        except openai.APIConnectionError as exc:
            raise ConnectorError(f"cannot reach the transcription endpoint: {exc}", connector=CONNECTOR,
                                 retryable=True) from exc
        except openai.APIStatusError as exc:
            raise ConnectorError(f"the transcription endpoint answered {exc.status_code}: {_error_message(exc)}",
                                 connector=CONNECTOR, retryable=_retryable(exc), status=exc.status_code) from exc
        return str(result.text).strip()
