"""`sales-agent voice train --newsletters/--audio` as a user runs them: fake HubSpot and a fake OpenAI-compatible
server reached through the official clients, configured by environment like a deployment."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.openai_server import running_openai
from tests.integration.test_cli_ai import app, cli_db  # noqa: F401  (the fixture and the commands as registered)

pytestmark = pytest.mark.usefixtures("cli_db")

SPRING = "<p>Hi there,</p><p>We're shipping the spring release next week. It's faster and you'll love it.</p>"


@pytest.fixture(autouse=True)
def no_hubspot(monkeypatch):
    for name in ("HUBSPOT_ACCESS_TOKEN", "HUBSPOT_API_BASE"):
        monkeypatch.delenv(name, raising=False)


def test_newsletters_matching_the_search_train_the_profile_one_line_each(monkeypatch):
    with FakeHubSpot() as hub:
        hub.add_marketing_email("Spring update", "What's new", SPRING)
        hub.add_marketing_email("Spring webinar", "Join us", "<p>Hey folks, join us live! We're excited.</p>")
        hub.add_marketing_email("Pricing", "New plans", "<p>Dear customer, prices change.</p>")
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hub.token)
        monkeypatch.setenv("HUBSPOT_API_BASE", hub.base_url)
        result = CliRunner().invoke(app, ["voice", "train", "--newsletters", "Spring", "--profile-name", "News"])
    assert result.exit_code == 0, result.output
    assert "✅ newsletter 'Spring update'" in result.output and "✅ newsletter 'Spring webinar'" in result.output
    assert "Pricing" not in result.output and "Voice profile 'News' is at version 1" in result.output


def test_newsletters_without_hubspot_connected_say_so():
    result = CliRunner().invoke(app, ["voice", "train", "--newsletters", "Spring", "--profile-name", "News"])
    assert result.exit_code != 0
    assert "❌ HubSpot newsletters matching 'Spring': HubSpot is not connected (set HUBSPOT_ACCESS_TOKEN)" \
        in result.output


def test_an_audio_file_is_transcribed_by_the_configured_endpoint(monkeypatch, tmp_path):
    audio = tmp_path / "webinar.mp3"
    audio.write_bytes(b"ID3" + bytes(1024))
    with running_openai() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        result = CliRunner().invoke(app, ["voice", "train", "--audio", str(audio), "--profile-name", "Talk"])
    assert result.exit_code == 0, result.output
    assert f"✅ {audio}: {len(fake.transcript.split())} words transcribed" in result.output
    assert fake.requests[0]["body"]["model"] == "whisper-1"


def test_an_audio_file_offline_says_transcription_needs_an_endpoint(tmp_path):
    audio = tmp_path / "webinar.mp3"
    audio.write_bytes(b"ID3" + bytes(1024))
    result = CliRunner().invoke(app, ["voice", "train", "--audio", str(audio), "--profile-name", "Talk"])
    assert f"❌ {audio}: transcription needs an OpenAI-compatible endpoint" in result.output
