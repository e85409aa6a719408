from __future__ import annotations

import stat
from pathlib import Path

import pytest

from core.config import Environment, LogFormat, Settings, load_settings
from core.errors import ConfigError

LONG_SECRET = "s" * 40


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No variable from the developer's shell or CI (DATABASE_URL, REDIS_URL …) leaks into these tests."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
        monkeypatch.delenv(f"{name.upper()}_FILE", raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_are_embedded_under_data() -> None:
    settings = load_settings(_env_file=None)
    assert settings.environment is Environment.development
    assert settings.data_dir == Path("./data")
    assert settings.effective_database_url == f"sqlite:///{Path('data/sales_agent.db').resolve()}"
    assert settings.is_sqlite and settings.is_embedded
    assert settings.redis_url is None
    assert settings.huey_immediate is False
    assert settings.log_level == "INFO"
    assert settings.log_format is LogFormat.auto and not settings.json_logs


def test_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATA_DIR", "/srv/sales")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/1")
    settings = load_settings(_env_file=None)
    assert settings.data_dir == Path("/srv/sales")
    assert settings.log_level == "DEBUG"
    assert settings.redis_url == "redis://cache:6379/1"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LOG_LEVEL", "LOUD"),
        ("DASHBOARD_PORT", "99999"),
        ("PUBLIC_PORT", "0"),
        ("DATABASE_URL", "mysql://x"),
        ("REDIS_URL", "http://x"),
        ("PUBLIC_BASE_URL", "ftp://example.com"),
        ("ENVIRONMENT", "staging"),
    ],
)
def test_invalid_value_stops_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as excinfo:
        load_settings(_env_file=None)
    assert variable in str(excinfo.value)


def test_postgres_urls_get_the_psycopg_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db:5432/sales")
    settings = load_settings(_env_file=None)
    assert settings.effective_database_url == "postgresql+psycopg://app@db:5432/sales"
    assert not settings.is_sqlite


def test_secret_key_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(LONG_SECRET + "\n")
    monkeypatch.setenv("SECRET_KEY_FILE", str(secret_file))
    settings = load_settings(_env_file=None)
    assert settings.effective_secret_key == LONG_SECRET


def test_unreadable_secret_file_names_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="SECRET_KEY_FILE"):
        load_settings(_env_file=None)


def test_secret_key_is_masked_in_repr_and_str() -> None:
    settings = load_settings(_env_file=None, secret_key=LONG_SECRET)
    assert LONG_SECRET not in repr(settings)
    assert LONG_SECRET not in str(settings)
    assert "secret_key" in repr(settings)


def test_passwords_in_urls_are_masked_in_repr_and_str() -> None:
    settings = load_settings(_env_file=None, database_url="postgresql://app:hunter2@db/sales",
                             redis_url="redis://:hunter3@cache:6379/0")
    for text in (repr(settings), str(settings)):
        assert "hunter2" not in text
        assert "hunter3" not in text


def test_production_requires_a_long_secret_key() -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings(_env_file=None, environment="production", database_url="postgresql://db/sales",
                      secret_key="short")


def test_production_requires_a_secret_key() -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings(_env_file=None, environment="production", database_url="postgresql://db/sales")


def test_production_requires_database_url() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_settings(_env_file=None, environment="production", secret_key=LONG_SECRET)


def test_production_with_secret_and_database_starts() -> None:
    settings = load_settings(_env_file=None, environment="production", secret_key=LONG_SECRET,
                             database_url="postgresql://db/sales")
    assert settings.json_logs


def test_embedded_secret_key_is_generated_once_with_owner_only_permissions(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    key = load_settings(_env_file=None, data_dir=data_dir).effective_secret_key
    key_file = data_dir / "secret_key"
    assert len(key) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_settings(_env_file=None, data_dir=data_dir).effective_secret_key == key


def test_describe_never_contains_secrets() -> None:
    settings = load_settings(_env_file=None, secret_key=LONG_SECRET,
                             database_url="postgresql://app:hunter2@db/sales")
    described = str(settings.describe())
    assert LONG_SECRET not in described
    assert "hunter2" not in described
    assert settings.describe()["database"] == "PostgreSQL"
