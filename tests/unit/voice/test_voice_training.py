"""Voice training: samples from text, files and YouTube (official client, local fake), metrics, profiles."""

from __future__ import annotations

import pytest

from core.errors import ValidationFailed
from core.integrations.youtube import NoCaptions, YouTubeTranscripts, video_id
from core.voice.models import Tone
from core.voice.training import Sample, analyze_samples, collect_samples, save_trained_profile
from tests.fakes.youtube_server import CAPTIONED, NO_CAPTIONS, running_youtube, session_for

CASUAL = ("Hey Sam,\n\nThanks so much! I'm super excited about this. We're gonna ship it next week, and it's "
          "going to be awesome. Don't worry about the details.\n\nCheers,\nRiley")
FORMAL = ("Dear Mr. Smith,\n\nRegarding your request, we are pleased to confirm the arrangement. Furthermore, we "
          "do not anticipate any delay. Kindly confirm receipt of this letter.\n\nSincerely,\nRiley")


def test_casual_writing_is_measured_as_casual_with_contractions():
    analysis = analyze_samples([Sample("pasted", CASUAL)])
    assert analysis.tone is Tone.casual and analysis.formality <= 0.35 and analysis.uses_contractions
    assert analysis.greetings == ["Hey"] and analysis.sign_offs == ["Cheers,"]
    assert 0 <= analysis.readability <= 100 and analysis.average_sentence_length > 0
    assert "circle back" in analysis.prohibited_patterns


def test_formal_writing_is_measured_as_formal_without_contractions():
    analysis = analyze_samples([Sample("pasted", FORMAL)])
    assert analysis.tone is Tone.formal and analysis.formality >= 0.7 and not analysis.uses_contractions


def test_no_samples_is_refused():
    with pytest.raises(ValidationFailed):
        analyze_samples([])


def test_video_ids_from_urls():
    assert video_id("https://www.youtube.com/watch?v=GJLlxj_dtq8&t=3") == "GJLlxj_dtq8"
    assert video_id("https://youtu.be/GJLlxj_dtq8") == "GJLlxj_dtq8"


def test_youtube_captions_come_through_the_official_client_over_http():
    with running_youtube() as fake:
        text = YouTubeTranscripts(http_client=session_for(fake)).transcript(f"https://youtu.be/{CAPTIONED}")
        assert text.startswith("Hey, this is just a test")
        assert any(p.startswith("/watch") for p in fake.paths) and any("/api/timedtext" in p for p in fake.paths)


def test_a_video_without_captions_fails_clearly():
    with running_youtube() as fake, pytest.raises(NoCaptions):
        YouTubeTranscripts(http_client=session_for(fake)).transcript(NO_CAPTIONS)


def test_each_source_reports_success_or_failure_and_failures_do_not_stop_training(tmp_path):
    good = tmp_path / "newsletter.html"
    good.write_text("<p>Hi team,</p><p>" + CASUAL + "</p>", encoding="utf-8")
    bad = tmp_path / "deck.pdf"
    bad.write_bytes(b"%PDF")
    seen = []
    with running_youtube() as fake:
        client = YouTubeTranscripts(http_client=session_for(fake))
        samples, results = collect_samples(texts=[FORMAL], files=[good, bad], videos=[CAPTIONED, NO_CAPTIONS],
                                           transcripts=client.transcript, progress=seen.append)
    assert [r.ok for r in results] == [True, True, False, True, False]
    assert len(samples) == 3 and seen == results
    assert "unsupported file type" in results[2].detail and "no captions" in results[4].detail


def test_a_profile_is_created_then_versioned_from_analyses(services, rep):
    first = save_trained_profile(services, actor=rep, name="Riley", analysis=analyze_samples([Sample("a", CASUAL)]))
    assert first.version == 1 and first.tone is Tone.casual and first.greeting == "Hey {first_name},"
    second = save_trained_profile(services, actor=rep, name="Riley", analysis=analyze_samples([Sample("b", FORMAL)]))
    assert second.id == first.id and second.version == 2 and second.tone is Tone.formal
