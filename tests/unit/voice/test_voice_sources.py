"""Voice-training sources beyond text: HubSpot marketing emails (official client, fake HubSpot) and audio
transcribed through an OpenAI-compatible endpoint (official client, fake server)."""

from __future__ import annotations

from core.integrations.hubspot import HubSpotConnector
from core.integrations.transcription import OpenAITranscriber
from core.integrations.youtube import YouTubeTranscripts
from core.services import build_services
from core.voice.training import analyze_samples, collect_samples
from tests.conftest import sqlite_test_settings
from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.openai_server import Reply, running_openai
from tests.fakes.youtube_server import NO_CAPTIONS, running_youtube, session_for

AUDIO = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(2048)  # an MP3 header; the fake does not decode audio
SPRING = "<p>Hi there,</p><p>We're shipping the spring release next week. It's faster and we think you'll love it.</p>"


def connector(hub: FakeHubSpot) -> HubSpotConnector:
    return HubSpotConnector(hub.token, api_base=hub.base_url, timeout=2.0, backoff=0.01, rate_limit_pause=0.01,
                            max_retries=3, max_backoff=0.05)


def test_matching_newsletters_become_one_sample_each_with_their_html_as_text():
    with FakeHubSpot() as hub:
        hub.add_marketing_email("Spring update 2026", "What's new this spring", SPRING)
        hub.add_marketing_email("Webinar invite", "Join our Spring webinar", "<p>Hey folks, join us live!</p>")
        hub.add_marketing_email("Pricing change", "New plans", "<p>Dear customer, prices change.</p>")
        samples, results = collect_samples(newsletters="spring", crm=connector(hub))
    assert [r.ok for r in results] == [True, True]
    assert ["Spring update 2026" in r.source for r in results] == [True, False]
    assert "Join our Spring webinar" not in samples[1].text and "Hey folks, join us live!" in samples[1].text
    assert "<p>" not in samples[0].text and "spring release" in samples[0].text
    assert any(path.startswith("/marketing/v3/emails") for _method, path, _status in hub.requests)


def test_a_search_matching_no_newsletter_fails_on_its_own_line():
    with FakeHubSpot() as hub:
        hub.add_marketing_email("Pricing change", "New plans", "<p>Dear customer, prices change.</p>")
        samples, results = collect_samples(texts=["Hi Sam, it's done."], newsletters="spring", crm=connector(hub))
    assert [r.ok for r in results] == [True, False] and len(samples) == 1
    assert "no marketing email name or subject matches (searched 1)" in results[1].detail


def test_newsletters_without_hubspot_connected_fail_clearly():
    _samples, results = collect_samples(newsletters="spring", crm=None)
    assert not results[0].ok and "HubSpot is not connected (set HUBSPOT_ACCESS_TOKEN)" in results[0].detail


def test_audio_is_transcribed_through_the_official_client_with_the_configured_model():
    with running_openai() as fake:
        transcriber = OpenAITranscriber(base_url=fake.base_url, api_key="sk-test", model="whisper-large-v3")
        samples, results = collect_samples(audio=[("webinar.mp3", AUDIO)], transcriber=transcriber)
    assert results[0].ok and results[0].detail == f"{len(fake.transcript.split())} words transcribed"
    assert samples[0].text == fake.transcript and analyze_samples(samples).uses_contractions
    sent = fake.requests[0]
    assert sent["path"] == "/v1/audio/transcriptions" and sent["body"]["model"] == "whisper-large-v3"
    assert sent["body"]["file"] == {"filename": "webinar.mp3", "size": len(AUDIO),
                                    "content_type": "audio/mpeg"}


def test_a_transcription_endpoint_error_fails_that_file_with_the_vendor_message():
    with running_openai() as fake:
        fake.queue(Reply(status=400, error_type="invalid_request_error",
                         error_message="Invalid file format. Supported formats: ['flac', 'mp3']"))
        transcriber = OpenAITranscriber(base_url=fake.base_url, api_key="sk-test", max_attempts=1)
        _samples, results = collect_samples(audio=[("notes.mp3", AUDIO)], transcriber=transcriber)
    assert not results[0].ok
    assert results[0].detail == "the transcription endpoint answered 400: Invalid file format. Supported formats: " \
                                "['flac', 'mp3']"


def test_a_rate_limited_transcription_is_retried_then_succeeds():
    with running_openai() as fake:
        fake.queue(Reply(status=429, headers={"retry-after": "0"}, error_type="requests",
                         error_code="rate_limit_exceeded", error_message="Rate limit reached"))
        transcriber = OpenAITranscriber(base_url=fake.base_url, api_key="sk-test", max_attempts=2)
        assert transcriber.transcribe("call.m4a", AUDIO) == fake.transcript
    assert len(fake.requests) == 2


def test_audio_without_an_openai_compatible_endpoint_says_transcription_needs_one():
    _samples, results = collect_samples(audio=[("webinar.mp3", AUDIO)], transcriber=None)
    assert not results[0].ok and results[0].detail.startswith("transcription needs an OpenAI-compatible endpoint")


def test_the_transcriber_is_built_only_when_an_endpoint_is_configured(tmp_path):
    offline = build_services(sqlite_test_settings(tmp_path / "a"))
    online = build_services(sqlite_test_settings(tmp_path / "b", openai_base_url="http://127.0.0.1:9/v1",
                                                 openai_model_transcription="whisper-large-v3"))
    try:
        assert "transcriber" not in offline.connectors
        assert online.connectors["transcriber"].label == "OpenAI-compatible transcription (whisper-large-v3)"
    finally:
        offline.dispose()
        online.dispose()


def test_a_video_without_captions_suggests_supplying_its_audio_file():
    with running_youtube() as fake:
        client = YouTubeTranscripts(http_client=session_for(fake))
        _samples, results = collect_samples(videos=[NO_CAPTIONS], transcripts=client.transcript)
    assert "no captions" in results[0].detail and "supply the video's audio file instead" in results[0].detail
