"""Voice Training page: samples in, ✅/❌ per source, the analysis and chart, profiles created then versioned."""

from __future__ import annotations

from core.voice import service as voice_service

PAGE = "pages/Voice_Training.py"
CASUAL = ("Hey Sam,\n\nI'm gonna keep this short. We've got a cool idea for your team and I'd love to show you. "
          "It's quick, I promise!\n\nCheers,\nRiley\n\nHey Jo,\n\nThanks for the chat! We're super keen to help "
          "and I'll send the deck today. Don't hesitate to ping me.\n\nCheers,\nRiley")
EML = (b"From: riley@example.com\r\nTo: sam@example.com\r\nSubject: Intro\r\nContent-Type: text/plain\r\n\r\n"
       b"Hi Sam,\r\n\r\nIt was great to meet you at the conference. I'd like to send over the notes.\r\n\r\n"
       b"Best,\r\nRiley\r\n")


def train(at, name, *, text=CASUAL, videos="", files=()):
    at.text_input(key="voice_profile_name").input(name)
    at.text_area(key="voice_text").input(text)
    at.text_area(key="voice_videos").input(videos)
    for file_name, content in files:
        at.file_uploader(key="voice_files").upload(file_name, content, "text/plain")
    return at.button(key="voice_analyse").click().run()


def test_pasted_text_and_an_uploaded_email_are_analysed_with_a_line_per_source(demo_services, open_page, text_of):
    at = train(open_page(PAGE), "Riley casual", files=[("intro.eml", EML)])

    text = text_of(at)
    assert "✅ pasted text 1:" in text and "✅ intro.eml:" in text
    assert "From: riley@example.com" not in text  # the .eml headers are not a writing sample
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Tone"] == "casual" and float(metrics["Formality"]) <= 0.35
    assert "**Sign-offs:** Cheers" in text
    assert at.get("plotly_chart")


def test_a_bad_video_fails_on_its_own_line_and_the_rest_is_still_analysed(demo_services, open_page, text_of):
    at = train(open_page(PAGE), "Riley casual", videos="https://example.com/not-a-video")

    text = text_of(at)
    assert "❌ https://example.com/not-a-video: not a YouTube video URL" in text
    assert "✅ pasted text 1:" in text and "Analysis" in text


def test_saving_creates_the_profile_then_training_again_adds_a_version(demo_services, demo_actor, open_page,
                                                                        text_of, table):
    at = train(open_page(PAGE), "Riley casual")
    at.button(key="voice_save_button").click().run()
    assert "Voice profile Riley casual saved as version 1." in text_of(at)

    at = train(at, "Riley casual", text=CASUAL + "\n\nHey Max,\n\nQuick one: we're around next week if you're free.")
    assert at.button(key="voice_save_button").label == "Save as version 2 of Riley casual"
    at.button(key="voice_save_button").click().run()
    assert "saved as version 2." in text_of(at)

    saved = next(p for p in voice_service.list_voice_profiles(demo_services.uow(), actor=demo_actor)
                 if p.name == "Riley casual")
    assert saved.version == 2
    at.selectbox(key="voice_pick").select(saved.id).run()
    versions = table(at, "saved")
    assert list(versions["version"]) == [2, 1]
    assert saved.prompt_context in [c.value for c in at.code]


def test_training_without_any_sample_says_what_is_missing(demo_services, open_page, text_of):
    at = train(open_page(PAGE), "Empty", text="")
    assert "Paste some text, upload a file or give a YouTube URL." in text_of(at)
