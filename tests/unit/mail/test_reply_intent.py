"""Reply intent: the offline classifier's accuracy on labelled replies, and the model when one is configured."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from core.ai.schemas import Purpose
from core.integrations.llm import OpenAICompatibleModel
from core.mail.intent import ReplyIntent, classify_offline, classify_reply_intent
from tests.fakes.openai_server import Reply, running_openai

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "reply_intents.jsonl"
ACCURACY_FLOOR = 0.85


def test_offline_classifier_accuracy_on_the_labelled_replies() -> None:
    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 40 and {r["lang"] for r in rows} >= {"en", "de", "es", "fr"}
    wrong = [(r["intent"], classify_offline(r["text"]).value, r["text"]) for r in rows
             if classify_offline(r["text"]).value != r["intent"]]
    accuracy = 1 - len(wrong) / len(rows)
    print(f"\noffline reply-intent accuracy: {accuracy:.3f} ({len(rows) - len(wrong)}/{len(rows)}); "
          f"labels {dict(Counter(r['intent'] for r in rows))}; misses {wrong}")
    assert accuracy >= ACCURACY_FLOOR


def test_not_interested_wins_over_the_word_interested() -> None:
    assert classify_offline("We are not interested, thanks.") is ReplyIntent.not_interested


def test_configured_model_decides_the_intent() -> None:
    with running_openai() as server:
        server.queue(Reply(content={"intent": "referral"}))
        model = OpenAICompatibleModel(base_url=server.base_url, api_key="sk-test", timeout=2.0, max_attempts=1,
                                      models={p: "gpt-4o-mini" for p in Purpose})
        assert classify_reply_intent("Talk to Maria.", llm=model) == (ReplyIntent.referral, "model")
        assert "Talk to Maria." in server.user_prompts()[0]


def test_failing_model_falls_back_to_the_offline_rules() -> None:
    with running_openai() as server:
        server.queue(Reply(status=400, error_type="invalid_request_error", error_message="bad"))
        model = OpenAICompatibleModel(base_url=server.base_url, api_key="sk-test", timeout=2.0, max_attempts=1,
                                      models={p: "gpt-4o-mini" for p in Purpose})
        assert classify_reply_intent("Please remove me.", llm=model) == (ReplyIntent.unsubscribe_request,
                                                                          "offline")
