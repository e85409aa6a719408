"""build_services(settings, **overrides): the one place where the database and connectors are chosen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from core.auth.passwords import set_rounds as set_password_rounds
from core.config import Settings
from core.db import make_engine, make_session_factory, utcnow
from core.integrations.base import LanguageModel
from core.uow import UnitOfWork


@dataclass
class Services:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Any]
    clock: Callable[[], datetime] = utcnow
    connectors: dict[str, object] = field(default_factory=dict)
    llm: LanguageModel = field(default_factory=lambda: make_language_model(None))

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)

    def active_connectors(self) -> dict[str, str]:
        """Which implementation serves each concern, for the dashboard's status panel."""
        described = dict(self.settings.describe())
        for name, connector in self.connectors.items():
            described[name] = getattr(connector, "label", type(connector).__name__)
        return described

    def dispose(self) -> None:
        self.engine.dispose()


def build_services(settings: Settings, *, engine: Engine | None = None, **connectors: object) -> Services:
    set_password_rounds(settings.effective_bcrypt_rounds)
    engine = engine or make_engine(settings)
    given = connectors.pop("llm", None)
    for name, make in (("hubspot", make_crm), ("alerts", make_alert_channel), ("identity", make_identity_provider),
                       ("transcriber", make_transcriber)):
        if name not in connectors and (made := make(settings)) is not None:
            connectors[name] = made
    llm: LanguageModel = given if isinstance(given, LanguageModel) else make_language_model(settings)
    return Services(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        connectors={"llm": llm, **connectors},
        llm=llm,
    )


def make_language_model(settings: Settings | None) -> LanguageModel:
    """The configured OpenAI-compatible endpoint, else the offline composer (the embedded default)."""
    from core.ai.offline import OfflineComposer

    if settings is None or not (settings.openai_api_key or settings.openai_base_url):
        return OfflineComposer()
    from core.ai.schemas import Purpose
    from core.integrations.llm import OpenAICompatibleModel

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
    return OpenAICompatibleModel(
        base_url=settings.openai_base_url, api_key=key, timeout=settings.openai_timeout_seconds,
        max_attempts=settings.openai_max_attempts, max_connections=settings.ai_concurrency,
        models={Purpose.drafting: settings.openai_model_drafting, Purpose.analysis: settings.openai_model_analysis,
                Purpose.classification: settings.openai_model_classification})


def make_transcriber(settings: Settings) -> object | None:
    """Audio transcription through the OpenAI-compatible endpoint when one is configured; else none (offline)."""
    if not (settings.openai_api_key or settings.openai_base_url):
        return None
    from core.integrations.transcription import OpenAITranscriber

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
    return OpenAITranscriber(base_url=settings.openai_base_url, api_key=key,
                             model=settings.openai_model_transcription, timeout=settings.openai_timeout_seconds,
                             max_attempts=settings.openai_max_attempts)


def make_crm(settings: Settings) -> object | None:
    """HubSpot when HUBSPOT_ACCESS_TOKEN is set; otherwise the CRM is not connected (the embedded default)."""
    if settings.hubspot_access_token is None:
        return None
    from core.integrations.hubspot import HubSpotConnector

    return HubSpotConnector(settings.hubspot_access_token.get_secret_value(), api_base=settings.hubspot_api_base)


def make_identity_provider(settings: Settings) -> object | None:
    """Google sign-in (OpenID Connect) when OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are set; else passwords only."""
    from core.auth.oidc import make_identity_provider as make

    return make(settings)


def make_alert_channel(settings: Settings) -> object | None:
    """Slack incoming webhook when SLACK_WEBHOOK_URL is set; failed jobs always show on the dashboard."""
    if settings.slack_webhook_url is None:
        return None
    from core.integrations.slack import SlackWebhook

    return SlackWebhook(settings.slack_webhook_url.get_secret_value())
