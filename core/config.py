"""Settings, read from the environment once at start-up (never at import time).

Every variable may also be given as ``NAME_FILE`` pointing at a file holding the value, which is how Docker
secrets and files mounted from Vault or AWS Secrets Manager arrive.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from core.errors import ConfigError


class Environment(StrEnum):
    development = "development"
    production = "production"
    test = "test"


class LogFormat(StrEnum):
    auto = "auto"
    console = "console"
    json = "json"


class _FileValues:
    """Mixin: ``FOO_FILE=/run/secrets/foo`` stands in for ``FOO`` (Docker secrets, Vault, AWS mounts)."""

    settings_cls: type[BaseSettings]
    env_vars: Mapping[str, str | None]

    def with_file_values(self, data: dict[str, Any]) -> dict[str, Any]:
        for name in self.settings_cls.model_fields:
            path = self.env_vars.get(f"{name}_file")
            if path and name not in data:
                try:
                    data[name] = Path(path).read_text(encoding="utf-8").strip()
                except OSError as exc:
                    raise ConfigError(f"{name.upper()}_FILE: cannot read {path}: {exc.strerror}") from exc
        return data


class _FileAwareEnvSource(_FileValues, EnvSettingsSource):
    def __call__(self) -> dict[str, Any]:
        return self.with_file_values(super().__call__())


class _FileAwareDotEnvSource(_FileValues, DotEnvSettingsSource):
    def __call__(self) -> dict[str, Any]:
        return self.with_file_values(super().__call__())


class Settings(BaseSettings):
    """Configuration of every process. See .env.example for the meaning of each variable."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Environment = Environment.development
    data_dir: Path = Path("./data")
    database_url: str | None = None
    redis_url: str | None = None
    secret_key: SecretStr | None = None
    public_base_url: str = "http://127.0.0.1:8502"
    dashboard_port: int = Field(default=8501, ge=1, le=65535)
    public_host: str = "127.0.0.1"
    public_port: int = Field(default=8502, ge=1, le=65535)
    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.auto
    huey_immediate: bool = False
    db_echo: bool = False
    # Sending and tracking (issue 6)
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: str = "starttls"
    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    gmail_api_base: str = "https://gmail.googleapis.com/"
    gmail_push_audience: str | None = None
    gmail_push_service_account: str | None = None
    gmail_push_jwks_url: str = "https://www.googleapis.com/oauth2/v3/certs"
    gmail_push_topic: str | None = None
    mailbox_encryption_key: SecretStr | None = None
    send_lease_seconds: int = Field(default=120, ge=1)
    tracking_flush_seconds: float = Field(default=1.0, gt=0)
    tracking_batch_size: int = Field(default=500, ge=1)
    tracking_scanner_seconds: int = Field(default=5, ge=0)
    tracking_redis_key: str = Field(default="sales-agent:tracking-events", min_length=1)
    default_postal_address: str = ""
    # Users, login, API and audit (issue 3)
    auth_cookie_key: SecretStr | None = None
    auth_cookie_expiry_days: float = Field(default=7.0, gt=0)
    dashboard_base_url: str | None = None
    bcrypt_rounds: int | None = Field(default=None, ge=4, le=16)
    login_max_attempts: int = Field(default=5, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    login_lock_minutes: int = Field(default=15, ge=1)
    jwt_access_ttl_seconds: int = Field(default=900, ge=10)
    jwt_refresh_ttl_seconds: int = Field(default=14 * 86400, ge=60)
    api_key_rotation_grace_hours: float = Field(default=24.0, ge=0)
    api_rate_limit_default: str = "100 per minute"
    api_rate_limits: dict[str, str] = Field(default_factory=dict)
    audit_retention_days: int = Field(default=365, ge=1)
    activity_retention_days: int = Field(default=90, ge=1)
    api_rate_limit_per_address: str = "300 per minute"
    # Google sign-in, OpenID Connect (issue 3, seed 2.5)
    oidc_issuer: str = "https://accounts.google.com"
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_redirect_uri: str | None = None
    oidc_allowed_domains: str = ""
    # HubSpot as the CRM of record (issue 7)
    hubspot_access_token: SecretStr | None = None
    hubspot_client_secret: SecretStr | None = None
    hubspot_api_base: str = "https://api.hubapi.com"
    hubspot_webhooks: bool = False
    slack_webhook_url: SecretStr | None = None
    # AI drafting (issue 4)
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_model_drafting: str = "gpt-4o-mini"
    openai_model_analysis: str = "gpt-4o-mini"
    openai_model_classification: str = "gpt-4o-mini"
    openai_model_transcription: str = "whisper-1"
    openai_timeout_seconds: float = Field(default=30.0, gt=0)
    openai_max_attempts: int = Field(default=4, ge=1, le=10)
    ai_daily_token_budget: int = Field(default=200_000, ge=0)
    ai_concurrency: int = Field(default=8, ge=1, le=64)
    research_fetch_websites: bool = False
    research_fetch_max_bytes: int = Field(default=500_000, ge=1024)
    research_fetch_timeout_seconds: float = Field(default=5.0, gt=0)
    research_test_allow_hosts: list[str] = Field(default_factory=list)
    # Contact queue (issue 5)
    queue_model_concurrency: int = Field(default=4, ge=1, le=32)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if value.startswith("postgres://"):
            # Heroku-style URLs; SQLAlchemy wants an explicit driver.
            value = "postgresql+psycopg://" + value.removeprefix("postgres://")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        if not (value.startswith("sqlite") or value.startswith("postgresql+psycopg://")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        if self.environment is Environment.production:
            if self.secret_key is None or len(self.secret_key.get_secret_value()) < 32:
                raise ValueError("SECRET_KEY must be set to at least 32 characters in production")
            if self.database_url is None:
                raise ValueError("DATABASE_URL must be set in production")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        dotenv = _FileAwareDotEnvSource(
            settings_cls,
            env_file=getattr(dotenv_settings, "env_file", None),
            env_file_encoding=getattr(dotenv_settings, "env_file_encoding", None),
        )
        return (init_settings, _FileAwareEnvSource(settings_cls), dotenv)

    def __repr_args__(self) -> Any:
        # URLs may embed passwords: show them masked, like the SecretStr fields.
        for name, value in super().__repr_args__():
            if name in ("database_url", "redis_url") and isinstance(value, str):
                value = mask_url_password(value)
            yield name, value

    # Derived values -------------------------------------------------------------------------------

    @cached_property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'sales_agent.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def is_embedded(self) -> bool:
        return self.database_url is None

    @cached_property
    def effective_secret_key(self) -> str:
        """The configured key, or one generated once into the data folder for embedded runs."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        return _key_in_data_dir(self.data_dir / "secret_key")

    @cached_property
    def effective_auth_cookie_key(self) -> str:
        """The dashboard's login cookie key: configured, or generated once into the data folder (embedded)."""
        if self.auth_cookie_key is not None:
            key = self.auth_cookie_key.get_secret_value()
            if key in _SAMPLE_COOKIE_KEYS or len(key.encode("utf-8")) < 32:
                raise ConfigError("AUTH_COOKIE_KEY must be at least 32 random bytes, not a sample key")
            return key
        if not self.is_embedded and self.environment is Environment.production:
            raise ConfigError("AUTH_COOKIE_KEY must be set when DATABASE_URL is (every replica needs the same)")
        return _key_in_data_dir(self.data_dir / "auth_cookie_key")

    @property
    def effective_bcrypt_rounds(self) -> int:
        # Tests hash many passwords; the minimum work factor keeps them fast. Real runs use bcrypt's 12.
        if self.bcrypt_rounds is not None:
            return self.bcrypt_rounds
        return 4 if self.environment is Environment.test else 12

    @property
    def effective_dashboard_url(self) -> str:
        return (self.dashboard_base_url or f"http://127.0.0.1:{self.dashboard_port}").rstrip("/")

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_client_id and self.oidc_client_secret)

    @property
    def effective_oidc_redirect_uri(self) -> str:
        # The dashboard's root: Home.py's login gate finishes the sign-in from the code in the query string.
        return self.oidc_redirect_uri or f"{self.effective_dashboard_url}/"

    @property
    def oidc_allowed_domain_list(self) -> list[str]:
        return [d.strip().lower().lstrip("@") for d in self.oidc_allowed_domains.split(",") if d.strip()]

    @property
    def json_logs(self) -> bool:
        if self.log_format is LogFormat.auto:
            return self.environment is Environment.production
        return self.log_format is LogFormat.json

    def describe(self) -> dict[str, str]:
        """What is active, for the dashboard and `sales-agent info`; never contains secrets."""
        return {
            "database": "PostgreSQL" if not self.is_sqlite else "SQLite (embedded)",
            "queue": "Redis" if self.redis_url else "SQLite Huey (embedded)",
            "environment": self.environment.value,
            "public_base_url": self.public_base_url,
        }


# streamlit-authenticator's documented sample keys: anyone could forge a login cookie with them.
_SAMPLE_COOKIE_KEYS = frozenset({"some_key", "some_signature_key", "random_signature_key", "abcdef"})


def _key_in_data_dir(path: Path) -> str:
    """A random key generated once into the data folder (embedded runs) and read back afterwards."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Created 0600 from the first byte: the key is never readable by other users, even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


def mask_url_password(url: str) -> str:
    """'postgresql://u:pw@h/db' -> 'postgresql://u:***@h/db'."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user, colon, _password = credentials.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}@{host}"


def load_settings(**overrides: Any) -> Settings:
    """Build Settings, turning validation errors into one message naming each bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "_".join(str(part) for part in error["loc"]).upper() or "SETTINGS"
            problems.append(f"{name}: {error['msg']}")
        raise ConfigError("Invalid configuration: " + "; ".join(problems)) from None
