"""build_services(settings, **overrides): the one place where the database and connectors are chosen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from core.config import Settings
from core.db import make_engine, make_session_factory, utcnow
from core.uow import UnitOfWork


@dataclass
class Services:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Any]
    clock: Callable[[], datetime] = utcnow
    connectors: dict[str, object] = field(default_factory=dict)

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
    engine = engine or make_engine(settings)
    return Services(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        connectors=dict(connectors),
    )
