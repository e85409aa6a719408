"""Voice Training page: HubSpot newsletters and audio uploads as samples, each with its ✅/❌ line."""

from __future__ import annotations

from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.openai_server import running_openai

PAGE = "pages/Voice_Training.py"
AUDIO = b"ID3" + bytes(1024)


def analyse(at, name, *, newsletters="", audio=()):
    at.text_input(key="voice_profile_name").input(name)
    at.text_input(key="voice_newsletters").input(newsletters)
    for file_name, content in audio:
        at.file_uploader(key="voice_audio").upload(file_name, content, "audio/mpeg")
    return at.button(key="voice_analyse").click().run()


def test_newsletters_found_in_hubspot_are_analysed_one_line_each(demo_services, open_page, text_of, monkeypatch):
    with FakeHubSpot() as hub:
        hub.add_marketing_email("Spring update", "What's new", "<p>Hey folks, we're shipping it next week!</p>")
        hub.add_marketing_email("Pricing", "New plans", "<p>Dear customer, prices change.</p>")
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
        monkeypatch.setenv("HUBSPOT_API_BASE", hub.base_url)
        at = analyse(open_page(PAGE), "News", newsletters="spring")
    text = text_of(at)
    assert "✅ newsletter 'Spring update'" in text and "Pricing" not in text and "Analysis" in text


def test_newsletters_without_hubspot_fail_clearly(demo_services, open_page, text_of, monkeypatch):
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    at = open_page(PAGE)
    assert "HubSpot is not connected: its marketing emails cannot be used until it is." in text_of(at)
    at = analyse(at, "News", newsletters="spring")
    assert "❌ HubSpot newsletters matching 'spring': HubSpot is not connected" in text_of(at)


def test_an_uploaded_audio_file_is_transcribed_by_the_configured_endpoint(demo_services, open_page, text_of,
                                                                          monkeypatch):
    with running_openai() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        at = analyse(open_page(PAGE), "Talk", audio=[("webinar.mp3", AUDIO)])
    assert f"✅ webinar.mp3: {len(fake.transcript.split())} words transcribed" in text_of(at)


def test_an_uploaded_audio_file_offline_says_transcription_needs_an_endpoint(demo_services, open_page, text_of,
                                                                             monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    at = analyse(open_page(PAGE), "Talk", audio=[("webinar.mp3", AUDIO)])
    assert "❌ webinar.mp3: transcription needs an OpenAI-compatible endpoint" in text_of(at)
