"""YouTube captions through the official youtube-transcript-api client (requests underneath)."""

from __future__ import annotations

import re

import requests
from youtube_transcript_api import (
    CouldNotRetrieveTranscript,
    IpBlocked,
    RequestBlocked,
    TranscriptsDisabled,
    YouTubeRequestFailed,
    YouTubeTranscriptApi,
)

from core.errors import ConnectorError, ValidationFailed

CONNECTOR = "youtube"
_ID = re.compile(r"(?:v=|youtu\.be/|/shorts/|/embed/|/live/)([A-Za-z0-9_-]{11})|^([A-Za-z0-9_-]{11})$")


def video_id(url_or_id: str) -> str:
    match = _ID.search(url_or_id.strip())
    if match is None:
        raise ValidationFailed(f"not a YouTube video URL or id: {url_or_id!r}")
    return match.group(1) or match.group(2)


class NoCaptions(ConnectorError):
    """The video has no captions; transcription of its audio is the only way to its words."""

    code = "no_captions"


class YouTubeTranscripts:
    """``http_client`` lets deployments (egress proxies) and tests choose the requests Session."""

    label = "youtube-transcript-api"

    def __init__(self, http_client: requests.Session | None = None,
                 languages: tuple[str, ...] = ("en", "es", "de", "fr")) -> None:
        self._api = YouTubeTranscriptApi(http_client=http_client)
        self._languages = languages

    def transcript(self, url_or_id: str) -> str:
        vid = video_id(url_or_id)
        try:
            fetched = self._api.fetch(vid, languages=self._languages)
        except TranscriptsDisabled as exc:
            raise NoCaptions(f"video {vid} has no captions", connector=CONNECTOR, retryable=False) from exc
        except (IpBlocked, RequestBlocked) as exc:
            raise ConnectorError(f"YouTube blocked the request for {vid}", connector=CONNECTOR,
                                 retryable=True) from exc
        except YouTubeRequestFailed as exc:
            raise ConnectorError(f"YouTube request failed for {vid}: {exc.reason}", connector=CONNECTOR,
                                 retryable=True) from exc
        except CouldNotRetrieveTranscript as exc:
            raise ConnectorError(f"no transcript for {vid}: {type(exc).__name__}", connector=CONNECTOR,
                                 retryable=False) from exc
        except requests.RequestException as exc:
            raise ConnectorError(f"cannot reach YouTube: {exc}", connector=CONNECTOR, retryable=True) from exc
        return " ".join(snippet.text.replace("\n", " ") for snippet in fetched)
